//! Zero-copy reads: `shmframesrc` pushes frames held in place as read-only
//! memory, falls back to copies at once when no hold is free (a full
//! downstream queue stalls neither the writer nor the source), keeps held
//! pixels unchanged however much the writer publishes, describes padded
//! frames with a GstVideoMeta, and copies when `zero-copy=false`.

mod support;

use gst::prelude::*;
use shmframe::{FrameMeta, PixelFormat, Writer, WriterOptions};
use std::time::Instant;
use support::{Pipeline, TIMEOUT};

const WIDTH: u32 = 64;
const HEIGHT: u32 = 32;

/// Frame `number`'s bytes: different for every frame and every byte.
fn pattern(number: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (number.wrapping_mul(97) as usize ^ i.wrapping_mul(7)) as u8)
        .collect()
}

/// A writer of `meta` frames that honours `holds` holds.
fn writer(name: &str, meta: &FrameMeta, holds: usize) -> Writer {
    writer_with_slots(name, meta, holds, 2)
}

/// A writer of `meta` frames with at least `slots` slots.
fn writer_with_slots(name: &str, meta: &FrameMeta, holds: usize, slots: usize) -> Writer {
    let options = WriterOptions {
        slots,
        slot_capacity: meta.checked_len().expect("a valid frame"),
        holds,
        ..WriterOptions::default()
    };
    Writer::create(name, &options).expect("a writer")
}

/// Publishes the next frame of `meta`, its bytes the pattern of its number.
fn publish(writer: &mut Writer, meta: &FrameMeta) {
    let len = meta.checked_len().expect("a valid frame");
    let next = writer.frames_published() + 1;
    let number = writer
        .publish(meta, &pattern(next, len))
        .expect("the writer publishes");
    assert_eq!(number, next, "frame numbers count publishes");
}

/// Whether the source says the buffer is the held frame itself (its GstShmFrameMeta).
fn zero_copy(buffer: &gst::BufferRef) -> bool {
    let meta = gst::meta::CustomMeta::from_buffer(buffer, gstshmframe::META_NAME)
        .expect("every buffer carries a GstShmFrameMeta");
    meta.structure()
        .get::<bool>(gstshmframe::META_ZERO_COPY)
        .expect("the meta says zero-copy or not")
}

fn is_read_only(buffer: &gst::BufferRef) -> bool {
    (0..buffer.n_memory()).all(|i| {
        buffer
            .peek_memory(i)
            .flags()
            .contains(gst::MemoryFlags::READONLY)
    })
}

/// Checks that a packed RGBA buffer holds exactly its frame's pattern.
fn assert_pattern(buffer: &gst::BufferRef, len: usize) {
    let number = buffer.offset();
    let map = buffer.map_readable().expect("a readable buffer");
    assert!(
        map.as_slice() == pattern(number, len).as_slice(),
        "buffer of frame {number} does not hold its pixels"
    );
}

/// The source's `stats`: (zero-copy, copied) buffers pushed.
fn stats(pipeline: &Pipeline) -> (u64, u64) {
    let source: gst::Element = pipeline.by_name("src");
    let stats = source.property::<gst::Structure>("stats");
    (
        stats.get("zero-copy").expect("a zero-copy count"),
        stats.get("copied").expect("a copied count"),
    )
}

/// Publishes a frame and pulls a sample until one comes held in place
/// (holds are granted at a publish after the source's first attempt);
/// checks every sample's pixels on the way. Returns the held one.
fn publish_until_held(
    writer: &mut Writer,
    meta: &FrameMeta,
    sink: &gst_app::AppSink,
) -> gst::Sample {
    let len = meta.checked_len().expect("a valid frame");
    let give_up = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < give_up, "no frame was ever held in place");
        publish(writer, meta);
        let sample = support::pull(sink);
        let buffer = sample.buffer().expect("a buffer");
        if meta.stride == meta.width * 4 {
            assert_pattern(buffer, len);
        }
        if zero_copy(buffer) {
            return sample;
        }
    }
}

