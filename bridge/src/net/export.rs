//! `export`: the local stream's frames, encoded and put on a Zenoh key.

use super::report::Report;
use super::status::{Counters, StatusLine};
use super::{unix_ns, POLL};
use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::message::{Outgoing, Stamp};
use shmframe::{FrameInfo, Reader};
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zenoh::bytes::ZBytes;
use zenoh::qos::CongestionControl;
use zenoh::Wait;

/// Pause between attempts to open a stream that does not exist yet.
const RETRY_OPEN: Duration = Duration::from_millis(100);
/// How often the exporter looks for a subscriber while there is none.
const NOBODY_POLL: Duration = Duration::from_millis(20);
/// With no new frame for this long, the last message is sent again, so an
/// importer that joins late (or a still image) gets the current frame.
const REPEAT_AFTER: Duration = Duration::from_secs(1);

/// What `export` does.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Local stream to read.
    pub name: String,
    /// Zenoh key to put frames on.
    pub key: String,
    /// Payload codec.
    pub codec: Codec,
    /// Every frame in order, reliably (Zenoh blocks instead of dropping).
    pub every: bool,
    /// No status line.
    pub quiet: bool,
    /// Where to write the JSON report.
    pub report: Option<PathBuf>,
}

/// Exports until `stop` is set: reads the stream (following writer restarts,
/// waiting for it to appear) and puts each frame on the key.
pub fn export(options: &ExportOptions, config: zenoh::Config, stop: &AtomicBool) -> Result<()> {
    let session = zenoh::open(config)
        .wait()
        .map_err(|e| Error::Zenoh(format!("cannot open a session: {e}")))?;
    // Latest-frame semantics: a full link drops the frame rather than queueing
    // old video; --every blocks instead, so every frame arrives in order.
    let congestion = if options.every {
        CongestionControl::Block
    } else {
        CongestionControl::Drop
    };
    let publisher = session
        .declare_publisher(options.key.clone())
        .congestion_control(congestion)
        .wait()
        .map_err(|e| Error::Zenoh(format!("cannot publish on `{}`: {e}", options.key)))?;

    let source_id = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        ^ u64::from(std::process::id());
    let mut counters = Counters::default();
    let mut status = StatusLine::new(
        format!(
            "export {} -> {} [{}]",
            options.name,
            options.key,
            options.codec.id().name()
        ),
        options.quiet,
    );
    let mut report = Report::new(options.report.as_deref());
    let mut seq = 0u64;
    let mut buf = Vec::new();
    let mut last_sent: Option<(ZBytes, Instant)> = None;

    while !stop.load(Ordering::Relaxed) {
        let mut reader = match Reader::open(&options.name) {
            Ok(reader) => reader,
            Err(shmframe::Error::NoStream { .. }) => {
                counters.subscribed = subscribed(&publisher);
                status.note(&format!("export: waiting for stream `{}`", options.name));
                report.tick(&counters);
                std::thread::sleep(RETRY_OPEN);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut last_number = 0u64;
        while !stop.load(Ordering::Relaxed) {
            report.tick(&counters);
            // With no importer there is nothing to encode: leave the frames
            // unread, so the first importer gets the current one at once.
            counters.subscribed = subscribed(&publisher);
            if !counters.subscribed {
                status.note(&format!(
                    "export {} -> {}: no importer subscribed yet",
                    options.name, options.key
                ));
                last_sent = None;
                std::thread::sleep(NOBODY_POLL);
                continue;
            }
            let frame = if options.every {
                reader.wait_next(&mut buf, POLL)
            } else {
                reader.wait_latest(&mut buf, POLL)
            };
            let info = match frame {
                Ok(Some(info)) => info,
                Ok(None) => {
                    if let Some((message, at)) = &mut last_sent {
                        if at.elapsed() >= REPEAT_AFTER {
                            // Same message number: importers that have it skip it.
                            let _ = publisher.put(message.clone()).wait();
                            *at = Instant::now();
                        }
                    }
                    status.update(&counters, 0, 0);
                    continue;
                }
                Err(e) => {
                    // A corrupt or vanished segment: say so and open it again.
                    counters.failed += 1;
                    counters.last_problem = Some(e.to_string());
                    eprintln!("shmframe-bridge export: {e}");
                    std::thread::sleep(RETRY_OPEN);
                    break;
                }
            };
            counters.skipped += skipped(&info, last_number);
            last_number = info.number;
            seq += 1;
            let stamp = Stamp {
                source_id,
                seq,
                sent_unix_ns: unix_ns(),
            };
            let message = match Outgoing::encode(options.codec, &info, &mut buf, stamp) {
                Ok(message) => message,
                Err(e) => {
                    counters.failed += 1;
                    counters.last_problem = Some(e.to_string());
                    continue;
                }
            };
            let wire_bytes = message.len() as u64;
            // Header and payload go out as two slices: the payload is not copied again.
            let mut writer = ZBytes::writer();
            writer.append(ZBytes::from(message.header.to_vec()));
            writer.append(ZBytes::from(message.payload));
            let message = writer.finish();
            match publisher.put(message.clone()).wait() {
                Ok(()) => {
                    last_sent = Some((message, Instant::now()));
                    counters.frames += 1;
                    counters.wire_bytes += wire_bytes;
                    counters.frame_bytes += info.len as u64;
                    // The frame's age when handed to Zenoh: read and encode time.
                    counters
                        .latencies
                        .push(shmframe::monotonic_ns().saturating_sub(info.timestamp_ns));
                    status.update(&counters, wire_bytes, 1);
                }
                Err(e) => {
                    counters.failed += 1;
                    counters.last_problem = Some(format!("put failed: {e}"));
                }
            }
        }
    }
    report.write(&counters);
    Ok(())
}

/// Whether an importer (any subscriber) matches the key; `true` if Zenoh cannot tell.
fn subscribed(publisher: &zenoh::pubsub::Publisher<'_>) -> bool {
    publisher
        .matching_status()
        .wait()
        .map(|m| m.matching())
        .unwrap_or(true)
}

/// Frames between the previous one sent and this one that were never read.
fn skipped(info: &FrameInfo, last_number: u64) -> u64 {
    if info.missed > 0 {
        return info.missed;
    }
    // Numbers restart at 1 when the writer restarts: no gap to count then.
    if last_number == 0 || info.number <= last_number {
        0
    } else {
        info.number - last_number - 1
    }
}
