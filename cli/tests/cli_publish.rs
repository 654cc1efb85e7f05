//! `shmframe publish` on image files, read back from another process.

mod cli_support;

use cli_support::{latest_frame, next_frame, snapshot, stream_exists, unique_name, Background};
use image::codecs::gif::{GifDecoder, GifEncoder};
use image::{AnimationDecoder, Delay, DynamicImage, Frame, GrayImage, RgbImage, RgbaImage};
use rustix::process::Signal;
use shmframe::{FrameInfo, PixelFormat};
use std::io::BufReader;
use std::path::Path;

/// An image whose every byte depends on its position, so any shuffle shows.
fn rgba(width: u32, height: u32, seed: u8) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        let v = (x * 37 + y * 11) as u8;
        image::Rgba([
            v.wrapping_add(seed),
            v ^ 0x5a,
            seed.wrapping_mul(3),
            255 - v,
        ])
    })
}

fn rgb(width: u32, height: u32, seed: u8) -> RgbImage {
    DynamicImage::ImageRgba8(rgba(width, height, seed)).to_rgb8()
}

/// Frame pixels as an image of the format they were published in.
fn frame_image(frame: &FrameInfo, pixels: &[u8]) -> DynamicImage {
    let (w, h, bytes) = (frame.meta.width, frame.meta.height, pixels.to_vec());
    assert_eq!(
        frame.meta.stride,
        w * frame.meta.format.bytes_per_pixel(),
        "packed rows"
    );
    match frame.meta.format {
        PixelFormat::Rgba8 => DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, bytes).unwrap()),
        PixelFormat::Rgb8 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, bytes).unwrap()),
        PixelFormat::Gray8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, bytes).unwrap()),
        other => panic!("files are never published as {other}"),
    }
}

fn publish_and_snapshot(tag: &str, file: &Path, dir: &Path) -> DynamicImage {
    let name = unique_name(tag);
    let mut publisher =
        Background::start(&["publish", "--name", &name, file.to_str().unwrap()], &name);
    publisher.reader();
    let saved = snapshot(&name, &dir.join(format!("{tag}-snapshot.png")));
    drop(publisher);
    assert!(
        !stream_exists(&name),
        "the stream is removed when the publisher stops"
    );
    saved
}

#[test]
fn png_snapshots_from_another_process_match_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("png-rgba", DynamicImage::ImageRgba8(rgba(7, 5, 1))),
        ("png-rgb", DynamicImage::ImageRgb8(rgb(9, 4, 2))),
        (
            "png-gray",
            DynamicImage::ImageLuma8(DynamicImage::ImageRgba8(rgba(6, 6, 3)).to_luma8()),
        ),
    ];
    for (tag, original) in cases {
        let file = dir.path().join(format!("{tag}.png"));
        original.save(&file).unwrap();
        let saved = publish_and_snapshot(tag, &file, dir.path());
        assert_eq!(saved.color(), original.color(), "{tag}: colour type kept");
        assert_eq!(
            saved.as_bytes(),
            original.as_bytes(),
            "{tag}: pixels differ"
        );
    }
}

#[test]
fn jpeg_snapshot_matches_the_image_crates_decode() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("photo.jpg");
    DynamicImage::ImageRgb8(rgb(33, 17, 4)).save(&file).unwrap();
    let expected = image::open(&file).unwrap();
    let saved = publish_and_snapshot("jpeg", &file, dir.path());
    assert_eq!(saved.to_rgb8(), expected.to_rgb8());
}

#[test]
fn ctrl_c_removes_a_still_images_stream() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("still.png");
    rgba(4, 4, 9).save(&file).unwrap();
    let name = unique_name("ctrl-c");
    let mut publisher =
        Background::start(&["publish", "--name", &name, file.to_str().unwrap()], &name);
    let mut reader = publisher.reader();
    let (frame, pixels) = latest_frame(&mut reader);
    assert_eq!((frame.number, pixels), (1, rgba(4, 4, 9).into_raw()));
    publisher.signal(Signal::INT);
    let status = publisher.wait();
    assert!(
        status.success(),
        "exit after Ctrl-C: {status}; {}",
        publisher.stderr()
    );
    assert!(!stream_exists(&name), "the name is removed on Ctrl-C");
}

/// Reads `count` frames in order and maps each to the index of the expected
/// image it equals; a frame that matches none fails the test.
fn observe(
    reader: &mut shmframe::Reader,
    expected: &[DynamicImage],
    count: usize,
) -> Vec<(usize, u64)> {
    (0..count)
        .map(|_| {
            let (frame, pixels) = next_frame(reader);
            let got = frame_image(&frame, &pixels);
            let index = expected
                .iter()
                .position(|e| e.color() == got.color() && e.as_bytes() == got.as_bytes())
                .unwrap_or_else(|| {
                    panic!(
                        "frame {} ({:?}) matches no input image",
                        frame.number, frame.meta
                    )
                });
            (index, frame.missed)
        })
        .collect()
}

