//! Streams being watched: one reader thread per stream while anyone watches,
//! and its latest frame shared by every client.
//!
//! A client holds a [`Watch`]; the stream's reader thread runs while a watch
//! exists and for [`LINGER`] after the last one goes (so the index page's
//! thumbnails, fetched once a second, do not start a reader each time). The
//! thread keeps only the latest frame: nothing queues, so a slow client gets
//! fewer frames and never delays the writer, the thread or another client.

use crate::encode::{Encoding, Variant};
use shmframe::{FrameInfo, Reader};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long a stream's reader runs on after its last watcher leaves.
const LINGER: Duration = Duration::from_secs(3);
/// How often the reader thread looks up from waiting (to stop, or follow a new writer).
const TICK: Duration = Duration::from_millis(100);
/// Longest wait for a fresh frame when the latest is older than the client's request.
const MAX_FRESH_WAIT: Duration = Duration::from_millis(100);

/// One frame read from a stream, with its encodings made on demand.
pub struct Frame {
    /// Counts the frames this server read from the stream (1, 2, ...), across writers.
    pub serial: u64,
    /// Time between this frame's publish and the previous one's (0 for the first).
    pub interval_ns: u64,
    pub info: FrameInfo,
    pub pixels: Vec<u8>,
    encodings: Mutex<HashMap<Variant, Arc<OnceLock<Encoded>>>>,
}

/// An encoding of a frame, or why it could not be made.
pub type Encoded = Result<Arc<Encoding>, String>;

impl Frame {
    /// Whether `variant` of this frame is made or being made.
    pub fn has(&self, variant: &Variant) -> bool {
        lock(&self.encodings).contains_key(variant)
    }

    /// The frame encoded as `variant` says: made by the first client that
    /// asks, the others wait for it and share it.
    pub fn encoded(&self, variant: &Variant) -> Encoded {
        let cell = lock(&self.encodings)
            .entry(variant.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| crate::encode::encode(&self.info, &self.pixels, variant).map(Arc::new))
            .clone()
    }
}

/// Every stream being watched.
#[derive(Default)]
pub struct Hub {
    sources: Mutex<HashMap<String, Arc<Source>>>,
    /// Bumped at every frame of any stream, for clients that watch several.
    any_frame: Arc<Signal>,
}

/// A counter to wait on.
#[derive(Default)]
pub struct Signal {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    fn bump(&self) {
        *lock(&self.count) += 1;
        self.changed.notify_all();
    }

    /// The current count.
    pub fn count(&self) -> u64 {
        *lock(&self.count)
    }

    /// Waits up to `timeout` for the count to pass `seen`; returns the count.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let guard = lock(&self.count);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |count| *count <= seen)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard
    }
}

struct Source {
    state: Mutex<SourceState>,
    changed: Condvar,
}

struct SourceState {
    latest: Option<Arc<Frame>>,
    watchers: usize,
    linger_until: Instant,
    /// Why the last read failed, until a read succeeds.
    error: Option<String>,
}

impl Hub {
    /// A hub with nothing watched.
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// The signal bumped at every frame of every watched stream.
    pub fn any_frame(&self) -> &Signal {
        &self.any_frame
    }

    /// Starts watching stream `name` (its reader thread starts if needed).
    ///
    /// A name that is invalid or has no stream is an error at once.
    pub fn watch(self: &Arc<Hub>, name: &str) -> Result<Watch, shmframe::Error> {
        shmframe::validate_name(name)?;
        let mut sources = lock(&self.sources);
        let source = match sources.get(name) {
            Some(source) => source.clone(),
            None => {
                let reader = Reader::open(name)?;
                let source = Arc::new(Source {
                    state: Mutex::new(SourceState {
                        latest: None,
                        watchers: 0,
                        linger_until: Instant::now() + LINGER,
                        error: None,
                    }),
                    changed: Condvar::new(),
                });
                sources.insert(name.to_string(), source.clone());
                let (hub, thread_source, thread_name) =
                    (self.clone(), source.clone(), name.to_string());
                let spawned = std::thread::Builder::new()
                    .name(format!("read {name}"))
                    .spawn(move || hub.read_stream(&thread_name, &thread_source, reader));
                if let Err(e) = spawned {
                    sources.remove(name);
                    return Err(shmframe::Error::Io {
                        context: "starting a reader thread".into(),
                        source: e,
                    });
                }
                source
            }
        };
        lock(&source.state).watchers += 1;
        Ok(Watch { source })
    }

