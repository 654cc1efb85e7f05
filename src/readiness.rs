//! Readiness: a file descriptor per reader that event loops can watch.
//!
//! A futex cannot be polled, so a reader that asks for its fd gets a helper
//! thread that sleeps on the stream's futex exactly as `Reader::wait_latest`
//! does (registered in the wake file: a publish with nobody asleep still makes
//! no system call) and makes an eventfd readable when there is something to
//! read. The eventfd is the reader's own: the writer never learns of it, so no
//! reader can make the writer block or signal anything, and the helper writes
//! it only on a change from "not signalled" to "signalled", so its counter never
//! exceeds 1. Readers that never ask for the fd run no thread.
//!
//! **Contract** (level-triggered): the fd is readable while
//! - a frame newer than the last one the reader returned is published in the
//!   segment it reads (frame indexes count from the segment's start), or
//! - the segment's writer closed, died or moved to another segment (told once
//!   per segment), or a successor segment has appeared under the stream's name
//!   (told once per segment; `follow` or a wait attaches to it).
//!
//! Any read that returns a frame, and `follow` attaching to a successor,
//! clear it; if a newer frame is still there the helper makes it readable again
//! at once. `clear_readiness` clears it and counts every frame published so
//! far as seen: the fd stays unreadable until the next frame (or an end not
//! yet told).
//! Readiness is never spurious: whenever the fd is readable, one of the
//! conditions above held after the reader's last read (a Dekker pair of
//! SeqCst operations on `seen` and `signalled`, below, and the `control` lock
//! see to that), though a read on another thread may of course take the frame
//! between the event loop's wake-up and its own read.
//!
//! The helper's longest sleep is the reader's liveness interval, which bounds
//! how long dropping the reader may wait to join it (usually not at all: the
//! drop wakes the stream's futex, which costs the stream's other sleeping
//! readers one spurious wake-up each).

use crate::error::{Error, Result};
use crate::layout::STATE_LIVE;
use crate::segment::Segment;
use rustix::event::{eventfd, EventfdFlags};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Pause between looks for a successor while the writer is gone.
const GONE_POLL: Duration = Duration::from_millis(20);

/// Sleep of a helper with nothing left to tell (the reader wakes it).
const IDLE: Duration = Duration::from_secs(3600);

/// A reader's readiness fd and the helper thread that feeds it.
pub(crate) struct Readiness {
    shared: Arc<Shared>,
    helper: Option<JoinHandle<()>>,
}

/// What the reader and its helper share.
struct Shared {
    /// The eventfd (non-blocking): readable while `signalled`.
    event: OwnedFd,
    /// Index of the last frame the reader returned, in the segment of `control`.
    seen: AtomicU64,
    /// Whether the eventfd holds a signal.
    signalled: AtomicBool,
    /// Set when the reader drops.
    stop: AtomicBool,
    /// The segment to watch; the lock also serialises signalling and clearing.
    control: Mutex<Control>,
    /// Wakes the helper when the reader clears, follows or stops.
    changed: Condvar,
    /// Longest futex sleep of the helper.
    liveness_interval: Duration,
}

struct Control {
    segment: Arc<Segment>,
    /// Bumped whenever `segment` changes, so the helper resets what it told.
    generation: u64,
}

impl Readiness {
    /// Starts a helper watching `segment`, where the reader last returned frame `seen`.
    pub(crate) fn start(
        segment: Arc<Segment>,
        seen: u64,
        liveness_interval: Duration,
    ) -> Result<Readiness> {
        let event = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| Error::io("creating the reader's eventfd", e))?;
        let shared = Arc::new(Shared {
            event,
            seen: AtomicU64::new(seen),
            signalled: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            control: Mutex::new(Control {
                segment,
                generation: 0,
            }),
            changed: Condvar::new(),
            liveness_interval: liveness_interval.max(Duration::from_millis(1)),
        });
        let helper_shared = Arc::clone(&shared);
        let helper = std::thread::Builder::new()
            .name("shmframe-ready".into())
            .spawn(move || helper_shared.run())
            .map_err(|e| Error::io("starting the reader's readiness thread", e))?;
        Ok(Readiness {
            shared,
            helper: Some(helper),
        })
    }

    /// The eventfd.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.shared.event.as_fd()
    }

    /// The reader returned frame `index`: clears the signal it may stand for.
    #[inline]
    pub(crate) fn returned(&self, index: u64) {
        // Dekker pair with the helper's `signal`: either it loads this `seen`
        // (and does not signal for it), or this load sees its `signalled`.
        self.shared.seen.fetch_max(index, SeqCst);
        if self.shared.signalled.load(SeqCst) {
            let control = self.shared.lock();
            self.shared.unsignal(&control);
            self.shared.changed.notify_all();
        }
    }

    /// The reader attached to a successor `segment`, where it has returned no frame yet.
    pub(crate) fn follow(&self, segment: Arc<Segment>) {
        let mut control = self.shared.lock();
        let old = std::mem::replace(&mut control.segment, segment);
        // The helper may be asleep on the old segment's futex.
        old.region().wake_sleepers();
        control.generation += 1;
        self.shared.seen.store(0, SeqCst);
        self.shared.unsignal(&control);
        self.shared.changed.notify_all();
    }

    /// Counts every frame published so far as seen, and clears the signal
    /// (the helper signals again for a newer frame, or an end not yet told).
    pub(crate) fn clear(&self) {
        let control = self.shared.lock();
        let latest = control.segment.region().latest();
        self.shared.seen.fetch_max(latest, SeqCst);
        self.shared.unsignal(&control);
        self.shared.changed.notify_all();
    }
}

