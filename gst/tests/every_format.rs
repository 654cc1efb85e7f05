//! Every pixel format through shmframesink and shmframesrc: buffers with
//! padded strides and plane offsets (GstVideoMeta) in, caps changes of size,
//! format and colorimetry mid-stream, a writer restart, and in-order reading.

mod support;

use gst::prelude::*;
use gst_video::{VideoColorMatrix, VideoColorPrimaries, VideoColorRange, VideoTransferFunction};
use shmframe::{ColorMatrix, ColorRange, Colorimetry, PixelFormat};
use support::Pipeline;

/// GStreamer's format and the engine format each frame should arrive as.
/// RGBA comes first so that its larger frame makes the sink grow its slots.
const FORMATS: [(gst_video::VideoFormat, PixelFormat); 9] = [
    (gst_video::VideoFormat::Rgba, PixelFormat::Rgba8),
    (gst_video::VideoFormat::Bgra, PixelFormat::Bgra8),
    (gst_video::VideoFormat::Rgb, PixelFormat::Rgb8),
    (gst_video::VideoFormat::Bgr, PixelFormat::Bgr8),
    (gst_video::VideoFormat::Gray8, PixelFormat::Gray8),
    (gst_video::VideoFormat::Gray16Le, PixelFormat::Gray16),
    (gst_video::VideoFormat::Nv12, PixelFormat::Nv12),
    (gst_video::VideoFormat::I420, PixelFormat::I420),
    (gst_video::VideoFormat::Yuy2, PixelFormat::Yuyv),
];

/// One frame to push: caps, a buffer laid out with padding, and the exact rows of each plane.
struct TestFrame {
    caps: gst::Caps,
    buffer: gst::Buffer,
    rows: Vec<Vec<Vec<u8>>>,
    color: Colorimetry,
}

/// A frame whose planes sit at offsets and strides GStreamer would not pick,
/// described by a GstVideoMeta, with 0xEE in every padding byte.
fn padded_frame(
    format: gst_video::VideoFormat,
    width: u32,
    height: u32,
    color: Colorimetry,
    seed: u8,
) -> TestFrame {
    let colorimetry = match color.matrix {
        ColorMatrix::Bt601 => gst_video::VideoColorimetry::new(
            range(color.range),
            VideoColorMatrix::Bt601,
            VideoTransferFunction::Bt601,
            VideoColorPrimaries::Smpte170m,
        ),
        ColorMatrix::Bt709 => gst_video::VideoColorimetry::new(
            range(color.range),
            VideoColorMatrix::Bt709,
            VideoTransferFunction::Bt709,
            VideoColorPrimaries::Bt709,
        ),
    };
    let mut builder =
        gst_video::VideoInfo::builder(format, width, height).fps(gst::Fraction::new(30, 1));
    if format.to_str() == "NV12" || format.to_str() == "I420" || format.to_str() == "YUY2" {
        builder = builder.colorimetry(&colorimetry);
    }
    let info = builder.build().expect("video info");
    let finfo = info.format_info();
    let mut rows = Vec::new();
    let mut offsets = Vec::new();
    let mut strides = Vec::new();
    let mut bytes = Vec::new();
    for plane in 0..info.n_planes() {
        let component = (0..finfo.n_components())
            .find(|&c| finfo.plane()[c as usize] == plane)
            .expect("a component in the plane") as u8;
        let row_bytes = finfo.scale_width(component, width) as usize
            * finfo.pixel_stride()[component as usize] as usize;
        let plane_rows = finfo.scale_height(component, height) as usize;
        let stride = row_bytes + 13 + 8 * plane as usize;
        bytes.resize(bytes.len() + 7, 0xEE);
        offsets.push(bytes.len());
        strides.push(stride as i32);
        let mut plane_content = Vec::new();
        for row in 0..plane_rows {
            let content: Vec<u8> = (0..row_bytes)
                .map(|x| {
                    (x as u32 * 7 + row as u32 * 31 + plane * 101 + u32::from(seed) * 13) as u8
                })
                .collect();
            bytes.extend_from_slice(&content);
            bytes.resize(bytes.len() + stride - row_bytes, 0xEE);
            plane_content.push(content);
        }
        rows.push(plane_content);
    }
    let mut buffer = gst::Buffer::from_mut_slice(bytes);
    {
        let buffer = buffer.get_mut().expect("a new buffer is writable");
        gst_video::VideoMeta::add_full(
            buffer,
            gst_video::VideoFrameFlags::empty(),
            format,
            width,
            height,
            &offsets,
            &strides,
        )
        .expect("a video meta");
    }
    TestFrame {
        caps: info.to_caps().expect("caps"),
        buffer,
        rows,
        color,
    }
}

