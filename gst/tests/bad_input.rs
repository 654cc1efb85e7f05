//! Missing streams, hostile segments and bad property values end in an element
//! error, never a crash or a hang; stopping a waiting source returns; EOS when
//! asked; a QoS message counts the frames an in-order source missed.

mod support;

use gst::prelude::*;
use shmframe::{FrameMeta, PixelFormat, Writer, WriterOptions};
use std::time::Duration;
use support::Pipeline;

/// Plays `description`, which must fail with an error from the shmframe element
/// whose text contains `expected`; returns the error.
fn expect_element_error(description: &str, expected: &str) -> String {
    let pipeline = Pipeline::parse(description);
    let _ = pipeline.pipeline.set_state(gst::State::Playing);
    let error = pipeline
        .error_within(support::TIMEOUT)
        .unwrap_or_else(|| panic!("`{description}` posted no error"));
    assert!(
        error.contains("shmframe") && error.contains(expected),
        "`{description}`: expected an error from the element about `{expected}`, got: {error}"
    );
    pipeline.stop();
    error
}

#[test]
fn a_missing_stream_is_an_element_error_when_not_waiting() {
    support::init();
    let name = support::unique_name("missing");
    expect_element_error(
        &format!("shmframesrc stream={name} wait-for-writer=false ! fakesink"),
        "no stream named",
    );
}

#[test]
fn bad_property_values_are_element_errors() {
    support::init();
    let name = support::unique_name("props");
    for (description, expected) in [
        (
            format!("videotestsrc ! shmframesink stream={name} slots=1"),
            "slots=1",
        ),
        (
            format!("videotestsrc ! shmframesink stream={name} slots=5000"),
            "slots=5000",
        ),
        (
            format!("videotestsrc ! shmframesink stream={name} holds=65"),
            "holds=65",
        ),
        ("videotestsrc ! shmframesink".to_string(), "no stream name"),
        (
            "videotestsrc ! shmframesink stream=../etc".to_string(),
            "invalid stream name",
        ),
        (
            "shmframesrc stream=a/b ! fakesink".to_string(),
            "invalid stream name",
        ),
        ("shmframesrc ! fakesink".to_string(), "no stream name"),
    ] {
        expect_element_error(&description, expected);
    }
    // Values outside an enumeration are refused when the pipeline is built.
    let output = support::run(&mut support::gst_launch(&[
        "videotestsrc",
        "!",
        "shmframesink",
        &format!("stream={name}"),
        "mode=777",
    ]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "gst-launch: {stderr}");
    assert!(
        stderr.contains("could not set property \"mode\""),
        "{stderr}"
    );
}

#[test]
fn hostile_segments_are_element_errors_in_a_process_that_keeps_running() {
    support::init();
    let cases: [(&str, Vec<u8>); 4] = [
        ("empty", Vec::new()),
        (
            "random",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
                .collect(),
        ),
        ("magic-only", b"SHMFRAME".to_vec()),
        (
            "huge-geometry",
            // The right magic and version, then slot counts and sizes far beyond the file.
            [
                b"SHMFRAME".as_slice(),
                &[1, 0, 0, 0, 128, 0, 0, 0],
                &[0xff; 112],
            ]
            .concat(),
        ),
    ];
    for (tag, bytes) in cases {
        let name = support::unique_name(tag);
        let path = shmframe::segment_path(&name).expect("a valid name");
        std::fs::write(&path, &bytes).expect("a planted segment");
        let error = expect_element_error(
            &format!("shmframesrc stream={name} ! fakesink"),
            "could not open stream",
        );
        assert!(error.contains(&name), "{tag}: {error}");
        std::fs::remove_file(&path).expect("the planted segment is ours to remove");
    }

    // The same through gst-launch: a clean exit with the error, not a signal.
    let name = support::unique_name("launch");
    let path = shmframe::segment_path(&name).expect("a valid name");
    std::fs::write(&path, [0xA5u8; 1000]).expect("a planted segment");
    let output = support::run(&mut support::gst_launch(&[
        "shmframesrc",
        &format!("stream={name}"),
        "!",
        "fakesink",
    ]));
    std::fs::remove_file(&path).expect("the planted segment is ours to remove");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code().is_some_and(|code| code != 0),
        "gst-launch should fail with an exit code, not a signal ({}): {stderr}",
        output.status
    );
    assert!(stderr.contains("not a valid shmframe segment"), "{stderr}");
}

#[test]
fn a_corrupt_or_unrepresentable_frame_is_an_element_error() {
    support::init();
    // A frame format GStreamer has no caps for.
    let name = support::unique_name("float");
    let options = WriterOptions {
        slot_capacity: 4096,
        ..WriterOptions::default()
    };
    let mut writer = Writer::create(&name, &options).expect("a writer");
    writer
        .publish(&FrameMeta::packed(4, 4, PixelFormat::GrayF32), &[0; 64])
        .expect("a float frame");
    expect_element_error(&format!("shmframesrc stream={name} ! fakesink"), "grayf32");
    drop(writer);

    // A live writer whose slot headers were overwritten with an unknown format code.
    let name = support::unique_name("corrupt");
    let mut writer = Writer::create(&name, &options).expect("a writer");
    writer
        .publish(&FrameMeta::packed(4, 4, PixelFormat::Gray8), &[7; 16])
        .expect("a frame");
    let geometry = shmframe::layout::Geometry::new(options.slots, options.slot_capacity)
        .expect("the writer's geometry");
    // Written in place (no truncation, which would pull the mapping from under the writer).
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(writer.path())
        .expect("the segment, writable by its owner");
    for slot in 0..options.slots {
        let word = shmframe::layout::HEADER_SIZE
            + slot * geometry.slot_stride
            + shmframe::layout::slot::STRIDE_FORMAT * 8;
        // The format code is the high half of the word.
        std::os::unix::fs::FileExt::write_all_at(&file, &99u32.to_le_bytes(), word as u64 + 4)
            .expect("an overwritten format code");
    }
    expect_element_error(
        &format!("shmframesrc stream={name} ! fakesink"),
        "could not read a frame",
    );
    drop(writer);
}

