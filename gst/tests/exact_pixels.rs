//! Exact pixels through real pipelines: videotestsrc into shmframesink, read
//! back by a shmframe reader and by `shmframe snapshot`; and an image
//! published by `shmframe publish` produced by shmframesrc.

mod support;

use support::{Background, Pipeline};

/// What `videotestsrc pattern=colors` draws at 320x240 RGBA (its first frame; the pattern is still).
fn reference_frame() -> Vec<u8> {
    let pipeline = Pipeline::parse(
        "videotestsrc pattern=colors num-buffers=1 \
         ! video/x-raw,format=RGBA,width=320,height=240 ! appsink name=out",
    );
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    let sample = support::pull(&sink);
    let buffer = sample.buffer().expect("a buffer");
    let map = buffer.map_readable().expect("readable");
    assert_eq!(map.len(), 320 * 240 * 4, "RGBA 320x240 is packed");
    map.to_vec()
}

#[test]
fn videotestsrc_pixels_reach_a_reader_and_snapshot_exactly() {
    support::init();
    let name = support::unique_name("testsrc");
    let writer = Background::spawn(&mut support::gst_launch(&[
        "-e",
        "videotestsrc",
        "is-live=true",
        "pattern=colors",
        "!",
        "video/x-raw,format=RGBA,width=320,height=240,framerate=30/1",
        "!",
        "shmframesink",
        &format!("stream={name}"),
    ]));
    let expected = reference_frame();

    let mut reader = support::open_reader(&name);
    let mut pixels = Vec::new();
    let frame = reader
        .wait_latest(&mut pixels, support::TIMEOUT)
        .expect("a readable stream")
        .expect("a frame within the timeout");
    assert_eq!(
        frame.meta,
        shmframe::FrameMeta::packed(320, 240, shmframe::PixelFormat::Rgba8)
    );
    assert!(
        pixels == expected,
        "the reader got other pixels than videotestsrc drew"
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let png = dir.path().join("snapshot.png");
    let output = support::run(support::shmframe().args([
        "snapshot",
        "--name",
        &name,
        "--wait",
        "10",
        png.to_str().expect("a UTF-8 path"),
    ]));
    assert!(
        output.status.success(),
        "snapshot failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = image::open(&png).expect("a PNG").to_rgba8();
    assert_eq!(image.dimensions(), (320, 240));
    assert!(
        image.as_raw() == &expected,
        "the snapshot has other pixels than videotestsrc drew"
    );

    // EOS (gst-launch -e on SIGINT) closes the stream and removes its name.
    let (status, stderr) = writer.stop();
    assert!(status.success(), "gst-launch failed: {stderr}");
    assert!(
        !shmframe::segment_path(&name)
            .expect("a valid name")
            .exists(),
        "the stream outlived its sink's EOS"
    );
    assert!(!reader.writer_alive());
}

/// An image with every byte distinct enough to catch a swapped channel or row.
fn test_image(width: u32, height: u32, channels: u8) -> Vec<u8> {
    (0..width * height * u32::from(channels))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Publishes `path` with `shmframe publish` and checks that shmframesrc produces exactly `rows`.
fn check_published_image(path: &std::path::Path, format: &str, rows: &[Vec<u8>]) {
    let name = support::unique_name("publish");
    let publisher = Background::spawn(support::shmframe().args([
        "publish",
        "--name",
        &name,
        path.to_str().expect("a UTF-8 path"),
    ]));
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc stream={name} num-buffers=1 ! appsink name=out"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    let sample = support::pull(&sink);
    let caps = sample.caps().expect("caps");
    let info = gst_video::VideoInfo::from_caps(caps).expect("raw video caps");
    assert_eq!(info.format().to_str(), format, "caps {caps}");
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(
        sample.buffer().expect("a buffer"),
        &info,
    )
    .expect("a mappable frame");
    let got = support::plane_rows(&frame);
    assert_eq!(got.len(), 1);
    assert!(
        got[0] == rows,
        "shmframesrc produced other pixels than the image has"
    );
    pipeline.wait_eos();
    drop(frame);
    pipeline.stop();
    let (status, stderr) = publisher.stop();
    assert!(status.success(), "shmframe publish failed: {stderr}");
}

#[test]
fn a_published_image_comes_out_of_shmframesrc_exactly() {
    support::init();
    let dir = tempfile::tempdir().expect("a temporary directory");
    // RGBA at a width GStreamer packs as shmframe does, and RGB at one whose
    // rows GStreamer pads to 4 bytes (the source repacks them).
    for (width, height, channels, format) in [(64, 48, 4u8, "RGBA"), (63, 47, 3, "RGB")] {
        let pixels = test_image(width, height, channels);
        let path = dir.path().join(format!("{format}.png"));
        let color = if channels == 4 {
            image::ExtendedColorType::Rgba8
        } else {
            image::ExtendedColorType::Rgb8
        };
        image::save_buffer(&path, &pixels, width, height, color).expect("a PNG");
        let row_bytes = (width * u32::from(channels)) as usize;
        let rows: Vec<Vec<u8>> = pixels.chunks(row_bytes).map(<[u8]>::to_vec).collect();
        check_published_image(&path, format, &rows);
    }
}
