//! `/ws/NAME`: the stream page's WebSocket. One frame in flight at a time.
//!
//! The server sends a frame, then waits for the page's acknowledgement
//! (`{"ack": SERIAL}`, sent once the frame is drawn) before it sends the
//! latest frame at that moment. A page that draws slowly gets fewer frames,
//! never a queue; a paused page simply stops acknowledging.
//!
//! Each message is binary: a little-endian u32 length, that many bytes of
//! JSON (stream, index, number, serial, timestamps, sizes, format, codec,
//! missed, gray range), then the pixels (RGBA) or the JPEG.

use crate::context::Context;
use crate::encode::{Encoding, Variant};
use crate::http::{HttpError, Request};
use crate::hub::Frame;
use crate::options::{wishes, Wishes};
use crate::stream_errors::stream_error;
use crate::websocket::{accept, peer_closed};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tungstenite::{Message, WebSocket};

/// How often a page that gets no frame is checked for having gone.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// Reads wait this long before the page is pinged; two silent waits end it.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// Serves one page until it goes.
pub fn serve(
    stream: TcpStream,
    request: &Request,
    name: &str,
    context: &Context,
) -> Result<(), HttpError> {
    let mut wishes = wishes(request, context.config.quality)?;
    let watch = context.hub.watch(name).map_err(stream_error)?;
    let (mut socket, _) = accept(stream, request, &[])?;
    let _ = socket.get_ref().set_read_timeout(Some(ACK_WAIT));
    let mut seen = 0;
    let mut last_index: Option<u64> = None; // of the last frame sent
    let mut last_sent: Option<Instant> = None;
    let mut ready_ns = 0;
    loop {
        let Some(mut frame) = watch.fresh(seen, ready_ns, &wishes.variant, IDLE_CHECK) else {
            if peer_closed(socket.get_ref()) {
                return Ok(());
            }
            continue;
        };
        if let Some(wait) = last_sent.and_then(|t| wishes.min_interval.checked_sub(t.elapsed())) {
            std::thread::sleep(wait);
            frame = watch.latest().unwrap_or(frame);
        }
        let missed = match last_index {
            // Indexes count the writer's frames; a new writer starts them anew.
            Some(index) if frame.info.index > index => frame.info.index - index - 1,
            _ => 0,
        };
        seen = frame.serial;
        last_sent = Some(Instant::now());
        let message = match frame.encoded(&wishes.variant) {
            Ok(encoding) => frame_message(name, &frame, &encoding, &wishes.variant, missed),
            Err(reason) => error_message(&frame, &reason),
        };
        if socket.send(Message::Binary(message.into())).is_err() {
            return Ok(());
        }
        last_index = Some(frame.info.index);
        if !await_ack(&mut socket, frame.serial, &mut wishes) {
            return Ok(());
        }
        ready_ns = shmframe::monotonic_ns();
    }
}

/// Reads the page's messages until it acknowledges `serial`; false when it has gone.
///
/// `{"gray": [min, max]}` or `{"gray": null}` changes the gray window of the
/// frames that follow.
fn await_ack(socket: &mut WebSocket<TcpStream>, serial: u64, wishes: &mut Wishes) -> bool {
    let mut silent = 0;
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => {
                silent = 0;
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(gray) = value.get("gray") {
                    set_gray(&mut wishes.variant, gray);
                }
                if value.get("ack").and_then(Value::as_u64) == Some(serial) {
                    return true;
                }
            }
            Ok(Message::Close(_)) => return false,
            Ok(_) => silent = 0,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                silent += 1;
                if silent >= 2 || socket.send(Message::Ping(Vec::new().into())).is_err() {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

/// Applies a page's gray window (`[min, max]`, or null for the frame's range).
fn set_gray(variant: &mut Variant, gray: &Value) {
    let window = gray.as_array().and_then(|ends| match ends.as_slice() {
        [min, max] => crate::encode::GrayWindow::new(min.as_f64()?, max.as_f64()?),
        _ => None,
    });
    match variant {
        Variant::Rgba(picture) | Variant::Jpeg { picture, .. } => picture.gray = window,
        _ => {}
    }
}

/// The header and payload of one frame.
fn frame_message(
    name: &str,
    frame: &Frame,
    encoding: &Encoding,
    variant: &Variant,
    missed: u64,
) -> Vec<u8> {
    let info = &frame.info;
    let codec = match variant {
        Variant::Rgba(_) => "raw",
        _ => "jpeg",
    };
    let header = json!({
        "stream": name,
        "serial": frame.serial,
        "index": info.index,
        "number": info.number,
        "timestamp_ns": info.timestamp_ns,
        "published_ns": info.published_ns,
        "published_unix_ms": unix_ms_of(info.published_ns),
        "frame_width": info.meta.width,
        "frame_height": info.meta.height,
        "width": encoding.width,
        "height": encoding.height,
        "format": info.meta.format.name(),
        "codec": codec,
        "missed": missed,
        "gray_min": encoding.gray.map(|g| g.min),
        "gray_max": encoding.gray.map(|g| g.max),
    });
    with_header(&header, &encoding.bytes)
}

fn error_message(frame: &Frame, reason: &str) -> Vec<u8> {
    let header = json!({ "serial": frame.serial, "number": frame.info.number, "error": reason });
    with_header(&header, &[])
}

fn with_header(header: &Value, payload: &[u8]) -> Vec<u8> {
    let header = header.to_string();
    let mut out = Vec::with_capacity(4 + header.len() + payload.len());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A CLOCK_MONOTONIC time as Unix milliseconds (so a page on this machine can
/// compare it with its own clock).
fn unix_ms_of(monotonic: u64) -> f64 {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0);
    let age_ms = shmframe::monotonic_ns().saturating_sub(monotonic) as f64 / 1e6;
    now_unix - age_ms
}