#[test]
fn held_buffers_are_read_only_and_keep_their_pixels_while_the_writer_goes_on_and_after_it_closed() {
    support::init();
    let name = support::unique_name("held");
    let meta = FrameMeta::packed(WIDTH, HEIGHT, PixelFormat::Rgba8);
    let len = meta.checked_len().expect("a valid frame");
    let mut writer = writer(&name, &meta, 4);
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc name=src stream={name} ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();

    let kept = publish_until_held(&mut writer, &meta, &sink);
    let buffer = kept.buffer().expect("a buffer");
    assert!(is_read_only(buffer), "held memory is read-only");
    // An element that wants to write gets a copy; the held frame stays as it was.
    let mut copy = buffer.copy();
    {
        let copy = copy.make_mut();
        let mut map = copy.map_writable().expect("a writable copy");
        map.fill(0xFF);
    }
    assert_pattern(buffer, len);

    // Hundreds of frames later, while the pipeline keeps reading, the held
    // frame's pixels have not changed.
    for _ in 0..300 {
        publish(&mut writer, &meta);
        let sample = support::pull(&sink);
        assert_pattern(sample.buffer().expect("a buffer"), len);
    }
    assert_pattern(buffer, len);
    let (held, copied) = stats(&pipeline);
    assert!(
        held >= 1,
        "stats count held buffers ({held} held, {copied} copied)"
    );
    // The buffer outlives the pipeline and the writer: it keeps its own
    // mapping, and the frame is still there.
    pipeline.stop();
    drop(pipeline);
    drop(writer);
    assert_pattern(buffer, len);
}

