//! `shmframe info`: what a stream's writer is doing now.

use crate::attach::parse_seconds;
use crate::color_names::{matrix_name, range_name};
use crate::fail::CliResult;
use crate::output::outln;
use clap::Args;
use serde_json::{json, Value};
use shmframe::{monotonic_ns, FrameInfo, FrameMeta, Reader, StreamStatus};
use std::time::Duration;

/// Show a stream's writer, ring geometry, latest frame and observed frame rate.
///
/// The frame rate is measured by reading the stream for --sample seconds
/// (skipped when the writer is not alive). `alive` is false as soon as the
/// writer process has died or closed the stream.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Stream name.
    #[arg(long, default_value = "default")]
    pub name: String,

    /// Print one JSON object: name, path, writer_pid, alive, slots, slot_capacity,
    /// frames_published, latest {number, width, height, stride, format, pix_fmt (ffmpeg's name),
    /// color ({matrix, range} for YUV, else null), age_ms} or null, fps.
    #[arg(long)]
    pub json: bool,

    /// Seconds spent watching the stream to measure its frame rate.
    #[arg(long, value_name = "SECONDS", default_value = "0.5", value_parser = parse_seconds)]
    pub sample: Duration,
}

/// Runs `shmframe info`.
pub fn run(args: InfoArgs) -> CliResult<()> {
    let mut reader = Reader::open(&args.name)?;
    let mut pixels = Vec::new();
    let first = reader.latest(&mut pixels)?;
    let mut fps = Some(0.0);
    let mut latest = first;
    if reader.writer_alive() && !args.sample.is_zero() {
        std::thread::sleep(args.sample);
        if reader.follow()? {
            // The writer moved to a new segment meanwhile: frame numbers restarted.
            fps = None;
        }
        latest = reader.latest(&mut pixels)?;
        if let (Some(a), Some(b), Some(_)) = (first, latest, fps) {
            fps = Some(rate_between(&a, &b));
        }
    }
    let status = reader.status();
    let report = report(&args.name, &reader, &status, latest.as_ref(), fps);
    if args.json {
        outln!("{report}");
    } else {
        print_text(&report);
    }
    Ok(())
}

/// Frames per second published between two frames of one segment.
fn rate_between(a: &FrameInfo, b: &FrameInfo) -> f64 {
    let frames = b.index.saturating_sub(a.index);
    let nanos = b.published_ns.saturating_sub(a.published_ns);
    if frames == 0 || nanos == 0 {
        0.0
    } else {
        frames as f64 * 1e9 / nanos as f64
    }
}

fn report(
    name: &str,
    reader: &Reader,
    status: &StreamStatus,
    latest: Option<&FrameInfo>,
    fps: Option<f64>,
) -> Value {
    let latest = latest.map(|frame| {
        let age_ns = monotonic_ns().saturating_sub(frame.published_ns);
        json!({
            "number": frame.number,
            "index": frame.index,
            "timestamp_ns": frame.timestamp_ns,
            "published_ns": frame.published_ns,
            "width": frame.meta.width,
            "height": frame.meta.height,
            "stride": frame.meta.stride,
            "format": frame.meta.format.name(),
            "pix_fmt": frame.meta.format.ffmpeg_name(),
            "color": color_of(&frame.meta),
            "age_ms": age_ns as f64 / 1e6,
        })
    });
    json!({
        "name": name,
        "path": reader.path().display().to_string(),
        "writer_pid": status.writer_pid,
        "alive": status.alive,
        "slots": status.slots,
        "slot_capacity": status.slot_capacity,
        "frames_published": status.frames_published,
        "holds": status.holds,
        "holds_granted": status.holds_granted,
        "holders": reader.holders().iter().map(|holder| json!({
            "pid": holder.pid,
            "uid": holder.uid,
            "alive": holder.alive,
            "granted": holder.granted,
            "holding": holder.holding,
        })).collect::<Vec<_>>(),
        "latest": latest,
        "fps": fps,
    })
}

