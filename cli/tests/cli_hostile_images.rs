//! Hostile image files given to `shmframe publish`: headers that claim huge
//! images, a GIF of thousands of frames, misleading extensions, empty and
//! truncated files. Each gives a clear error or bounded memory, never an abort.
//! (cli_bad_input.rs covers text, an empty PNG, a truncated PNG and a PNG
//! header claiming 100000x100000 without a memory bound.)

mod cli_support;

use cli_support::Background;
use cli_support::{latest_frame, run_command, shmframe, stream_exists, text, unique_name};
use rustix::process::Signal;
use std::io::Cursor;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Address space given to a publisher that must refuse a file before
/// decoding it: far below any of the claimed images, enough for the tool.
const REFUSER_ADDRESS_SPACE: u64 = 512 << 20;
/// Peak resident memory allowed to a publisher streaming a long GIF; holding
/// its frames would take 768 MB.
const STREAMER_MAX_RSS_KB: u64 = 200 << 10;
/// Longest the long GIF may take to stream (a debug build on a loaded machine).
const STREAM_TIMEOUT: Duration = Duration::from_secs(240);

/// The command `shmframe publish --name NAME FILE`.
fn publish_command(name: &str, file: &Path) -> Command {
    let mut command = shmframe();
    command.args([
        "publish",
        "--name",
        name,
        file.to_str().expect("utf-8 path"),
    ]);
    command
}

/// Runs `publish --name NAME FILE` (bounded in time) to its end.
fn publish(name: &str, file: &Path) -> Output {
    run_command(&mut publish_command(name, file), b"")
}

/// `publish` with the publisher's address space capped at `limit` bytes.
fn publish_capped(name: &str, file: &Path, limit: u64) -> Output {
    let mut command = publish_command(name, file);
    let cap = rustix::process::Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    // SAFETY: between fork and exec the closure only makes the setrlimit
    // system call, which allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || {
            rustix::process::setrlimit(rustix::process::Resource::As, cap)
                .map_err(std::io::Error::from)
        });
    }
    run_command(&mut command, b"")
}

/// Asserts `output` is a clean failure (exit 1) naming `file` and containing `needle`, and that no stream is left.
fn assert_refused(name: &str, file: &Path, output: &Output, needle: &str) {
    let stderr = text(&output.stderr);
    let shown = file.display().to_string();
    assert_eq!(output.status.code(), Some(1), "{shown}: {stderr}");
    assert!(stderr.contains(&shown), "{shown} not named in: {stderr}");
    assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stream_exists(name), "{shown}: a stream was left behind");
}

/// A 24-bit BMP whose headers claim `width` x `height` pixels, with no pixel data.
fn bmp_claiming(width: i32, height: i32) -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&54u32.to_le_bytes()); // file size (a lie is fine)
    bmp.extend_from_slice(&[0; 4]); // reserved
    bmp.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
    bmp.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    bmp.extend_from_slice(&width.to_le_bytes());
    bmp.extend_from_slice(&height.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes()); // planes
    bmp.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
    bmp.extend_from_slice(&[0; 24]); // no compression, sizes, resolution, palette
    bmp
}

/// The start of a GIF: a `width` x `height` screen with a two-colour palette.
fn gif_screen(width: u16, height: u16) -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&width.to_le_bytes());
    gif.extend_from_slice(&height.to_le_bytes());
    gif.extend_from_slice(&[0x80, 0, 0]); // global palette of 2 colours
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    gif
}