#[test]
fn stopping_a_source_that_waits_for_its_writer_returns() {
    support::init();
    let name = support::unique_name("waiting");
    for mode in ["latest", "every"] {
        let pipeline =
            Pipeline::parse(&format!("shmframesrc stream={name} mode={mode} ! fakesink"));
        pipeline.play();
        std::thread::sleep(Duration::from_millis(100));
        // Bounded: `stop` fails the test if the state change hangs.
        pipeline.stop();
    }
    // And while attached to a live writer that publishes nothing.
    let mut writer = Writer::create(&name, &WriterOptions::default()).expect("a writer");
    writer
        .publish(&FrameMeta::packed(2, 2, PixelFormat::Gray8), &[1; 4])
        .expect("a frame");
    let pipeline = Pipeline::parse(&format!("shmframesrc stream={name} ! appsink name=out"));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    support::pull(&sink);
    pipeline.stop();
}

#[test]
fn eos_on_close_ends_the_stream_after_the_last_frame() {
    support::init();
    let name = support::unique_name("eos");
    let (mut writer, meta) = support::gray_writer(&name, 8);
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc stream={name} mode=every eos-on-close=true ! appsink name=out sync=false"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    assert_eq!(support::first_byte(support::pull(&sink)), 0);
    for value in 1..=3u8 {
        writer.publish(&meta, &[value; 64]).expect("a frame");
    }
    drop(writer);
    for value in 1..=3u8 {
        assert_eq!(
            support::first_byte(support::pull(&sink)),
            value,
            "frames in order, the last ones before EOS included"
        );
    }
    pipeline.wait_eos();
    pipeline.stop();
}

#[test]
fn an_in_order_source_that_is_lapped_posts_qos_with_the_missed_count() {
    support::init();
    let name = support::unique_name("lapped");
    let (mut writer, meta) = support::gray_writer(&name, 2);
    // An appsink that holds one buffer and blocks the source behind it until pulled.
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc stream={name} mode=every ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    assert_eq!(support::first_byte(support::pull(&sink)), 0);
    // The appsink holds one buffer and the source blocks pushing the next, so
    // it reads at most two of these ten frames before the two slots are lapped.
    for value in 1..=10u8 {
        writer.publish(&meta, &[value; 64]).expect("a frame");
    }
    let mut delivered = vec![0];
    while delivered.last() != Some(&10) {
        delivered.push(support::first_byte(support::pull(&sink)));
        assert!(
            delivered.len() <= 11,
            "more frames than published: {delivered:?}"
        );
    }
    assert!(
        delivered.windows(2).all(|w| w[0] < w[1]),
        "out of order: {delivered:?}"
    );
    assert!(
        delivered.len() < 11,
        "the source was never lapped: {delivered:?}"
    );
    let bus = pipeline.pipeline.bus().expect("a bus");
    let mut last_qos = None;
    while let Some(message) = bus.pop_filtered(&[gst::MessageType::Qos]) {
        if let gst::MessageView::Qos(qos) = message.view() {
            last_qos = Some(qos.stats());
        }
    }
    let (processed, dropped) = last_qos.expect("a QoS message for the missed frames");
    let buffers =
        |n: usize| gst::GenericFormattedValue::from(gst::format::Buffers::from_u64(n as u64));
    assert_eq!(
        dropped,
        buffers(11 - delivered.len()),
        "delivered {delivered:?}"
    );
    // The last QoS message goes with the buffer after the last gap: the ring
    // hands a lapped in-order reader the oldest frame it still holds, so that
    // may come before the last frame.
    let after_last_gap = delivered
        .windows(2)
        .rposition(|pair| pair[1] - pair[0] > 1)
        .expect("a gap")
        + 1;
    assert_eq!(
        processed,
        buffers(after_last_gap + 1),
        "delivered {delivered:?}"
    );
    pipeline.stop();
    drop(writer);
}

#[test]
fn caps_queries_are_answered_while_the_source_waits() {
    support::init();
    let name = support::unique_name("query");
    let pipeline = Pipeline::parse(&format!("shmframesrc name=src stream={name} ! fakesink"));
    let source: gst::Element = pipeline.by_name("src");
    pipeline.play();
    std::thread::sleep(Duration::from_millis(100));
    // From another thread, as a downstream element or the application would ask.
    let pad = source.static_pad("src").expect("a source pad");
    let (answer, answered) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = answer.send(pad.query_caps(None));
    });
    let caps = answered
        .recv_timeout(support::TIMEOUT)
        .expect("the caps query returned while create waits for the writer");
    assert!(
        caps.to_string().contains("NV12"),
        "before any frame, every format is possible: {caps}"
    );
    pipeline.stop();
}