/// Checks that observed indexes follow the input order, cyclically, allowing for lapped frames.
fn assert_cyclic_order(seen: &[(usize, u64)], period: usize) {
    for pair in seen.windows(2) {
        let ((a, _), (b, missed)) = (pair[0], pair[1]);
        let expected = (a + 1 + missed as usize) % period;
        assert_eq!(b, expected, "frames out of order: {seen:?}");
    }
    for index in 0..period {
        assert!(
            seen.iter().any(|&(i, _)| i == index),
            "input {index} never seen: {seen:?}"
        );
    }
}

#[test]
fn animated_gif_frames_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anim.gif");
    let colors = [
        [255, 0, 0, 255],
        [0, 255, 0, 255],
        [0, 0, 255, 255],
        [255, 255, 255, 255],
    ];
    {
        let mut encoder = GifEncoder::new(std::fs::File::create(&file).unwrap());
        let frames = colors.iter().enumerate().map(|(i, &c)| {
            let mut image = RgbaImage::from_pixel(6, 4, image::Rgba(c));
            image.put_pixel(i as u32, 1, image::Rgba([0, 0, 0, 255]));
            Frame::from_parts(image, 0, 0, Delay::from_numer_denom_ms(40, 1))
        });
        encoder.encode_frames(frames).unwrap();
    }
    let decoder = GifDecoder::new(BufReader::new(std::fs::File::open(&file).unwrap())).unwrap();
    let expected: Vec<DynamicImage> = decoder
        .into_frames()
        .map(|f| DynamicImage::ImageRgba8(f.unwrap().into_buffer()))
        .collect();
    assert_eq!(expected.len(), 4);

    let name = unique_name("gif");
    let args = [
        "publish",
        "--name",
        &name,
        "--loop",
        "--slots",
        "32",
        file.to_str().unwrap(),
    ];
    let mut publisher = Background::start(&args, &name);
    let mut reader = publisher.reader();
    let seen = observe(&mut reader, &expected, 10);
    assert_cyclic_order(&seen, expected.len());
}

#[test]
fn directory_images_stream_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    rgba(3, 2, 5).save(images.join("a.png")).unwrap();
    rgb(5, 4, 6).save(images.join("b.bmp")).unwrap();
    rgb(16, 9, 7).save(images.join("c.jpg")).unwrap();
    std::fs::write(images.join("notes.txt"), "not an image, and skipped").unwrap();
    let expected = [
        DynamicImage::ImageRgba8(rgba(3, 2, 5)),
        DynamicImage::ImageRgb8(rgb(5, 4, 6)),
        image::open(images.join("c.jpg")).unwrap(),
    ];

    let name = unique_name("dir");
    let args = [
        "publish",
        "--name",
        &name,
        "--loop",
        "--fps",
        "25",
        "--slots",
        "32",
        images.to_str().unwrap(),
    ];
    let mut publisher = Background::start(&args, &name);
    let mut reader = publisher.reader();
    // Slots are sized for the largest image; each frame keeps its own size.
    assert!(reader.status().slot_capacity >= 16 * 9 * 3);
    let seen = observe(&mut reader, &expected, 8);
    assert_cyclic_order(&seen, expected.len());
}

#[test]
fn a_sequence_without_loop_holds_its_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("1.png");
    let last = dir.path().join("2.png");
    rgba(2, 2, 1).save(&first).unwrap();
    rgba(2, 2, 2).save(&last).unwrap();
    let name = unique_name("hold");
    let args = [
        "publish",
        "--name",
        &name,
        "--fps",
        "50",
        first.to_str().unwrap(),
        last.to_str().unwrap(),
    ];
    let mut publisher = Background::start(&args, &name);
    let mut reader = publisher.reader();
    // Wait for frame 2, then check nothing follows it and the writer stays.
    let mut pixels = Vec::new();
    let mut frame = latest_frame(&mut reader).0;
    while frame.number < 2 {
        frame = reader
            .wait_latest(&mut pixels, cli_support::TIMEOUT)
            .unwrap()
            .expect("frame 2 within the timeout");
    }
    let (frame, pixels) = latest_frame(&mut reader);
    assert_eq!((frame.number, pixels), (2, rgba(2, 2, 2).into_raw()));
    assert!(reader.writer_alive(), "the publisher holds the last frame");
    assert_eq!(reader.status().frames_published, 2);
}