/// Appends a 1x1 frame at (`x`, `y`) of colour `index` (0 or 1), shown for 10 ms.
fn gif_push_pixel_frame(gif: &mut Vec<u8>, x: u16, y: u16, index: u8) {
    gif.extend_from_slice(&[0x21, 0xF9, 4, 0, 1, 0, 0, 0]); // graphic control: 10 ms
    gif.push(0x2C); // image descriptor
    gif.extend_from_slice(&x.to_le_bytes());
    gif.extend_from_slice(&y.to_le_bytes());
    gif.extend_from_slice(&1u16.to_le_bytes());
    gif.extend_from_slice(&1u16.to_le_bytes());
    gif.push(0);
    // LZW, minimum code size 2: clear (4), the pixel, end (5), in 3-bit codes.
    let codes = 4u16 | (u16::from(index) << 3) | (5 << 6);
    gif.extend_from_slice(&[2, 2, codes as u8, (codes >> 8) as u8, 0]);
}

/// Encodes `image` as `format`.
fn encode(image: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .expect("encode");
    bytes
}

/// A small test picture: a 40x30 gradient.
fn picture() -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 8) as u8, 99])
    }))
}

/// Peak resident memory of process `pid`, in kB (VmHWM).
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn headers_claiming_huge_images_are_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("png", cli_support::png_header_claiming(100_000, 100_000)),
        ("bmp", bmp_claiming(100_000, 100_000)),
        ("bmp-top-down", bmp_claiming(100_000, -100_000)),
        ("gif", {
            let mut gif = gif_screen(65_535, 65_535);
            gif_push_pixel_frame(&mut gif, 0, 0, 1);
            gif.push(0x3B);
            gif
        }),
    ];
    for (tag, bytes) in cases {
        let file = dir.path().join(format!("huge-{tag}.img"));
        std::fs::write(&file, bytes).unwrap();
        let name = unique_name(&format!("huge-{tag}"));
        let output = publish_capped(&name, &file, REFUSER_ADDRESS_SPACE);
        // An attempt to allocate the claimed image would abort under the cap.
        assert_refused(&name, &file, &output, "limit");
    }
}

#[test]
fn a_gif_with_thousands_of_frames_streams_in_bounded_memory() {
    const FRAMES: u16 = 3000;
    let dir = tempfile::tempdir().unwrap();
    // A 256x256 screen: every decoded frame is 256 KiB of RGBA, 768 MB in all,
    // from a file of about 60 KB.
    let mut gif = gif_screen(256, 256);
    for n in 0..FRAMES {
        gif_push_pixel_frame(&mut gif, n % 256, n / 256, (n % 2) as u8);
    }
    gif.push(0x3B);
    let file = dir.path().join("long.gif");
    std::fs::write(&file, &gif).unwrap();

    let name = unique_name("long-gif");
    let mut publisher = Background::start(
        &[
            "publish",
            "--name",
            &name,
            "--fps",
            "10000",
            file.to_str().unwrap(),
        ],
        &name,
    );
    let mut reader = publisher.reader();
    let (first, _) = latest_frame(&mut reader);
    assert_eq!((first.meta.width, first.meta.height), (256, 256));
    // Follow the stream (bounded) to its last frame; the publisher then holds it until stopped.
    let deadline = Instant::now() + STREAM_TIMEOUT;
    let mut pixels = Vec::new();
    let mut latest = first.number;
    while latest < u64::from(FRAMES) {
        if let Some(status) = publisher.child.try_wait().expect("try_wait") {
            panic!("publisher exited with {status}: {}", publisher.stderr());
        }
        assert!(
            Instant::now() < deadline,
            "only {latest} of {FRAMES} frames published: {}",
            publisher.stderr()
        );
        if let Some(frame) = reader
            .wait_latest(&mut pixels, Duration::from_secs(1))
            .expect("read the stream")
        {
            latest = frame.number;
        }
    }
    let peak = peak_rss_kb(publisher.pid());
    assert!(
        peak < STREAMER_MAX_RSS_KB,
        "the publisher peaked at {peak} kB of resident memory"
    );
    publisher.signal(Signal::TERM);
    let status = publisher.wait();
    assert!(status.success(), "{status}: {}", publisher.stderr());
    assert!(!publisher.stderr().contains("panicked"));
}

