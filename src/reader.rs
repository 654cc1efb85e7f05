//! A reader: attaches to a stream by name and copies frames out.

use crate::error::{Error, Result};
use crate::hold_file::{hold_prefix, HoldFile};
use crate::holders::{holders, Holder};
use crate::layout::{header, FrameInfo, STATE_LIVE};
use crate::protocol::{Destination, Region, RingReader};
use crate::readiness::Readiness;
use crate::segment::Segment;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Pause between looks for a successor while the writer is gone.
const GONE_POLL: Duration = Duration::from_millis(20);

/// Shortest time a wait keeps retrying a slot the writer keeps busy, even
/// when its own deadline is nearer: a few publishes of a live writer.
const MIN_READ_PATIENCE: Duration = Duration::from_millis(50);

/// How to open a stream.
#[derive(Clone, Debug)]
pub struct ReaderOptions {
    /// Users (by uid) besides ourselves whose segments we agree to read.
    pub trusted_uids: Vec<u32>,
    /// Longest single futex sleep of a wait: how soon a waiting reader notices
    /// that its writer died or was replaced (default 100 ms).
    pub liveness_interval: Duration,
    /// Frames this reader asks to hold in place at once (default 2; the
    /// writer grants what is free of its own `holds`).
    pub holds: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            trusted_uids: Vec::new(),
            liveness_interval: Duration::from_millis(100),
            holds: 2,
        }
    }
}

/// What a reader knows about the stream it is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStatus {
    /// Process id of the segment's writer.
    pub writer_pid: u32,
    /// Whether that writer is still running and publishing into this segment.
    pub alive: bool,
    /// Slots in the ring.
    pub slots: usize,
    /// Largest frame a slot holds, in bytes.
    pub slot_capacity: usize,
    /// Frames published into this segment (the latest frame's number).
    pub frames_published: u64,
    /// CLOCK_MONOTONIC nanoseconds at which the segment was created.
    pub created_ns: u64,
    /// Holds the writer honours in all (0: readers always copy).
    pub holds: usize,
    /// Holds the writer has granted to readers now (taken or not).
    pub holds_granted: usize,
}

/// A read-only view of one stream. Any number may be open; none can disturb the writer.
pub struct Reader {
    /// Shared with the readiness helper, if any.
    pub(crate) segment: Arc<Segment>,
    /// Where this reader is in the stream. Holds are taken through `&self`,
    /// so it sits in a mutex, which a copy through `&mut self` never locks.
    ring: Mutex<RingReader>,
    pub(crate) options: ReaderOptions,
    /// Started by the first `readiness_fd`.
    readiness: Option<Readiness>,
    /// This reader's hold file, made on its first hold (`held_frame.rs`).
    /// Shared with this reader's owned held frames, which may outlive it.
    pub(crate) hold_file: OnceLock<Arc<HoldFile>>,
}

/// Which frame a wait is for.
#[derive(Clone, Copy)]
enum Want {
    Latest,
    Next,
}

impl Reader {
    /// Opens stream `name`.
    pub fn open(name: &str) -> Result<Reader> {
        Reader::open_with(name, &ReaderOptions::default())
    }

    /// Opens stream `name` with options.
    pub fn open_with(name: &str, options: &ReaderOptions) -> Result<Reader> {
        let segment = Segment::open_read_only(name, &options.trusted_uids)?;
        let ring = Mutex::new(RingReader::new(&segment.region()));
        Ok(Reader {
            segment: Arc::new(segment),
            ring,
            options: options.clone(),
            readiness: None,
            hold_file: OnceLock::new(),
        })
    }

    /// Copies the latest frame into `buf` (resized to the frame's length, reusing
    /// its allocation); `None` if nothing has been published yet.
    #[inline]
    pub fn latest(&mut self, buf: &mut Vec<u8>) -> Result<Option<FrameInfo>> {
        self.latest_to(&mut Destination::Vec(buf))
    }

    /// Copies the latest frame into the start of `out` (the bytes past the
    /// frame's `len` keep their values); `None` if nothing has been published
    /// yet, [`Error::BufferTooSmall`] if the frame does not fit (see
    /// [`latest_info`](Self::latest_info) for its size).
    #[inline]
    pub fn latest_into(&mut self, out: &mut [u8]) -> Result<Option<FrameInfo>> {
        self.latest_to(&mut Destination::Slice(out))
    }

    #[inline]
    fn latest_to(&mut self, dest: &mut Destination<'_>) -> Result<Option<FrameInfo>> {
        let got = ring_of(&mut self.ring).read_latest_to(&self.segment.region(), dest);
        self.returned(self.unless_truncated(got))
    }

