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
//! - the segment's writer closed, died or moved to another segment, or a
//!   successor segment has appeared under the stream's name (`follow` or a
//!   wait attaches to it): each told once per segment (twice at most, if it
//!   came while the fd was readable anyway and the helper had parked).
//!
//! A read (returning a frame or finding nothing new) clears it unless a
//! frame newer than every one returned is there, which also clears a told
//! end or successor; `follow` attaching to a successor clears it; and
//! `clear_readiness` clears it and counts every frame published so far as
//! seen. An end that comes while the fd is readable anyway is told by that
//! readiness: a reader that reads until it finds nothing new and then asks
//! `writer_alive` misses no end.
//!
//! The reader clears without waking the helper: the helper, once it has
//! signalled, sleeps on the stream for the frame after the latest one it saw,
//! so a reader's read costs no system call beyond draining the eventfd. Only
//! if that publish finds the fd still readable (the reader is not reading)
//! does the helper park until the reader reads, which then wakes it: a
//! reader that never reads costs the writer two wake calls, not one per
//! publish, and never a wait.
//!
//! Readiness is never spurious: whenever the fd is readable, one of the
//! conditions above held after the reader's last read (a Dekker pair of
//! SeqCst operations on `seen` and `signalled`, below, and the `control` lock
//! see to that), though a read on another thread may of course take the frame
//! between the event loop's wake-up and its own read.
//!
//! Dropping the reader stops and joins the helper: it wakes the stream's
//! futex (the stream's other sleeping readers look and sleep again) until the
//! helper has gone, usually once, within microseconds.

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

/// Pause between the wakes of a helper that is being stopped.
const STOP_POLL: Duration = Duration::from_micros(200);

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
    /// Wakes a pausing helper when the reader follows or stops.
    changed: Condvar,
    /// Longest futex sleep of the helper.
    liveness_interval: Duration,
}

struct Control {
    segment: Arc<Segment>,
    /// Whether the helper sleeps on `changed` until the reader clears (it
    /// does after a publish found the fd still readable).
    parked: bool,
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
                parked: false,
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

    /// The reader read: `Some(index)` of the frame it returned, or `None`
    /// if it found nothing new. Clears the signal unless a frame newer than
    /// every one returned is there. The helper is woken only if it parked:
    /// otherwise it sleeps on the stream anyway, for the frame after the
    /// latest one it saw.
    #[inline]
    pub(crate) fn read(&self, returned: Option<u64>) {
        if let Some(index) = returned {
            // Dekker pair with the helper's `signal`: either it loads this
            // `seen` (and does not signal for it), or the load below sees its
            // `signalled`.
            self.shared.seen.fetch_max(index, SeqCst);
        }
        if self.shared.signalled.load(SeqCst) {
            let control = self.shared.lock();
            // The helper signalled for a frame it saw: this load sees it too.
            if control.segment.region().latest() <= self.shared.seen.load(SeqCst) {
                self.shared.unsignal(&control);
                if control.parked {
                    self.shared.changed.notify_all();
                }
            }
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
        if let Some(helper) = self.helper.take() {
            // The helper may be asleep on the stream's futex: wake it rather
            // than wait out its timeout. One between its look at `stop` and
            // its sleep misses a wake, so wake until it has gone.
            while !helper.is_finished() {
                segment.region().wake_sleepers();
                std::thread::sleep(STOP_POLL);
            }
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

    /// The helper thread: signals what there is to tell, then sleeps on the
    /// stream until the frame after the latest it saw (or pauses while the
    /// writer is gone), whether or not the reader has cleared the signal yet;
    /// only if a publish finds the signal still there does it park until the
    /// reader reads.
    fn run(&self) {
        let mut watched_generation = u64::MAX;
        // What this helper told about the current segment already.
        let (mut told_end, mut told_successor) = (false, false);
        let mut writer_gone = false;
        // Whether the last sleep on the stream began with the fd readable.
        let mut slept_signalled = false;
        loop {
            let segment = {
                let mut control = self.lock();
                if std::mem::take(&mut slept_signalled) && self.signalled.load(SeqCst) {
                    // A publish came and the reader has not read since: it
                    // is not reading now. Park until it does, which spares
                    // the writer a wake call per publish meanwhile (what
                    // comes meanwhile is told by the readiness already there).
                    control.parked = true;
                    while self.signalled.load(SeqCst) && !self.stop.load(SeqCst) {
                        control = self
                            .changed
                            .wait(control)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                    control.parked = false;
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
            let truncated = segment.truncated();
            let latest = region.latest();
            if !truncated && latest > self.seen.load(SeqCst) && !self.signalled.load(SeqCst) {
                self.signal(watched_generation, || {
                    region.latest() > self.seen.load(SeqCst)
                });
                continue;
            }
            if !(writer_gone || truncated || region.state() != STATE_LIVE) {
                slept_signalled = self.signalled.load(SeqCst);
                if !region.wait_for_frame_after_at_once(latest, self.liveness_interval)
                    && region.state() == STATE_LIVE
                {
                    // A timeout: is the writer still there?
                    writer_gone = !segment.lock_held();
                }
            } else if !told_end {
                told_end = self.signal(watched_generation, || true);
            } else if !told_successor && segment.replaced_on_disk() {
                told_successor = self.signal(watched_generation, || true);
            } else {
                // Nothing more to tell about this segment until the reader follows.
                self.pause(
                    watched_generation,
                    if told_successor { IDLE } else { GONE_POLL },
                );
            }
        }
    }

    /// Makes the fd readable if `still_due` holds once `signalled` is set;
    /// returns whether it is readable (a signal already there counts).
    /// Nothing is signalled for a segment the reader has left (`generation`
    /// is that of the helper's look; `seen` may already count the next one).
    fn signal(&self, generation: u64, still_due: impl Fn() -> bool) -> bool {
        let control = self.lock();
        if self.stop.load(SeqCst) || control.generation != generation {
            return false;
        }
        if self.signalled.load(SeqCst) {
            return true;
        }
        // Dekker pair with `Readiness::read`: set the flag, then look at
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

    /// Sleeps up to `pause`, or until the reader follows or stops (at once
    /// if it followed since the look of `generation`).
    fn pause(&self, generation: u64, pause: Duration) {
        let control = self.lock();
        if !self.stop.load(SeqCst) && control.generation == generation {
            let _ = self.changed.wait_timeout(control, pause);
        }
    }
}