fn range(range: ColorRange) -> VideoColorRange {
    match range {
        ColorRange::Full => VideoColorRange::Range0_255,
        ColorRange::Limited => VideoColorRange::Range16_235,
    }
}

/// Both ends of a stream under test: appsrc into shmframesink, shmframesrc into appsink.
struct Ends {
    sink_pipeline: Pipeline,
    appsrc: gst_app::AppSrc,
    source_pipeline: Pipeline,
    appsink: gst_app::AppSink,
}

impl Ends {
    fn new(name: &str, slots: u32, mode: &str) -> Ends {
        let sink_pipeline = Pipeline::parse(&format!(
            "appsrc name=in format=time ! shmframesink stream={name} slots={slots} sync=false"
        ));
        let source_pipeline = Pipeline::parse(&format!(
            "shmframesrc stream={name} mode={mode} ! appsink name=out sync=false"
        ));
        Ends {
            appsrc: sink_pipeline.by_name("in"),
            appsink: source_pipeline.by_name("out"),
            sink_pipeline,
            source_pipeline,
        }
    }

    fn push(&self, frame: &TestFrame) {
        self.appsrc.set_caps(Some(&frame.caps));
        self.appsrc
            .push_buffer(frame.buffer.clone())
            .expect("appsrc takes the buffer");
    }

    /// Checks that shmframesrc produced `frame` exactly, with matching caps.
    fn expect_out(&self, frame: &TestFrame, what: &str) {
        let sample = support::pull(&self.appsink);
        let caps = sample.caps().expect("caps");
        let info = gst_video::VideoInfo::from_caps(caps).expect("raw video caps");
        let sent = gst_video::VideoInfo::from_caps(&frame.caps).expect("raw video caps");
        assert_eq!(
            (info.format(), info.width(), info.height()),
            (sent.format(), sent.width(), sent.height()),
            "{what}: caps {caps}"
        );
        if sent.is_yuv() {
            let (got, want) = (info.colorimetry(), sent.colorimetry());
            assert_eq!(
                (got.matrix(), got.range()),
                (want.matrix(), want.range()),
                "{what}: colorimetry in {caps}"
            );
        }
        let video = gst_video::VideoFrameRef::from_buffer_ref_readable(
            sample.buffer().expect("a buffer"),
            &info,
        )
        .expect("a mappable frame");
        assert!(
            support::plane_rows(&video) == frame.rows,
            "{what}: shmframesrc produced other pixels"
        );
    }
}

/// Checks that the stream's latest frame is `frame`, in the engine's format and colorimetry.
fn expect_in_stream(
    reader: &mut shmframe::Reader,
    frame: &TestFrame,
    format: PixelFormat,
    what: &str,
) {
    let mut pixels = Vec::new();
    let info = reader
        .wait_latest(&mut pixels, support::TIMEOUT)
        .expect("a readable stream")
        .expect("a frame within the timeout");
    assert_eq!(info.meta.format, format, "{what}");
    if format.is_yuv() {
        assert_eq!(info.meta.color, frame.color, "{what}: colorimetry");
    }
    assert!(
        support::stream_rows(&info.meta, &pixels) == frame.rows,
        "{what}: the stream holds other pixels"
    );
}