impl Drop for Readiness {
    fn drop(&mut self) {
        let segment = {
            let control = self.shared.lock();
            self.shared.stop.store(true, SeqCst);
            self.shared.changed.notify_all();
            Arc::clone(&control.segment)
        };
        // The helper may be asleep on the stream's futex: wake it rather than
        // wait out its timeout. A helper between its look at `stop` and its
        // sleep misses this and wakes by its timeout instead.
        segment.region().wake_sleepers();
        if let Some(helper) = self.helper.take() {
            let _ = helper.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        // The helper never panics while holding the lock; if it did, the
        // state it guards is still consistent (plain stores).
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drains the eventfd. The caller holds the control lock.
    fn unsignal(&self, _control: &MutexGuard<'_, Control>) {
        if self.signalled.swap(false, SeqCst) {
            let mut count = [0u8; 8];
            // EAGAIN (the helper took its signal back) is fine too.
            let _ = rustix::io::read(&self.event, &mut count);
        }
    }

    /// The helper thread: watches the segment, signals, waits to be cleared.
    fn run(&self) {
        let mut watched_generation = u64::MAX;
        // What this helper told about the current segment already.
        let (mut told_end, mut told_successor) = (false, false);
        let mut writer_gone = false;
        loop {
            let segment = {
                let mut control = self.lock();
                while self.signalled.load(SeqCst) && !self.stop.load(SeqCst) {
                    control = self
                        .changed
                        .wait(control)
                        .unwrap_or_else(|e| e.into_inner());
                }
                if self.stop.load(SeqCst) {
                    return;
                }
                if control.generation != watched_generation {
                    watched_generation = control.generation;
                    (told_end, told_successor, writer_gone) = (false, false, false);
                }
                Arc::clone(&control.segment)
            };
            let region = segment.region();
            let seen = self.seen.load(SeqCst);
            let ended = writer_gone || segment.truncated() || region.state() != STATE_LIVE;
            if region.latest() > seen && !segment.truncated() {
                self.signal(|| region.latest() > self.seen.load(SeqCst));
            } else if ended && !told_end {
                told_end = self.signal(|| true);
            } else if ended {
                if !told_successor && segment.replaced_on_disk() {
                    told_successor = self.signal(|| true);
                } else {
                    // Nothing more to tell about this segment until the reader follows.
                    self.pause(if told_successor { IDLE } else { GONE_POLL });
                }
            } else if !region.wait_for_frame_after(seen, self.liveness_interval)
                && region.state() == STATE_LIVE
            {
                // A timeout: is the writer still there?
                writer_gone = !segment.lock_held();
            }
        }
    }

    /// Signals if `still_due` holds once `signalled` is set; returns whether it signalled.
    fn signal(&self, still_due: impl Fn() -> bool) -> bool {
        let _control = self.lock();
        if self.stop.load(SeqCst) {
            return false;
        }
        // Dekker pair with `Readiness::returned`: set the flag, then look at
        // `seen` again (in `still_due`); a reader that stored a newer `seen`
        // before that look is not signalled, one that stores it after sees the
        // flag and clears.
        self.signalled.store(true, SeqCst);
        if !still_due() {
            self.signalled.store(false, SeqCst);
            return false;
        }
        // Cannot block (the counter is at most 1) and cannot fail for an
        // eventfd we own; if it somehow did, the reader's waits still work.
        let _ = rustix::io::write(&self.event, &1u64.to_ne_bytes());
        true
    }

    /// Sleeps up to `pause`, or until the reader changes something.
    fn pause(&self, pause: Duration) {
        let control = self.lock();
        if !self.stop.load(SeqCst) && !self.signalled.load(SeqCst) {
            let _ = self.changed.wait_timeout(control, pause);
        }
    }
}
