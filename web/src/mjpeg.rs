//! `/mjpeg/NAME`: multipart JPEG for `<img>`, VLC, curl and ffmpeg.
//!
//! Each part is the latest frame when the previous part has been written: a
//! client that reads slowly gets fewer frames; one that stops reading is cut
//! off when a write has waited the configured I/O timeout.

use crate::context::Context;
use crate::http::{HttpError, Request};
use crate::options::wishes;
use crate::stream_errors::stream_error;
use crate::websocket::peer_closed;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BOUNDARY: &str = "shmframe-frame";
/// How often a client that gets no frames is checked for having gone.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Streams JPEG parts until the client goes.
pub fn serve(
    stream: &mut TcpStream,
    request: &Request,
    name: &str,
    context: &Context,
) -> Result<(), HttpError> {
    let wishes = wishes(request, context.config.quality)?;
    if request.param("codec").is_some_and(|c| c != "jpeg") {
        return Err(HttpError::new(400, "MJPEG is JPEG only: leave codec out"));
    }
    let watch = context.hub.watch(name).map_err(stream_error)?;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return Ok(());
    }
    let mut seen = 0;
    let mut last_sent: Option<Instant> = None;
    let mut ready_ns = 0;
    loop {
        let Some(mut frame) = watch.fresh(seen, ready_ns, &wishes.variant, IDLE_CHECK) else {
            if peer_closed(stream) {
                return Ok(());
            }
            continue;
        };
        if let Some(wait) = last_sent.and_then(|t| wishes.min_interval.checked_sub(t.elapsed())) {
            std::thread::sleep(wait);
            frame = watch.latest().unwrap_or(frame);
        }
        seen = frame.serial;
        last_sent = Some(Instant::now());
        let encoding = match frame.encoded(&wishes.variant) {
            Ok(encoding) => encoding,
            // A frame that cannot be shown (too large for JPEG) is skipped, not fatal.
            Err(_) => continue,
        };
        let part = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Frame-Number: {}\r\n\r\n",
            encoding.bytes.len(),
            frame.info.number
        );
        let sent = stream
            .write_all(part.as_bytes())
            .and_then(|()| stream.write_all(&encoding.bytes))
            .and_then(|()| stream.write_all(b"\r\n"))
            .and_then(|()| stream.flush());
        if sent.is_err() {
            return Ok(());
        }
        ready_ns = shmframe::monotonic_ns();
    }
}