#[test]
fn every_format_with_padded_planes_and_caps_changes_round_trips() {
    support::init();
    let name = support::unique_name("formats");
    let ends = Ends::new(&name, 2, "latest");
    ends.sink_pipeline.play();
    ends.source_pipeline.play();
    let colors = [
        Colorimetry {
            matrix: ColorMatrix::Bt709,
            range: ColorRange::Limited,
        },
        Colorimetry {
            matrix: ColorMatrix::Bt601,
            range: ColorRange::Full,
        },
    ];
    let mut reader = None;
    let mut seed = 0u8;
    for (gst_format, format) in FORMATS {
        // An odd size (YUY2 needs an even width) then a larger one: two caps changes per format.
        let small_width = if format == PixelFormat::Yuyv { 34 } else { 33 };
        for (size, color) in [((small_width, 17), colors[0]), ((70, 45), colors[1])] {
            seed = seed.wrapping_add(1);
            let what = format!("{gst_format:?} {}x{}", size.0, size.1);
            let frame = padded_frame(gst_format, size.0, size.1, color, seed);
            ends.push(&frame);
            let reader = reader.get_or_insert_with(|| support::open_reader(&name));
            expect_in_stream(reader, &frame, format, &what);
            let len = shmframe::FrameMeta::packed(size.0, size.1, format)
                .checked_len()
                .expect("a valid frame");
            assert!(
                reader.status().slot_capacity >= len,
                "{what}: slots of {} bytes hold a frame of {len}",
                reader.status().slot_capacity
            );
            ends.expect_out(&frame, &what);
        }
    }
    // The first RGBA frame sized the slots; the second made them grow to its size.
    let reader = reader.as_mut().expect("a reader");
    assert_eq!(reader.status().slot_capacity, 70 * 45 * 4);

    // Restart the writer: going to NULL closes the stream and removes its
    // name; playing again creates it anew, and the source follows.
    ends.sink_pipeline.stop();
    assert!(!shmframe::segment_path(&name)
        .expect("a valid name")
        .exists());
    ends.sink_pipeline.play();
    let frame = padded_frame(gst_video::VideoFormat::I420, 41, 29, colors[0], 200);
    ends.push(&frame);
    ends.expect_out(&frame, "I420 after a writer restart");
    expect_in_stream(
        reader,
        &frame,
        PixelFormat::I420,
        "I420 after a writer restart",
    );

    ends.source_pipeline.stop();
    ends.sink_pipeline.stop();
    assert!(!shmframe::segment_path(&name)
        .expect("a valid name")
        .exists());
}

#[test]
fn in_order_reading_produces_every_frame() {
    support::init();
    let name = support::unique_name("every");
    let ends = Ends::new(&name, 8, "every");
    ends.sink_pipeline.play();
    ends.source_pipeline.play();
    let frames: Vec<TestFrame> = (0..7)
        .map(|seed| {
            let color = Colorimetry::default();
            padded_frame(gst_video::VideoFormat::Nv12, 31, 15, color, seed)
        })
        .collect();
    // The first frame shows the source is attached; the rest go in a burst
    // that the 8 slots hold until it reads them.
    ends.push(&frames[0]);
    ends.expect_out(&frames[0], "frame 0");
    for frame in &frames[1..] {
        ends.push(frame);
    }
    for (i, frame) in frames.iter().enumerate().skip(1) {
        ends.expect_out(frame, &format!("frame {i}"));
    }
    let bus = ends.source_pipeline.pipeline.bus().expect("a bus");
    assert!(
        bus.pop_filtered(&[gst::MessageType::Qos]).is_none(),
        "no frame was missed, so no QoS message"
    );
    ends.source_pipeline.stop();
    ends.sink_pipeline.stop();
}