#[test]
fn the_content_decides_the_format_not_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let picture = picture();
    let cases = [
        ("png-as.jpg", image::ImageFormat::Png),
        ("jpeg-as.png", image::ImageFormat::Jpeg),
        ("bmp-as.gif", image::ImageFormat::Bmp),
        ("gif-as.bmp", image::ImageFormat::Gif),
        ("png-without-extension", image::ImageFormat::Png),
    ];
    for (file_name, format) in cases {
        let file = dir.path().join(file_name);
        std::fs::write(&file, encode(&picture, format)).unwrap();
        let name = unique_name(file_name);
        let mut publisher =
            Background::start(&["publish", "--name", &name, file.to_str().unwrap()], &name);
        let mut reader = publisher.reader();
        let (frame, pixels) = latest_frame(&mut reader);
        assert_eq!(
            (frame.meta.width, frame.meta.height),
            (40, 30),
            "{file_name}"
        );
        assert_eq!(pixels.len(), frame.meta.checked_len().unwrap());
        drop(reader);
        publisher.signal(Signal::TERM);
        let status = publisher.wait();
        assert!(status.success(), "{file_name}: {}", publisher.stderr());
    }
}

#[test]
fn empty_and_truncated_files_of_every_format_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let picture = picture();
    let mut animation = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut animation);
        for n in 0..3u8 {
            let mut frame = picture.to_rgba8();
            frame.put_pixel(u32::from(n), 0, image::Rgba([255, 0, 0, 255]));
            encoder
                .encode_frame(image::Frame::new(frame))
                .expect("encode GIF frame");
        }
    }
    let jpeg = encode(&picture, image::ImageFormat::Jpeg);
    let bmp = encode(&picture, image::ImageFormat::Bmp);
    let gif_header = gif_screen(40, 30);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.gif", Vec::new(), "empty"),
        ("empty.jpg", Vec::new(), "empty"),
        ("empty.bmp", Vec::new(), "empty"),
        (
            "half.jpg",
            jpeg[..jpeg.len() / 2].to_vec(),
            "not a valid Jpeg",
        ),
        ("header.jpg", jpeg[..20].to_vec(), "not a valid Jpeg"),
        ("half.bmp", bmp[..bmp.len() / 2].to_vec(), "not a valid Bmp"),
        ("header.bmp", bmp[..30].to_vec(), "not a valid Bmp"),
        ("screen-only.gif", gif_header.clone(), "not a valid Gif"),
        (
            "no-frames.gif",
            [gif_header, vec![0x3B]].concat(),
            "not a valid Gif",
        ),
        // Cut inside its third frame: two frames may be published first,
        // then the error ends the publisher and removes the stream.
        (
            "two-thirds.gif",
            animation[..animation.len() * 5 / 6].to_vec(),
            "not a valid Gif",
        ),
        ("signature.gif", b"GIF89a".to_vec(), "not a valid Gif"),
    ];
    for (file_name, bytes, needle) in cases {
        let file = dir.path().join(file_name);
        std::fs::write(&file, bytes).unwrap();
        let name = unique_name(file_name);
        let output = publish(&name, &file);
        assert_refused(&name, &file, &output, needle);
    }
}

/// The GIF builder above must make the frames it claims, or the long-GIF test proves nothing.
#[test]
fn crafted_gif_frames_decode_as_intended() {
    let mut gif = gif_screen(3, 2);
    gif_push_pixel_frame(&mut gif, 2, 1, 1);
    gif_push_pixel_frame(&mut gif, 0, 0, 1);
    gif.push(0x3B);
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(gif)).unwrap();
    let frames: Vec<_> = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 2);
    let last = frames[1].buffer();
    assert_eq!(last.dimensions(), (3, 2));
    assert_eq!(last.get_pixel(2, 1).0, [255, 255, 255, 255]);
    assert_eq!(last.get_pixel(0, 0).0, [255, 255, 255, 255]);
    assert_eq!(last.get_pixel(1, 0).0[..3], [0, 0, 0]);
}
