//! `/api/streams` (what `shmframe list` and `info --json` say) and
//! `/api/pixel/NAME` (the pixel probe's values).

use crate::context::Context;
use crate::http::{HttpError, Request, Response};
use crate::stream_errors::stream_error;
use serde_json::{json, Value};
use shmframe::{monotonic_ns, FrameMeta, PixelFormat, Reader};
use std::time::Duration;

/// A JSON array, one object per stream (name, width, height, format, alive, ...).
pub fn streams() -> Response {
    let names = shmframe::list_streams().unwrap_or_default();
    let list: Vec<Value> = names.iter().map(|name| describe_stream(name)).collect();
    json_response(&Value::Array(list))
}

/// What the server has done: `{"encodings": N}` (frames encoded, any kind).
pub fn stats() -> Response {
    json_response(&json!({ "encodings": crate::encode::encodings_made() }))
}

/// One stream as `/api/streams` and `shmframe list --json` describe it: its
/// writer, ring and latest frame (name, alive, writer_pid, slots,
/// slot_capacity, frames_published, width, height, stride, format, pix_fmt,
/// number, timestamp_ns, age_ms; frame fields null before the first frame).
/// An unreadable segment is described (name, alive false, error), not fatal.
pub fn describe_stream(name: &str) -> Value {
    let reader = match Reader::open(name) {
        Ok(reader) => reader,
        Err(e) => return json!({ "name": name, "alive": false, "error": e.to_string() }),
    };
    let status = reader.status();
    let latest = reader.latest_info().ok().flatten();
    let meta = latest.map(|f| f.meta);
    json!({
        "name": name,
        "alive": status.alive,
        "writer_pid": status.writer_pid,
        "slots": status.slots,
        "slot_capacity": status.slot_capacity,
        "frames_published": status.frames_published,
        "width": meta.map(|m| m.width),
        "height": meta.map(|m| m.height),
        "stride": meta.map(|m| m.stride),
        "format": meta.map(|m| m.format.name()),
        "pix_fmt": meta.map(|m| m.format.ffmpeg_name()),
        "number": latest.map(|f| f.number),
        "timestamp_ns": latest.map(|f| f.timestamp_ns),
        "age_ms": latest.map(|f| monotonic_ns().saturating_sub(f.published_ns) as f64 / 1e6),
    })
}

/// The latest frame's pixel at `?x=&y=`: its stored values and the RGB shown.
pub fn pixel(request: &Request, name: &str, context: &Context) -> Result<Response, HttpError> {
    let (x, y) = match (request.number::<u32>("x")?, request.number::<u32>("y")?) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(HttpError::new(400, "give the pixel as ?x=X&y=Y")),
    };
    let watch = context.hub.watch(name).map_err(stream_error)?;
    let frame = watch
        .latest()
        .or_else(|| watch.newer_than(0, Duration::from_secs(2)))
        .ok_or_else(|| HttpError::new(404, format!("stream `{name}` has no frame yet")))?;
    let meta = frame.info.meta;
    if x >= meta.width || y >= meta.height {
        return Err(HttpError::new(
            400,
            format!(
                "pixel {x},{y} is outside the {}x{} frame",
                meta.width, meta.height
            ),
        ));
    }
    let view = shmframe_convert::FrameView::new(&meta, &frame.pixels)
        .map_err(|e| HttpError::new(500, e.to_string()))?;
    let mut row = vec![0; 3 * meta.width as usize];
    view.rgb_row(y as usize, &mut row);
    let at = 3 * x as usize;
    let (channels, values) = sample(&meta, &frame.pixels, x as usize, y as usize)
        .ok_or_else(|| HttpError::new(500, "the frame is shorter than its metadata says"))?;
    Ok(json_response(&json!({
        "x": x,
        "y": y,
        "number": frame.info.number,
        "serial": frame.serial,
        "format": meta.format.name(),
        "channels": channels,
        "value": values,
        "rgb": [row[at], row[at + 1], row[at + 2]],
    })))
}

/// The stored sample values of pixel (x, y) and what they are.
fn sample(
    meta: &FrameMeta,
    pixels: &[u8],
    x: usize,
    y: usize,
) -> Option<(&'static str, Vec<Value>)> {
    let planes = meta.planes().ok()?;
    let planes = planes.as_slice();
    let at = |plane: usize, row: usize, offset: usize| -> Option<u8> {
        let p = planes.get(plane)?;
        pixels.get(p.offset + row * p.stride + offset).copied()
    };
    let bytes = |n: usize| -> Option<Vec<u8>> { (0..n).map(|i| at(0, y, n * x + i)).collect() };
    let ints = |v: Vec<u8>| v.into_iter().map(Value::from).collect();
    Some(match meta.format {
        PixelFormat::Rgb8 => ("rgb", ints(bytes(3)?)),
        PixelFormat::Bgr8 => ("bgr", ints(bytes(3)?)),
        PixelFormat::Rgba8 => ("rgba", ints(bytes(4)?)),
        PixelFormat::Bgra8 => ("bgra", ints(bytes(4)?)),
        PixelFormat::Gray8 => ("gray", ints(bytes(1)?)),
        PixelFormat::Gray16 => {
            let b = bytes(2)?;
            ("gray", vec![Value::from(u16::from_le_bytes([b[0], b[1]]))])
        }
        PixelFormat::GrayF32 => {
            let b = bytes(4)?;
            let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            // JSON has no NaN or infinity: those are sent as their names.
            let value = serde_json::Number::from_f64(f64::from(v))
                .map(Value::Number)
                .unwrap_or_else(|| Value::from(v.to_string()));
            ("gray", vec![value])
        }
        PixelFormat::Nv12 => {
            let c = 2 * (x / 2);
            (
                "yuv",
                ints(vec![at(0, y, x)?, at(1, y / 2, c)?, at(1, y / 2, c + 1)?]),
            )
        }
        PixelFormat::I420 => (
            "yuv",
            ints(vec![
                at(0, y, x)?,
                at(1, y / 2, x / 2)?,
                at(2, y / 2, x / 2)?,
            ]),
        ),
        PixelFormat::Yuyv => {
            let pair = 4 * (x / 2);
            (
                "yuv",
                ints(vec![
                    at(0, y, pair + 2 * (x % 2))?,
                    at(0, y, pair + 1)?,
                    at(0, y, pair + 3)?,
                ]),
            )
        }
    })
}

/// `value` as an `application/json` response.
pub fn json_response(value: &Value) -> Response {
    Response::ok("application/json", value.to_string().into_bytes())
}