/// `{"matrix": "bt709", "range": "full"}` for YUV frames, else null.
fn color_of(meta: &FrameMeta) -> Value {
    if !meta.format.is_yuv() {
        return Value::Null;
    }
    json!({
        "matrix": matrix_name(meta.color.matrix),
        "range": range_name(meta.color.range),
    })
}

fn print_text(report: &Value) {
    let field = |key: &str| report[key].to_string();
    outln!(
        "stream   {} ({})",
        report["name"].as_str().unwrap_or("?"),
        report["path"].as_str().unwrap_or("?")
    );
    let alive = if report["alive"] == Value::Bool(true) {
        "alive"
    } else {
        "not running (stream left behind; `shmframe rm` removes it)"
    };
    outln!("writer   pid {}, {alive}", field("writer_pid"));
    outln!(
        "slots    {} x {} bytes",
        field("slots"),
        field("slot_capacity")
    );
    outln!("frames   {} published", field("frames_published"));
    outln!(
        "holds    {} granted to readers of {} the writer honours",
        field("holds_granted"),
        field("holds")
    );
    for holder in report["holders"].as_array().into_iter().flatten() {
        let gone = if holder["alive"] == Value::Bool(true) {
            ""
        } else {
            ", gone (its holds come back at the writer's next scan)"
        };
        outln!(
            "holder   pid {} (uid {}): holds {} of {} granted{gone}",
            holder["pid"],
            holder["uid"],
            holder["holding"],
            holder["granted"]
        );
    }
    let latest = &report["latest"];
    if latest.is_null() {
        outln!("latest   none yet");
    } else {
        let color = &latest["color"];
        let color = if color.is_null() {
            String::new()
        } else {
            format!(
                ", {} {} range",
                color["matrix"].as_str().unwrap_or("?"),
                color["range"].as_str().unwrap_or("?")
            )
        };
        // An imported stream keeps its sender's numbers: say where it is here too.
        let number = if latest["number"] == latest["index"] {
            format!("#{}", latest["number"])
        } else {
            format!("#{} (index {} here)", latest["number"], latest["index"])
        };
        outln!(
            "latest   {number}: {}x{} {} (ffmpeg {}{color}), {:.1} ms old",
            latest["width"],
            latest["height"],
            latest["format"].as_str().unwrap_or("?"),
            latest["pix_fmt"].as_str().unwrap_or("?"),
            latest["age_ms"].as_f64().unwrap_or(f64::NAN)
        );
    }
    match report["fps"].as_f64() {
        Some(fps) => outln!("fps      {fps:.1}"),
        None => outln!("fps      unknown (the writer moved to a new segment while measuring)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::{ColorMatrix, ColorRange, Colorimetry, PixelFormat};

    fn frame(number: u64, timestamp_ns: u64) -> FrameInfo {
        let meta = FrameMeta::packed(1, 1, PixelFormat::Gray8);
        FrameInfo {
            number,
            index: number,
            timestamp_ns,
            published_ns: timestamp_ns,
            meta,
            len: 1,
            missed: 0,
        }
    }

    #[test]
    fn yuv_frames_report_their_colorimetry() {
        let meta = FrameMeta::packed(2, 2, PixelFormat::Nv12).with_color(Colorimetry {
            matrix: ColorMatrix::Bt709,
            range: ColorRange::Full,
        });
        assert_eq!(color_of(&meta), json!({"matrix": "bt709", "range": "full"}));
        assert_eq!(
            color_of(&FrameMeta::packed(2, 2, PixelFormat::Gray16)),
            Value::Null
        );
    }

    #[test]
    fn rate_comes_from_frame_timestamps() {
        assert_eq!(rate_between(&frame(10, 0), &frame(40, 500_000_000)), 60.0);
        assert_eq!(rate_between(&frame(10, 5), &frame(10, 5)), 0.0);
    }
}