#[test]
fn a_full_queue_degrades_to_copies_and_stalls_neither_writer_nor_source() {
    support::init();
    let name = support::unique_name("queue");
    let meta = FrameMeta::packed(WIDTH, HEIGHT, PixelFormat::Rgba8);
    let len = meta.checked_len().expect("a valid frame");
    let mut writer = writer(&name, &meta, 4);
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc name=src stream={name} holds=2 \
         ! queue name=q max-size-buffers=100 max-size-bytes=0 max-size-time=0 leaky=no \
         ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    let queue: gst::Element = pipeline.by_name("q");
    pipeline.play();
    drop(publish_until_held(&mut writer, &meta, &sink));

    // The consumer stops pulling: the queue fills with buffers that keep
    // their memory. The source holds 2 frames at most, so it must go on by
    // copying to fill the queue; the writer publishes on throughout.
    let give_up = Instant::now() + TIMEOUT;
    while queue.property::<u32>("current-level-buffers") < 100 {
        assert!(
            Instant::now() < give_up,
            "the queue never filled: the source stalled at {} buffers",
            queue.property::<u32>("current-level-buffers")
        );
        publish(&mut writer, &meta);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let published = writer.frames_published();
    for _ in 0..500 {
        publish(&mut writer, &meta);
    }
    assert_eq!(writer.frames_published(), published + 500);

    // The consumer comes back: every buffer, held or copied, has its own
    // frame's pixels, and no more than the source's holds were held at once.
    let mut held = 0;
    for _ in 0..100 {
        let sample = support::pull(&sink);
        let buffer = sample.buffer().expect("a buffer");
        assert_pattern(buffer, len);
        assert_eq!(is_read_only(buffer), zero_copy(buffer));
        held += usize::from(zero_copy(buffer));
    }
    assert!(
        held <= 2,
        "{held} of the queued buffers were held, with 2 holds"
    );
    let (_, copied) = stats(&pipeline);
    assert!(
        copied >= 98,
        "the source copied when its holds ran out ({copied} copies)"
    );

    // The freed buffers ended their holds: frames are held in place again.
    drop(publish_until_held(&mut writer, &meta, &sink));
    pipeline.stop();
}

#[test]
fn in_order_reading_holds_and_copies_every_frame_in_turn() {
    support::init();
    let name = support::unique_name("every");
    let meta = FrameMeta::packed(WIDTH, HEIGHT, PixelFormat::Rgba8);
    let len = meta.checked_len().expect("a valid frame");
    let mut writer = writer_with_slots(&name, &meta, 4, 64);
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc name=src stream={name} mode=every ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    let held = publish_until_held(&mut writer, &meta, &sink);
    let mut expected = held.buffer().expect("a buffer").offset() + 1;
    drop(held);
    // A burst the ring holds: every frame comes, in order, held while the
    // source's holds last and copied when the appsink and the source keep them all.
    for _ in 0..40 {
        publish(&mut writer, &meta);
    }
    let mut origins = Vec::new();
    while expected <= writer.frames_published() {
        let sample = support::pull(&sink);
        let buffer = sample.buffer().expect("a buffer");
        assert_eq!(
            buffer.offset(),
            expected,
            "frames come in order, none skipped"
        );
        assert_pattern(buffer, len);
        origins.push(zero_copy(buffer));
        expected += 1;
    }
    assert!(
        origins.contains(&true),
        "in-order frames are held: {origins:?}"
    );
    pipeline.stop();
}

#[test]
fn zero_copy_false_always_copies() {
    support::init();
    let name = support::unique_name("copy");
    let meta = FrameMeta::packed(WIDTH, HEIGHT, PixelFormat::Rgba8);
    let len = meta.checked_len().expect("a valid frame");
    let mut writer = writer(&name, &meta, 4);
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc name=src stream={name} zero-copy=false \
         ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    pipeline.play();
    for _ in 0..50 {
        publish(&mut writer, &meta);
        let sample = support::pull(&sink);
        let buffer = sample.buffer().expect("a buffer");
        assert_pattern(buffer, len);
        assert!(!zero_copy(buffer), "zero-copy=false copies");
        assert!(!is_read_only(buffer), "a copy is the pipeline's own memory");
    }
    let (held, copied) = stats(&pipeline);
    assert_eq!((held, copied), (0, 50));
    pipeline.stop();
}

/// Makes `sink`'s pad answer allocation queries itself: with GstVideoMeta
/// support, or without.
fn answer_allocation(sink: &gst_app::AppSink, video_meta: bool) {
    let pad = sink.static_pad("sink").expect("appsink has a sink pad");
    pad.add_probe(gst::PadProbeType::QUERY_DOWNSTREAM, move |_, info| {
        let Some(gst::PadProbeData::Query(query)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let gst::QueryViewMut::Allocation(allocation) = query.view_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        if video_meta {
            allocation.add_allocation_meta::<gst_video::VideoMeta>(None);
        }
        gst::PadProbeReturn::Handled
    });
}

/// Frames whose rows are padded (stride past the row): held in place with a
/// GstVideoMeta when downstream reads one, copied into GStreamer's layout
/// when it does not; the rows are exact either way.
fn padded_frames(video_meta: bool) {
    support::init();
    let name = support::unique_name("padded");
    let meta = FrameMeta {
        stride: WIDTH * 4 + 48,
        ..FrameMeta::packed(WIDTH, HEIGHT, PixelFormat::Rgba8)
    };
    let len = meta.checked_len().expect("a valid frame");
    let mut writer = writer(&name, &meta, 4);
    let pipeline = Pipeline::parse(&format!(
        "shmframesrc name=src stream={name} ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = pipeline.by_name("out");
    answer_allocation(&sink, video_meta);
    pipeline.play();
    let mut held = 0;
    for _ in 0..30 {
        publish(&mut writer, &meta);
        let sample = support::pull(&sink);
        let buffer = sample.buffer().expect("a buffer");
        let caps = sample.caps().expect("caps");
        let info = gst_video::VideoInfo::from_caps(caps).expect("video caps");
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
            .expect("a mappable frame");
        let expected = support::stream_rows(&meta, &pattern(buffer.offset(), len));
        assert_eq!(
            support::plane_rows(&frame),
            expected,
            "frame {}",
            buffer.offset()
        );
        let video_meta_on_buffer = buffer.meta::<gst_video::VideoMeta>();
        if zero_copy(buffer) {
            held += 1;
            let stride = video_meta_on_buffer
                .expect("a held padded frame has a GstVideoMeta")
                .stride()[0];
            assert_eq!(stride, meta.stride as i32);
        } else {
            assert!(
                video_meta_on_buffer.is_none(),
                "a copy has GStreamer's layout"
            );
        }
    }
    match video_meta {
        true => assert!(
            held > 0,
            "padded frames are held when downstream reads GstVideoMeta"
        ),
        false => assert_eq!(held, 0, "without GstVideoMeta, padded frames are copied"),
    }
    pipeline.stop();
}

#[test]
fn padded_frames_are_held_with_a_video_meta() {
    padded_frames(true);
}

#[test]
fn padded_frames_are_copied_for_a_downstream_without_video_meta() {
    padded_frames(false);
}

/// Pulls `count` samples from a source reading what a `shmframesink` with
/// `holds` publishes; returns how many were held in place.
fn held_from_a_sink_with(holds: u32, count: usize) -> usize {
    support::init();
    let name = support::unique_name("sinkholds");
    let writing = Pipeline::parse(&format!(
        "videotestsrc is-live=true pattern=ball \
         ! video/x-raw,format=RGBA,width={WIDTH},height={HEIGHT},framerate=200/1 \
         ! shmframesink stream={name} holds={holds}"
    ));
    writing.play();
    let reading = Pipeline::parse(&format!(
        "shmframesrc stream={name} ! appsink name=out sync=false max-buffers=1"
    ));
    let sink: gst_app::AppSink = reading.by_name("out");
    reading.play();
    let held = (0..count)
        .filter(|_| zero_copy(support::pull(&sink).buffer().expect("a buffer")))
        .count();
    reading.stop();
    writing.stop();
    held
}

#[test]
fn a_sink_with_holds_0_makes_its_readers_copy() {
    assert_eq!(held_from_a_sink_with(0, 30), 0);
    assert!(
        held_from_a_sink_with(4, 30) > 0,
        "with holds, readers hold frames"
    );
}
