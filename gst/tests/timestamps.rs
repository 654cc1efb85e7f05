//! Buffer timestamps: each frame's CLOCK_MONOTONIC publish time, placed on the
//! pipeline clock as running time.

mod support;

use gst::prelude::*;
use shmframe::Reader;
use std::time::Duration;
use support::Pipeline;

#[test]
fn buffers_carry_their_frames_publish_time_as_running_time() {
    support::init();
    let name = support::unique_name("pts");
    let (mut writer, meta) = support::gray_writer(&name, 4);
    let reader = Reader::open(&name).expect("a reader");
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc stream={name} mode=every ! appsink name=out sync=false"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    // A frame published before the pipeline started is placed at its start.
    let first = support::pull(&sink);
    assert_eq!(
        first.buffer().and_then(|b| b.pts()),
        Some(gst::ClockTime::ZERO)
    );

    let mut last_pts = gst::ClockTime::ZERO;
    for value in 1..=3u8 {
        std::thread::sleep(Duration::from_millis(30));
        writer.publish(&meta, &[value; 64]).expect("a frame");
        let published = reader
            .latest_info()
            .expect("a readable stream")
            .expect("a frame")
            .timestamp_ns;
        let sample = support::pull(&sink);
        let pts = sample.buffer().and_then(|b| b.pts()).expect("a timestamp");
        let base_time = pipeline.pipeline.base_time().expect("a base time");
        let clock = pipeline.pipeline.clock().expect("a clock");
        // GStreamer's system clock counts CLOCK_MONOTONIC, so the frame's
        // publish time on it is its own stamp. The bound only absorbs the
        // instants between reading the two clocks; a wrong mapping is off by
        // the pipeline's start time or the machine's uptime.
        assert_eq!(
            clock.property::<gst::ClockType>("clock-type"),
            gst::ClockType::Monotonic
        );
        let on_clock = (pts + base_time).nseconds();
        assert!(
            on_clock.abs_diff(published) < 1_000_000_000,
            "frame {value}: pts {pts} + base time {base_time} = {on_clock} ns, published at {published} ns"
        );
        assert!(pts > last_pts, "timestamps move on: {pts} after {last_pts}");
        last_pts = pts;
    }
    pipeline.stop();
}
