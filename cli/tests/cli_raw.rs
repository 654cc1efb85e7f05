//! `shmframe publish --raw`: frames from stdin, read back in order.

mod cli_support;

use cli_support::{
    next_frame, snapshot, stream_exists, unique_name, wait_bounded, Background, KillOnDrop, TIMEOUT,
};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// Deterministic bytes of raw frame `number`.
fn raw_frame(number: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + number * 31) as u8).collect()
}

#[test]
fn stdin_frames_arrive_in_order_and_a_short_tail_is_reported() {
    let name = unique_name("raw");
    let args = [
        "publish", "--name", &name, "--raw", "4x3", "--format", "rgba", "--slots", "16",
    ];
    let mut publisher = Background::start_piped(&args, &name);
    let mut reader = publisher.reader();
    let len = 4 * 3 * 4;
    let mut stdin = publisher.stdin();
    for number in 0..5 {
        stdin.write_all(&raw_frame(number, len)).unwrap();
    }
    stdin.write_all(&[1, 2, 3]).unwrap();
    drop(stdin);
    for number in 0..5 {
        let (frame, pixels) = next_frame(&mut reader);
        assert_eq!(frame.number, number as u64 + 1);
        assert_eq!(frame.missed, 0);
        assert_eq!((frame.meta.width, frame.meta.height), (4, 3));
        assert_eq!(frame.meta.format, shmframe::PixelFormat::Rgba8);
        assert_eq!(pixels, raw_frame(number, len), "frame {number}");
    }
    let status = publisher.wait();
    assert!(status.success(), "exit at end of stdin: {status}");
    let stderr = publisher.stderr();
    assert!(
        stderr.contains("3 bytes into a frame of 48 bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("not published"), "{stderr}");
    assert_eq!(
        reader.status().frames_published,
        5,
        "the partial frame was not published"
    );
    assert!(
        !stream_exists(&name),
        "the stream is removed when stdin ends"
    );
}

#[test]
fn bgra_and_gray_snapshots_have_true_colours() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], image::DynamicImage); 2] = [
        (
            "bgra",
            &[1, 2, 3, 4, 5, 6, 7, 8],
            image::DynamicImage::ImageRgba8(
                image::RgbaImage::from_raw(2, 1, vec![3, 2, 1, 4, 7, 6, 5, 8]).unwrap(),
            ),
        ),
        (
            "gray",
            &[10, 200],
            image::DynamicImage::ImageLuma8(
                image::GrayImage::from_raw(2, 1, vec![10, 200]).unwrap(),
            ),
        ),
    ];
    for (format, input, expected) in cases {
        let name = unique_name(&format!("raw-{format}"));
        let args = [
            "publish", "--name", &name, "--raw", "2x1", "--format", format, "--hold",
        ];
        let mut publisher = Background::start_piped(&args, &name);
        publisher.reader();
        publisher.stdin().write_all(input).unwrap();
        let saved = snapshot(&name, &dir.path().join(format!("{format}.png")));
        assert_eq!(saved, expected, "{format}");
        assert!(
            publisher.child.try_wait().unwrap().is_none(),
            "--hold keeps the stream after stdin ends"
        );
    }
}

#[test]
fn ffmpeg_rawvideo_can_be_piped_in() {
    let probe = Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(probe, Ok(status) if status.success()) {
        eprintln!("skipped: ffmpeg is not on PATH (CI installs it)");
        return;
    }
    const FRAMES: usize = 30;
    const LEN: usize = 320 * 240 * 3;
    let name = unique_name("ffmpeg");
    let args = [
        "publish", "--name", &name, "--raw", "320x240", "--format", "rgb24", "--slots", "64",
    ];
    let mut publisher = Background::start_piped(&args, &name);
    // Attach before any frame is written, so every frame is read in order.
    let mut reader = publisher.reader();

    let ffmpeg_args = [
        "-nostdin",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30",
        "-frames:v",
        "30",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ];
    let mut ffmpeg = KillOnDrop(
        Command::new("ffmpeg")
            .args(ffmpeg_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ffmpeg"),
    );
    let mut video = ffmpeg.0.stdout.take().unwrap();
    let mut stdin = publisher.stdin();
    // Tee ffmpeg's output into the publisher, keeping a copy to compare against.
    let tee = std::thread::spawn(move || {
        let mut all = Vec::new();
        video.read_to_end(&mut all).unwrap();
        let _ = stdin.write_all(&all);
        all
    });
    let mut frames = Vec::new();
    for _ in 0..FRAMES {
        frames.push(next_frame(&mut reader));
    }
    let video = tee.join().unwrap();
    let status = wait_bounded(&mut ffmpeg.0, TIMEOUT).expect("ffmpeg exits");
    let mut ffmpeg_errors = String::new();
    let _ = ffmpeg
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut ffmpeg_errors);
    assert!(status.success(), "ffmpeg failed: {ffmpeg_errors}");
    assert_eq!(video.len(), FRAMES * LEN);
    for (i, (frame, pixels)) in frames.iter().enumerate() {
        assert_eq!(
            (frame.number, frame.missed, frame.len),
            (i as u64 + 1, 0, LEN)
        );
        assert!(
            pixels[..] == video[i * LEN..(i + 1) * LEN],
            "frame {i} differs from ffmpeg's"
        );
    }
    assert_ne!(frames[0].1, frames[FRAMES - 1].1, "testsrc moves");
    let status = publisher.wait();
    assert!(
        status.success(),
        "publisher: {status}; {}",
        publisher.stderr()
    );
}