    /// The latest frame's metadata (size, format, number, timestamp) without
    /// copying its pixels; `None` if nothing has been published yet.
    pub fn latest_info(&self) -> Result<Option<FrameInfo>> {
        self.unless_truncated(self.ring_now().peek_latest(&self.segment.region()))
    }

    /// Copies the next frame in order into `buf`; `None` if there is no new one.
    ///
    /// The first in-order frame is the one that was latest when the reader
    /// opened. If the writer lapped the reader, `missed` in the result says how
    /// many frames were skipped.
    #[inline]
    pub fn next(&mut self, buf: &mut Vec<u8>) -> Result<Option<FrameInfo>> {
        self.next_to(&mut Destination::Vec(buf))
    }

    /// [`next`](Self::next) into the start of `out`. If the frame does not fit,
    /// [`Error::BufferTooSmall`] says its size and the frame stays next, so a
    /// read into a larger buffer gets it.
    #[inline]
    pub fn next_into(&mut self, out: &mut [u8]) -> Result<Option<FrameInfo>> {
        self.next_to(&mut Destination::Slice(out))
    }

    #[inline]
    fn next_to(&mut self, dest: &mut Destination<'_>) -> Result<Option<FrameInfo>> {
        let got = ring_of(&mut self.ring).read_next_to(&self.segment.region(), dest);
        self.returned(self.unless_truncated(got))
    }

    /// `result`, unless the segment was truncated under this reader: what was
    /// read may then be zeros standing in for the lost pages.
    #[inline]
    pub(crate) fn unless_truncated<T>(&self, result: Result<T>) -> Result<T> {
        if self.segment.truncated() {
            return Err(Error::Truncated {
                name: self.segment.name().to_string(),
            });
        }
        result
    }

    /// Waits up to `timeout` for a frame newer than the last one returned and
    /// copies the latest into `buf`; `None` on timeout.
    pub fn wait_latest(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Duration,
    ) -> Result<Option<FrameInfo>> {
        self.wait(&mut Destination::Vec(buf), timeout, Want::Latest)
    }

    /// [`wait_latest`](Self::wait_latest) into the start of `out`;
    /// [`Error::BufferTooSmall`] at once if the frame does not fit.
    pub fn wait_latest_into(
        &mut self,
        out: &mut [u8],
        timeout: Duration,
    ) -> Result<Option<FrameInfo>> {
        self.wait(&mut Destination::Slice(out), timeout, Want::Latest)
    }