    /// The reader thread of one stream: publishes its latest frames until
    /// nobody has watched it for [`LINGER`].
    fn read_stream(&self, name: &str, source: &Arc<Source>, mut reader: Reader) {
        let mut serial = 0;
        let mut last_published = None;
        let mut last_follow = Instant::now();
        let mut first = true;
        loop {
            if self.retire(name, source) {
                return;
            }
            let mut pixels = Vec::new();
            let read = if first {
                first = false;
                reader.latest(&mut pixels)
            } else {
                reader.wait_latest(&mut pixels, TICK)
            };
            match read {
                Ok(Some(info)) => {
                    serial += 1;
                    let interval_ns =
                        last_published.map_or(0, |t: u64| info.published_ns.saturating_sub(t));
                    last_published = Some(info.published_ns);
                    let frame = Arc::new(Frame {
                        serial,
                        interval_ns,
                        info,
                        pixels,
                        encodings: Mutex::default(),
                    });
                    let mut state = lock(&source.state);
                    state.latest = Some(frame);
                    state.error = None;
                    drop(state);
                    source.changed.notify_all();
                    self.any_frame.bump();
                }
                Ok(None) => {}
                Err(e) => {
                    lock(&source.state).error = Some(e.to_string());
                    std::thread::sleep(TICK);
                }
            }
            // A writer that restarts publishes a new segment under the name.
            if last_follow.elapsed() >= Duration::from_secs(1) {
                last_follow = Instant::now();
                let _ = reader.follow();
            }
        }
    }

    /// Removes `source` and says so when nobody watched it for a while.
    fn retire(&self, name: &str, source: &Arc<Source>) -> bool {
        // Lock order: sources, then state (as in `watch`).
        let mut sources = lock(&self.sources);
        let state = lock(&source.state);
        if state.watchers > 0 || Instant::now() < state.linger_until {
            return false;
        }
        if sources.get(name).is_some_and(|s| Arc::ptr_eq(s, source)) {
            sources.remove(name);
        }
        true
    }
}

/// A client's interest in one stream; dropping it lets the reader stop.
pub struct Watch {
    source: Arc<Source>,
}

impl Watch {
    /// The latest frame read, if any.
    pub fn latest(&self) -> Option<Arc<Frame>> {
        lock(&self.source.state).latest.clone()
    }

    /// Why the stream cannot be read now, if it cannot.
    pub fn error(&self) -> Option<String> {
        lock(&self.source.state).error.clone()
    }

    /// Waits up to `timeout` for a frame other than serial `seen`; the latest then.
    pub fn newer_than(&self, seen: u64, timeout: Duration) -> Option<Arc<Frame>> {
        let state = lock(&self.source.state);
        let (state, _) = self
            .source
            .changed
            .wait_timeout_while(state, timeout, |s| {
                s.latest.as_ref().map_or(true, |f| f.serial == seen)
            })
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.latest.clone().filter(|f| f.serial != seen)
    }

    /// Like [`newer_than`](Self::newer_than), but a frame published before
    /// `since_ns` (CLOCK_MONOTONIC; when the client became ready) that
    /// nobody has encoded as `variant` yet is stale: the next one, due within
    /// the stream's frame interval, is waited for. So the client sees a fresh
    /// frame, and clients that ask at nearly the same time share one frame
    /// (and one encoding) instead of each encoding an older one.
    pub fn fresh(
        &self,
        seen: u64,
        since_ns: u64,
        variant: &Variant,
        timeout: Duration,
    ) -> Option<Arc<Frame>> {
        let frame = self.newer_than(seen, timeout)?;
        if frame.info.published_ns >= since_ns || frame.interval_ns == 0 || frame.has(variant) {
            return Some(frame);
        }
        let wait = Duration::from_nanos(frame.interval_ns).min(MAX_FRESH_WAIT);
        Some(self.newer_than(frame.serial, wait).unwrap_or(frame))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut state = lock(&self.source.state);
        state.watchers -= 1;
        state.linger_until = Instant::now() + LINGER;
    }
}

/// Locks `mutex`, going on with the data if a thread panicked holding it
/// (every value here stays consistent between statements).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Picture;
    use shmframe::{FrameMeta, PixelFormat};

    #[test]
    fn every_client_shares_one_encoding_of_a_frame() {
        let meta = FrameMeta::packed(4, 4, PixelFormat::Rgb8);
        let frame = Arc::new(Frame {
            serial: 1,
            interval_ns: 0,
            info: FrameInfo {
                number: 1,
                index: 1,
                timestamp_ns: 1,
                published_ns: 1,
                meta,
                len: 48,
                missed: 0,
            },
            pixels: vec![7; 48],
            encodings: Mutex::default(),
        });
        let jpeg = Variant::Jpeg {
            picture: Picture::default(),
            quality: 80,
        };
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let (frame, jpeg) = (frame.clone(), jpeg.clone());
                std::thread::spawn(move || frame.encoded(&jpeg).unwrap())
            })
            .collect();
        let got: Vec<Arc<Encoding>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        assert!(got.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])));
        let raw = frame.encoded(&Variant::Rgba(Picture::default())).unwrap();
        assert!(!Arc::ptr_eq(&raw, &got[0]));
        assert_eq!(raw.bytes.len(), 64);
    }
}
