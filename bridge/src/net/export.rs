//! `export`: the local stream's frames, encoded and put on a Zenoh key.
//!
//! Two stages overlap: this thread reads (and encodes) the next frame while a
//! sender thread puts the previous one, which for large frames is the slow
//! part. They hand over through a rendezvous channel, so at most one frame
//! waits: in latest-frame mode the reader then takes whatever is newest.

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
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Mutex;
use std::time::Duration;
use zenoh::bytes::ZBytes;
use zenoh::pubsub::Publisher;
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

/// One encoded frame on its way from the reader to the sender.
struct Encoded {
    message: ZBytes,
    wire_bytes: u64,
    frame_bytes: u64,
    published_ns: u64,
}

/// What both stages update: counters, the status line and the report.
struct Shared {
    counters: Counters,
    status: StatusLine,
    report: Report,
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
    let shared = Mutex::new(Shared {
        counters: Counters::default(),
        status: StatusLine::new(
            format!(
                "export {} -> {} [{}]",
                options.name,
                options.key,
                options.codec.id().name()
            ),
            options.quiet,
        ),
        report: Report::new(options.report.as_deref()),
    });
    let (to_sender, from_reader) = std::sync::mpsc::sync_channel(0);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| send(&publisher, from_reader, &shared));
        // Returning drops `to_sender`, which ends the sender.
        read(options, &publisher, to_sender, &shared, stop)
    });
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    let Shared {
        counters, report, ..
    } = &mut *shared;
    report.write(counters);
    result
}

/// The reading stage: frames from the local stream, encoded, handed to the sender.
fn read(
    options: &ExportOptions,
    publisher: &Publisher<'_>,
    to_sender: SyncSender<Encoded>,
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
) -> Result<()> {
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
    let source_id = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        ^ u64::from(std::process::id());
    let mut seq = 0u64;
    let mut buf = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut reader = match Reader::open(&options.name) {
            Ok(reader) => reader,
            Err(shmframe::Error::NoStream { .. }) => {
                let mut s = lock();
                s.counters.subscribed = subscribed(publisher);
                s.status
                    .note(&format!("export: waiting for stream `{}`", options.name));
                let Shared {
                    counters, report, ..
                } = &mut *s;
                report.tick(counters);
                drop(s);
                std::thread::sleep(RETRY_OPEN);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut last_number = 0u64;
        while !stop.load(Ordering::Relaxed) {
            // With no importer there is nothing to encode: leave the frames
            // unread, so the first importer gets the current one at once.
            let matching = subscribed(publisher);
            {
                let mut s = lock();
                s.counters.subscribed = matching;
                let Shared {
                    counters, report, ..
                } = &mut *s;
                report.tick(counters);
                if !matching {
                    s.status.note(&format!(
                        "export {} -> {}: no importer subscribed yet",
                        options.name, options.key
                    ));
                }
            }
            if !matching {
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
                Ok(None) => continue,
                Err(e) => {
                    // A corrupt or vanished segment: say so and open it again.
                    let mut s = lock();
                    s.counters.failed += 1;
                    s.counters.last_problem = Some(e.to_string());
                    eprintln!("shmframe-bridge export: {e}");
                    drop(s);
                    std::thread::sleep(RETRY_OPEN);
                    break;
                }
            };
            lock().counters.skipped += skipped(&info, last_number);
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
                    let mut s = lock();
                    s.counters.failed += 1;
                    s.counters.last_problem = Some(e.to_string());
                    continue;
                }
            };
            let wire_bytes = message.len() as u64;
            // Header and payload go out as two slices: the payload is not copied again.
            let mut writer = ZBytes::writer();
            writer.append(ZBytes::from(message.header.to_vec()));
            writer.append(ZBytes::from(message.payload));
            let encoded = Encoded {
                message: writer.finish(),
                wire_bytes,
                frame_bytes: info.len as u64,
                published_ns: info.published_ns,
            };
            if to_sender.send(encoded).is_err() {
                return Err(Error::Zenoh("the sending thread stopped".into()));
            }
        }
    }
    Ok(())
}

/// The sending stage: puts each encoded frame; repeats the last one when idle.
fn send(publisher: &Publisher<'_>, from_reader: Receiver<Encoded>, shared: &Mutex<Shared>) {
    let mut last: Option<ZBytes> = None;
    loop {
        let encoded = match from_reader.recv_timeout(REPEAT_AFTER) {
            Ok(encoded) => encoded,
            Err(RecvTimeoutError::Timeout) => {
                if let Some(message) = &last {
                    // Same message number: importers that have it skip it.
                    let _ = publisher.put(message.clone()).wait();
                }
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                let Shared {
                    counters, status, ..
                } = &mut *s;
                status.update(counters, 0, 0);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let result = publisher.put(encoded.message.clone()).wait();
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        let Shared {
            counters, status, ..
        } = &mut *s;
        match result {
            Ok(()) => {
                last = Some(encoded.message);
                counters.frames += 1;
                counters.wire_bytes += encoded.wire_bytes;
                counters.frame_bytes += encoded.frame_bytes;
                // The frame's age once handed to Zenoh: read, encode and put.
                counters
                    .latencies
                    .push(shmframe::monotonic_ns().saturating_sub(encoded.published_ns));
                status.update(counters, encoded.wire_bytes, 1);
            }
            Err(e) => {
                counters.failed += 1;
                counters.last_problem = Some(format!("put failed: {e}"));
            }
        }
    }
}

/// Whether an importer (any subscriber) matches the key; `true` if Zenoh cannot tell.
fn subscribed(publisher: &Publisher<'_>) -> bool {
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