    /// Waits up to `timeout` for the next frame in order; `None` on timeout.
    pub fn wait_next(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> Result<Option<FrameInfo>> {
        self.wait(&mut Destination::Vec(buf), timeout, Want::Next)
    }

    /// [`wait_next`](Self::wait_next) into the start of `out`;
    /// [`Error::BufferTooSmall`] at once if the frame does not fit (it stays next).
    pub fn wait_next_into(
        &mut self,
        out: &mut [u8],
        timeout: Duration,
    ) -> Result<Option<FrameInfo>> {
        self.wait(&mut Destination::Slice(out), timeout, Want::Next)
    }

    fn wait(
        &mut self,
        dest: &mut Destination<'_>,
        timeout: Duration,
        want: Want,
    ) -> Result<Option<FrameInfo>> {
        let deadline = Instant::now() + timeout;
        // The last read error, returned if no successor turns up in time.
        let mut failure = None;
        loop {
            if self.segment.truncated() && self.follow()? {
                failure = None;
            }
            let seen = self.seen(want);
            if self.segment.truncated() || self.segment.region().latest() > seen {
                let got = self.read_before(dest, want, deadline);
                match self.unless_truncated(got) {
                    Ok(Some(info)) => return Ok(Some(info)),
                    Ok(None) => {}
                    // The caller's buffer, not the segment, is at fault.
                    Err(e @ Error::BufferTooSmall { .. }) => return Err(e),
                    // This segment cannot be read: a successor may be there
                    // already (read it now), or arrive before the deadline.
                    Err(_) if self.follow()? => {
                        failure = None;
                        continue;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return failure.map_or(Ok(None), Err);
            }
            let slice =
                (deadline - now).min(self.options.liveness_interval.max(Duration::from_millis(1)));
            let region = self.segment.region();
            if failure.is_none()
                && region.state() == STATE_LIVE
                && (region.wait_for_frame_after(seen, slice) || self.segment.lock_held())
            {
                continue;
            }
            // The writer closed, moved or died, or its segment is unreadable:
            // follow a successor if there is one.
            if self.follow()? {
                failure = None;
            } else {
                std::thread::sleep(slice.min(GONE_POLL));
            }
        }
    }

    /// Where this reader is in the stream now.
    pub(crate) fn ring_now(&self) -> RingReader {
        *self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `step` on where this reader is in the stream, keeping what it
    /// changed (a hold through `&self`).
    pub(crate) fn with_ring<T>(&self, step: impl FnOnce(&mut RingReader) -> T) -> T {
        step(&mut self.ring.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The index of the last frame a wait for `want` has seen.
    fn seen(&self, want: Want) -> u64 {
        let ring = self.ring_now();
        match want {
            Want::Latest => ring.last_seen(),
            Want::Next => ring.next_number() - 1,
        }
    }

    /// Waits up to `timeout` until a frame newer than the last `want` saw is
    /// published (following a moved writer); whether there is one.
    pub(crate) fn wait_for_newer(&mut self, timeout: Duration, latest: bool) -> Result<bool> {
        let want = if latest { Want::Latest } else { Want::Next };
        let deadline = Instant::now() + timeout;
        loop {
            if self.segment.truncated() {
                self.follow()?;
            }
            let region = self.segment.region();
            if !self.segment.truncated() && region.latest() > self.seen(want) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let slice =
                (deadline - now).min(self.options.liveness_interval.max(Duration::from_millis(1)));
            if region.state() == STATE_LIVE
                && (region.wait_for_frame_after(self.seen(want), slice) || self.segment.lock_held())
            {
                continue;
            }
            if !self.follow()? {
                std::thread::sleep(slice.min(GONE_POLL));
            }
        }
    }

    /// One read for a wait, retrying a busy slot until `deadline` at most
    /// (but long enough for a live writer's next publish to free it). What is
    /// left in a segment is read before a successor is followed.
    fn read_before(
        &mut self,
        dest: &mut Destination<'_>,
        want: Want,
        deadline: Instant,
    ) -> Result<Option<FrameInfo>> {
        match want {
            Want::Latest => {
                let region = self.segment.region();
                // A writer that closed or moved will never free a busy slot.
                let give_up_at = if region.state() == STATE_LIVE {
                    deadline.max(Instant::now() + MIN_READ_PATIENCE)
                } else {
                    Instant::now()
                };
                let got = ring_of(&mut self.ring).read_latest_until(&region, dest, give_up_at);
                self.returned(got)
            }
            Want::Next => self.next_to(dest),
        }
    }

    /// Whether the writer is still running and publishing into this segment.
    pub fn writer_alive(&self) -> bool {
        !self.segment.truncated()
            && self.segment.region().state() == STATE_LIVE
            && self.segment.lock_held()
    }

    /// If the stream's name now refers to a new segment (the writer restarted
    /// or moved to bigger slots), attaches to it and returns `true`.
    ///
    /// Frame numbers start again in the new segment; in-order reading resumes
    /// at its latest frame. The wait functions call this on their own.
    pub fn follow(&mut self) -> Result<bool> {
        if !self.segment.replaced_on_disk() {
            return Ok(false);
        }
        let segment = match Segment::open_read_only(self.segment.name(), &self.options.trusted_uids)
        {
            Ok(segment) => segment,
            // Between a writer's clean exit and a successor there may be no file.
            Err(Error::NoStream { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        self.ring = Mutex::new(RingReader::new(&segment.region()));
        self.segment = Arc::new(segment);
        // Its hold files are named for the old segment.
        self.hold_file = OnceLock::new();
        if let Some(readiness) = &self.readiness {
            readiness.follow(Arc::clone(&self.segment));
        }
        Ok(true)
    }

    /// A file descriptor for event loops (epoll, `poll`, tokio's `AsyncFd`,
    /// asyncio's `add_reader`, Qt's `QSocketNotifier`), readable while a frame
    /// newer than the last one this reader returned is published, or after
    /// the writer closed, died or was replaced.
    ///
    /// Level-triggered and never readable for nothing: a read (returning a
    /// frame or finding nothing new) clears it unless a frame newer than
    /// every one returned is there, as does [`follow`](Self::follow)
    /// attaching to a successor. The end of a writer is told once per
    /// segment (by the readiness already there, if any: read until nothing
    /// is new, then ask [`writer_alive`](Self::writer_alive)), then once more
    /// when a successor appears (a wait or `follow` attaches to it).
    /// [`clear_readiness`](Self::clear_readiness) clears it too. Never
    /// read, write or close the fd yourself: the reader owns it, and the raw
    /// fd stays valid as long as the reader lives.
    ///
    /// ```
    /// use rustix::event::{poll, PollFd, PollFlags, Timespec};
    /// use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
    /// # let name = format!("doc-readiness-{}", std::process::id());
    /// let mut writer = Writer::create(&name, &WriterOptions { slot_capacity: 64, ..Default::default() })?;
    /// let mut reader = Reader::open(&name)?;
    /// writer.publish(&FrameMeta::packed(2, 2, PixelFormat::Rgba8), &[0u8; 16])?;
    ///
    /// let mut buf = Vec::new();
    /// let fd = reader.readiness_fd()?;
    /// let timeout = Timespec { tv_sec: 10, tv_nsec: 0 };
    /// poll(&mut [PollFd::from_borrowed_fd(fd, PollFlags::IN)], Some(&timeout)).expect("poll");
    /// // Read until nothing is new: that clears the fd.
    /// while let Some(frame) = reader.next(&mut buf)? {
    ///     assert_eq!(frame.number, 1);
    /// }
    /// if !reader.writer_alive() && !reader.follow()? {
    ///     // The stream ended.
    /// }
    /// # Ok::<(), shmframe::Error>(())
    /// ```
    ///
    /// The first call starts a helper thread that sleeps on the stream as
    /// [`wait_latest`](Self::wait_latest) does; readers that never call this
    /// run none. The writer never learns of the fd, so a reader that never
    /// reads cannot slow it down.
    pub fn readiness_fd(&mut self) -> Result<BorrowedFd<'_>> {
        if self.readiness.is_none() {
            self.readiness = Some(Readiness::start(
                Arc::clone(&self.segment),
                ring_of(&mut self.ring).last_seen(),
                self.options.liveness_interval,
            )?);
        }
        Ok(self.readiness.as_ref().expect("started above").fd())
    }

    /// Makes the readiness fd unreadable until the next reason (a newer
    /// frame, or the end or successor of the writer not yet told); a no-op
    /// before [`readiness_fd`](Self::readiness_fd).
    pub fn clear_readiness(&self) {
        if let Some(readiness) = &self.readiness {
            readiness.clear();
        }
    }

    /// `got`, after telling the readiness helper (if any) what the read found.
    #[inline]
    fn returned(&self, got: Result<Option<FrameInfo>>) -> Result<Option<FrameInfo>> {
        if let Ok(found) = &got {
            self.tell_readiness(found.as_ref().map(|info| info.index));
        }
        got
    }

    /// Tells the readiness helper, if any, what a read (a copy or a hold)
    /// found: the frame's index, or nothing new.
    pub(crate) fn tell_readiness(&self, found: Option<u64>) {
        if let Some(readiness) = &self.readiness {
            readiness.read(found);
        }
    }

    /// What the segment says about the stream now.
    pub fn status(&self) -> StreamStatus {
        let region: Region<'_> = self.segment.region();
        let words = region.static_header();
        let geometry = region.geometry();
        StreamStatus {
            writer_pid: words[header::WRITER_PID] as u32,
            alive: self.writer_alive(),
            slots: geometry.slot_count,
            slot_capacity: geometry.slot_capacity,
            frames_published: region.latest(),
            created_ns: words[header::CREATED_NS],
            holds: geometry.holds,
            // A ticket word is 0 while free (only the writer stores it).
            holds_granted: (0..geometry.holds)
                .filter(|&t| region.ticket(t).load(std::sync::atomic::Ordering::Relaxed) != 0)
                .count(),
        }
    }

    /// The readers holding (or asking for) frames of this stream in place,
    /// from their hold files: for reports such as `shmframe info`.
    pub fn holders(&self) -> Vec<Holder> {
        let token = self.segment.wake_token();
        match self.segment.path().parent() {
            Some(dir) if token != 0 => holders(dir, &hold_prefix(token), &self.segment.region()),
            _ => Vec::new(),
        }
    }

    /// The stream name.
    pub fn name(&self) -> &str {
        self.segment.name()
    }

    /// The segment file's path.
    pub fn path(&self) -> &Path {
        self.segment.path()
    }
}

/// The ring of a reader borrowed exclusively: no lock taken.
#[inline]
fn ring_of(ring: &mut Mutex<RingReader>) -> &mut RingReader {
    ring.get_mut().unwrap_or_else(PoisonError::into_inner)
}
