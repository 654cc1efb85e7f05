//! The lock-free protocol: a seqlock-protected ring of frame slots.
//!
//! This is written once, over a [`Region`] it does not own, so the same code
//! runs on the real mapping, on a heap region (unit tests, Miri) and under loom.
//!
//! Frames are placed by their *index*, 1, 2, 3, ... without gaps, which is
//! also what `latest` counts; a frame's *number* is its index unless the
//! writer gives another (an importer keeps its sender's numbers).
//!
//! **Writer** (one per stream), publishing frame index `n` into slot `n % N`:
//! 1. make the slot's sequence word odd (`seq | 1`), then a Release fence;
//! 2. store the metadata and pixels with Relaxed word stores;
//! 3. make the sequence word even again (Release);
//! 4. store `n` into `latest` (Release), bump the futex word (Release), a
//!    SeqCst fence, and wake the futex only if some reader may be asleep on it
//!    (`asleep_after` is at least `n`: a sleeper saw frame `n - 1` or later).
//!
//! **Reader** (any number, read-only): load `latest` (Acquire), load the slot's
//! sequence word (Acquire, must be even), copy metadata and pixels with Relaxed
//! word loads, an Acquire fence, load the sequence word again: if it changed the
//! copy may be torn and is thrown away. A large copy takes that look after
//! every `COPY_CHUNK` bytes (256 KiB) too, and stops at the first change. The
//! slot must also hold index `n`; if it holds a later one the writer lapped
//! the reader. An in-order reader first tries the slot of its next frame
//! without loading `latest`: a frame the slot holds whole is published.
//!
//! **Sleeper**: load the futex word (Acquire), then `latest` (`L`), poll
//! briefly; then raise `asleep_after` to `L + 1` (an atomic maximum), a SeqCst
//! fence, and sleep on the futex word unless it changed. The two SeqCst fences
//! make a Dekker pair: either the writer sees the registration and wakes, or
//! the sleeper sees the bump and does not sleep. Only the publish right after
//! the futex value a sleeper waits on can find it asleep, so one registration
//! asks for one wake: a publish with nobody asleep makes no system call, a
//! woken sleeper costs no further wakes, and one that dies asleep costs one.
//!
//! **Cost.** A small frame's read and publish are dominated by call
//! overhead, not by the protocol, unless the whole path inlines: the read and
//! publish functions are marked `#[inline]` down to the slot, and a read
//! fills one `FrameInfo` in place instead of moving a `Result<Option<..>>`
//! through five calls (a 64 B `Reader::latest` took 60 ns of CPU, mostly
//! store-forwarding stalls on that value; now 27 ns).
//!
//! With N slots the writer can be writing frame `L + 1` (into the slot of
//! `L + 1 - N`) while `latest` is `L`, so the frames `L + 2 - N ..= L` are
//! always intact: a reader of the latest frame is never blocked by the writer,
//! and an in-order reader that falls further behind skips ahead and is told
//! exactly how many frames it missed.

use crate::copy::{load_bytes, store_bytes_at};
use crate::error::{Error, Result};
use crate::futex;
use crate::layout::{
    decode_meta, encode_meta, header, slot, FrameInfo, FrameMeta, Geometry, SLOT_HEADER_SIZE,
    STATE_LIVE,
};
use crate::sync::{fence, AtomicU32, AtomicU64, Ordering::*, Patience, MAX_ATTEMPTS};
use std::time::Duration;

/// Polls of the futex word a waiting reader makes before it sleeps (a few
/// microseconds); none under loom, where each would multiply the states.
const SPINS_BEFORE_SLEEP: u32 = if cfg!(loom) { 0 } else { 256 };

/// Longest sleep between two attempts at a slot the writer keeps changing.
const RETRY_SLEEP: Duration = Duration::from_millis(10);

/// A view of one stream's shared words: the segment as 64-bit words, its
/// futex word, and the word where its sleepers register (`asleep_after`).
#[derive(Clone, Copy)]
pub struct Region<'a> {
    words: &'a [AtomicU64],
    futex: &'a AtomicU32,
    asleep_after: &'a AtomicU64,
    geometry: Geometry,
}

impl<'a> Region<'a> {
    /// A region over `words`, which must hold at least `geometry.total_size` bytes.
    ///
    /// `futex` is the 32-bit futex word; in a mapped segment it is the word at
    /// byte `header::FUTEX_BYTE_OFFSET`, which the protocol never touches as a
    /// 64-bit word. `asleep_after` is where sleepers register; in a mapped
    /// segment it lives in the wake file (`layout::wake`), which readers may
    /// write and the writer only reads.
    #[inline]
    pub fn new(
        words: &'a [AtomicU64],
        futex: &'a AtomicU32,
        asleep_after: &'a AtomicU64,
        geometry: Geometry,
    ) -> Result<Self> {
        if words.len() < geometry.total_words() {
            return Err(too_small(words.len() * 8, geometry.total_size));
        }
        Ok(Region {
            words,
            futex,
            asleep_after,
            geometry,
        })
    }

    /// The checked geometry of this region.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    #[inline]
    fn header(&self, index: usize) -> &'a AtomicU64 {
        &self.words[index]
    }

    /// All words of slot `index`: its header, then its payload.
    #[inline]
    fn slot(&self, index: usize) -> &'a [AtomicU64] {
        let start = self.geometry.slot_word(index);
        &self.words[start..start + self.geometry.slot_stride / 8]
    }

    /// Number of the latest published frame (0 if none).
    #[inline]
    pub fn latest(&self) -> u64 {
        // Pairs with the writer's Release store of `latest` (step 4): the slot
        // holding that frame is then visible as complete.
        self.header(header::LATEST).load(Acquire)
    }

    /// Whether the slot of frame `wanted` holds that frame, committed: a look
    /// at its sequence and index words only, which decides whether a full
    /// read of the slot is worth trying before `latest` says the frame is there.
    #[inline]
    fn slot_holds(&self, wanted: u64) -> bool {
        let words = self.slot(self.geometry.slot_of(wanted));
        // Pairs with the writer's Release store of the even sequence: the
        // read that follows sees the frame's stores. Checking the sequence
        // again after the index is what keeps a stale sequence value from
        // passing (and the loom models small: the read after it never mixes
        // the stores of two frames in this slot).
        let seq = words[slot::SEQ].load(Acquire);
        seq & 1 == 0
            && words[slot::INDEX].load(Relaxed) == wanted
            && unchanged(&words[slot::SEQ], seq)
    }

    /// The writer's state word (`STATE_LIVE`, `STATE_CLOSED` or `STATE_REPLACED`).
    pub fn state(&self) -> u64 {
        // Pairs with the Release store in `RingWriter::close`.
        self.header(header::STATE).load(Acquire)
    }

    /// Copies the eight static header words.
    pub fn static_header(&self) -> [u64; 8] {
        std::array::from_fn(|i| self.words[i].load(Relaxed))
    }

    /// Sleeps until the writer's next publish (or state change), for at most `timeout`.
    pub fn wait_for_next_publish(&self, timeout: Duration) {
        // If the writer publishes between this load and the sleep, `sleep`
        // sees a changed word and returns at once.
        let ticket = self.futex.load(Acquire);
        self.sleep(
            ticket,
            self.latest(),
            deadline_after(timeout),
            SPINS_BEFORE_SLEEP,
        );
    }

    /// Sleeps until a frame newer than `seen` is published or the state leaves
    /// `STATE_LIVE`, for at most `timeout` (and possibly less). Returns whether
    /// a newer frame is there.
    pub fn wait_for_frame_after(&self, seen: u64, timeout: Duration) -> bool {
        self.wait_for_frame_until(seen, deadline_after(timeout))
    }

    /// As [`wait_for_frame_after`](Self::wait_for_frame_after), until
    /// CLOCK_MONOTONIC reaches `deadline_ns` at the latest.
    pub fn wait_for_frame_until(&self, seen: u64, deadline_ns: u64) -> bool {
        self.wait_for_frame(seen, deadline_ns, SPINS_BEFORE_SLEEP)
    }

    /// As [`wait_for_frame_after`](Self::wait_for_frame_after), but sleeps
    /// at once, without polling first: for a thread that has just woken
    /// another one that may need its CPU (the readiness helper).
    pub fn wait_for_frame_after_at_once(&self, seen: u64, timeout: Duration) -> bool {
        self.wait_for_frame(seen, deadline_after(timeout), 0)
    }

    fn wait_for_frame(&self, seen: u64, deadline_ns: u64, spins: u32) -> bool {
        // Pairs with the writer's Release bump of the futex word: if this load
        // sees a bump, the loads below see the `latest` (and state) stored before it.
        let ticket = self.futex.load(Acquire);
        let latest = self.latest();
        if latest > seen {
            return true;
        }
        if self.state() != STATE_LIVE {
            return false;
        }
        self.sleep(ticket, latest, deadline_ns, spins);
        self.latest() > seen
    }

    /// Wakes every reader asleep on this region's futex (they look again
    /// and sleep on): how a reader's own helper thread is stopped.
    pub fn wake_sleepers(&self) {
        futex::wake_all(self.futex);
    }

    /// A sleeper's registration, having loaded the futex word and then seen
    /// `latest`: asks the writer to wake the futex when it publishes frame
    /// `latest + 1` (or a later one, if another sleeper saw more). A sleeper
    /// that dies registered costs the writer one wake call, never a lost
    /// wake-up of another sleeper. (Public for the loom models.)
    pub fn register_sleeper(&self, latest: u64) {
        // A maximum never lowers another sleeper's registration.
        self.asleep_after
            .fetch_max(latest.saturating_add(1), Relaxed);
    }

    /// Polls the futex word `spins` times, then registers as a sleeper that
    /// saw `latest` and sleeps on the futex word until CLOCK_MONOTONIC
    /// reaches `deadline_ns`, unless it has moved on from `ticket`.
    fn sleep(&self, ticket: u32, latest: u64, deadline_ns: u64, spins: u32) {
        // A writer publishing fast publishes again within microseconds:
        // catching that by polling spares the writer a wake call (and this
        // reader a sleep), so its cost stays the same with readers waiting.
        for _ in 0..spins {
            // Pairs with the writer's Release bump of the futex word: the
            // caller's loads after this see what was published before it.
            if self.futex.load(Acquire) != ticket {
                return;
            }
            std::hint::spin_loop();
        }
        self.register_sleeper(latest);
        // Pairs with the writer's SeqCst fence in `bump_and_wake` (a Dekker
        // pair): if the writer's load of `asleep_after` missed the registration
        // above, its fence came first, so the kernel's load of the futex word
        // (after this fence) sees its bump and does not sleep. Otherwise the
        // writer wakes after its bump: the kernel either sees a changed value
        // and returns at once, or has queued us before the wake. No wake-up is
        // lost.
        fence(SeqCst);
        futex::wait_until(self.futex, ticket, deadline_ns);
    }
}

/// The error for a region of `bytes` bytes that cannot hold `needed` (out
/// of line: every read and publish builds a region).
#[cold]
fn too_small(bytes: usize, needed: usize) -> Error {
    Error::BadSegment {
        reason: format!("region of {bytes} bytes is smaller than the geometry's {needed}"),
    }
}

/// The CLOCK_MONOTONIC deadline `timeout` from now (never, under loom: no time there).
fn deadline_after(timeout: Duration) -> u64 {
    #[cfg(not(loom))]
    let now = crate::clock::monotonic_ns();
    #[cfg(loom)]
    let now = u64::MAX;
    now.saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX))
}

/// A frame's own number and timestamp, for a writer that republishes frames
/// from elsewhere (the bridge's importer keeps its sender's). Without one, a
/// frame's number is its index in the segment and its timestamp the moment it
/// is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameOrigin {
    /// The frame's number (any value; it need not grow or be consecutive).
    pub number: u64,
    /// The frame's timestamp in nanoseconds (on whatever clock it came with).
    pub timestamp_ns: u64,
}

/// Fills a slot in place; given to the closure of [`RingWriter::publish_with`].
pub struct SlotFill<'a> {
    payload: &'a [AtomicU64],
    len: usize,
}

impl SlotFill<'_> {
    /// Byte length of the frame being filled.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame has no bytes (never true for a valid frame).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `bytes` at byte `offset` of the frame.
    #[inline]
    pub fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<()> {
        match offset.checked_add(bytes.len()) {
            Some(end) if end <= self.len => {
                store_bytes_at(self.payload, offset, bytes);
                Ok(())
            }
            _ => Err(Error::BadFrame {
                reason: format!(
                    "write of {} bytes at offset {offset} runs past the frame's {} bytes",
                    bytes.len(),
                    self.len
                ),
            }),
        }
    }
}

/// A frame begun in its slot and neither committed nor aborted yet: the slot's
/// sequence is odd (`odd`) and its metadata written.
#[derive(Debug)]
#[must_use = "a begun frame is committed or aborted"]
// Only `Writer::begin` (absent under loom) reads the length and aborts; the
// loom models reach begin and commit through `publish_with`.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) struct BegunSlot {
    index: u64,
    odd: u64,
    len: usize,
    origin: Option<FrameOrigin>,
}

#[cfg_attr(loom, allow(dead_code))]
impl BegunSlot {
    /// Byte length of the frame.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// The writer's side of the protocol. Not `Clone`: one writer per stream.
#[derive(Debug)]
pub struct RingWriter {
    next: u64,
    wakes: u64,
}

impl RingWriter {
    /// Writes the static header of a fresh, zeroed region and returns its writer.
    ///
    /// The region must not be visible to readers yet (it is linked under its
    /// name only afterwards, which orders these stores before any reader's loads).
    pub fn init(region: &Region<'_>, writer_pid: u32, created_ns: u64) -> RingWriter {
        let words = region.geometry.header_words(writer_pid, created_ns);
        for (cell, word) in region.words.iter().zip(words) {
            cell.store(word, Relaxed);
        }
        RingWriter { next: 1, wakes: 0 }
    }

    /// Number of frames published so far.
    pub fn published(&self) -> u64 {
        self.next - 1
    }

    /// Number of `FUTEX_WAKE` calls made so far (none while nobody sleeps).
    pub fn wakes(&self) -> u64 {
        self.wakes
    }

    /// Publishes `pixels` as the next frame; returns its number. `stamp` gives
    /// the frame's timestamp once its pixels are in place.
    #[inline]
    pub fn publish(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        stamp: impl FnOnce() -> u64,
        pixels: &[u8],
    ) -> Result<u64> {
        self.publish_pixels(region, meta, None, stamp, pixels)
    }

    /// [`publish`](Self::publish) with the frame's own number and timestamp;
    /// returns its index.
    #[inline]
    pub fn publish_from(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        origin: FrameOrigin,
        stamp: impl FnOnce() -> u64,
        pixels: &[u8],
    ) -> Result<u64> {
        self.publish_pixels(region, meta, Some(origin), stamp, pixels)
    }

    /// Publishes a copy of `pixels`, which must be exactly the frame's length.
    #[inline]
    fn publish_pixels(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        origin: Option<FrameOrigin>,
        stamp: impl FnOnce() -> u64,
        pixels: &[u8],
    ) -> Result<u64> {
        let expected = meta.checked_len()?;
        if pixels.len() != expected {
            return Err(Error::LengthMismatch {
                got: pixels.len(),
                expected,
            });
        }
        self.publish_checked(region, meta, expected, origin, stamp, |fill| {
            fill.write(0, pixels)
        })
    }

    /// Publishes the next frame, filled in place by `fill`; returns its number.
    ///
    /// Bytes `fill` does not write keep whatever the slot held before. If
    /// `fill` fails nothing is published: the slot is marked empty and the
    /// error is returned. If `fill` panics, the slot is marked empty the same
    /// way while the panic unwinds, so the writer stays usable if the caller
    /// catches it. `stamp` is called after `fill`, so the timestamp
    /// marks the commit and latency measures the transport, not the filling.
    #[inline]
    pub fn publish_with<E: From<Error>>(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        stamp: impl FnOnce() -> u64,
        fill: impl FnOnce(&mut SlotFill<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let len = meta.checked_len()?;
        self.publish_checked(region, meta, len, None, stamp, fill)
    }

    /// [`publish_with`](Self::publish_with) with the frame's own number and
    /// timestamp; returns its index.
    #[inline]
    pub fn publish_with_from<E: From<Error>>(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        origin: FrameOrigin,
        stamp: impl FnOnce() -> u64,
        fill: impl FnOnce(&mut SlotFill<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let len = meta.checked_len()?;
        self.publish_checked(region, meta, len, Some(origin), stamp, fill)
    }

    /// [`publish_with`](Self::publish_with) for `meta` whose length `len` is
    /// checked, numbered and stamped by `origin` if given. Returns the index.
    #[inline]
    fn publish_checked<E: From<Error>>(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        len: usize,
        origin: Option<FrameOrigin>,
        stamp: impl FnOnce() -> u64,
        fill: impl FnOnce(&mut SlotFill<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let begun = self.begin(region, meta, len, origin)?;
        let slot_words = region.slot(region.geometry.slot_of(begun.index));
        // From here until the commit, an error or an unwinding `fill` or
        // `stamp` leaves the slot empty and consistent.
        let unpublished = EmptyOnDrop {
            slot_words,
            even: begun.odd.wrapping_add(1),
        };
        let mut slot_fill = SlotFill {
            payload: &slot_words[SLOT_HEADER_SIZE / 8..],
            len,
        };
        fill(&mut slot_fill)?;
        let now = stamp();
        std::mem::forget(unpublished);
        Ok(self.commit(region, begun, now))
    }

    /// Starts the next frame in its slot: makes the slot's sequence odd and
    /// writes the metadata of `meta`, whose length `len` is checked. The
    /// caller fills the payload, then [`commit`](Self::commit)s or
    /// [`abort`](Self::abort)s before anything else publishes.
    #[inline]
    pub(crate) fn begin(
        &mut self,
        region: &Region<'_>,
        meta: &FrameMeta,
        len: usize,
        origin: Option<FrameOrigin>,
    ) -> Result<BegunSlot> {
        let capacity = region.geometry.slot_capacity;
        if len > capacity {
            return Err(Error::FrameTooLarge { len, capacity });
        }
        let index = self.next;
        let slot_words = region.slot(region.geometry.slot_of(index));
        let seq_word = &slot_words[slot::SEQ];
        // Only this writer stores the sequence word, so Relaxed reads its own
        // value. `| 1` makes it odd whatever it held, so a slot can never end
        // up odd at rest and even while written.
        let odd = seq_word.load(Relaxed) | 1;
        seq_word.store(odd, Relaxed);
        // Pairs with the reader's Acquire fence before its second sequence load:
        // a reader whose copy saw any store below also sees the odd sequence.
        fence(Release);
        let number = origin.map_or(index, |o| o.number);
        let meta_words = encode_meta(index, number, meta, len);
        for (cell, word) in slot_words[slot::INDEX..].iter().zip(meta_words) {
            cell.store(word, Relaxed);
        }
        Ok(BegunSlot {
            index,
            odd,
            len,
            origin,
        })
    }

    /// Publishes the frame `begun` started, stamped `now`; returns its index.
    #[inline]
    pub(crate) fn commit(&mut self, region: &Region<'_>, begun: BegunSlot, now: u64) -> u64 {
        let BegunSlot {
            index, odd, origin, ..
        } = begun;
        let slot_words = region.slot(region.geometry.slot_of(index));
        let timestamp = origin.map_or(now, |o| o.timestamp_ns);
        slot_words[slot::TIMESTAMP_NS].store(timestamp, Relaxed);
        slot_words[slot::PUBLISHED_NS].store(now, Relaxed);
        // Pairs with the reader's first Acquire sequence load: a reader that
        // sees this even value sees the whole frame.
        slot_words[slot::SEQ].store(odd.wrapping_add(1), Release);
        // Pairs with the reader's Acquire load of `latest` (`Region::latest`).
        region.header(header::LATEST).store(index, Release);
        self.next += 1;
        if bump_and_wake(region, index) {
            self.wakes += 1;
        }
        index
    }

    /// Publishes nothing for the frame `begun` started: its slot is left empty
    /// (the stores of a failed `publish_with`, which the loom models cover).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn abort(&mut self, region: &Region<'_>, begun: BegunSlot) {
        drop(EmptyOnDrop {
            slot_words: region.slot(region.geometry.slot_of(begun.index)),
            even: begun.odd.wrapping_add(1),
        });
    }

    /// Whether `begun` is still this writer's frame in progress in `region`:
    /// nothing was published or begun anew there since.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn is_begun(&self, region: &Region<'_>, begun: &BegunSlot) -> bool {
        let slot_words = region.slot(region.geometry.slot_of(begun.index));
        // Only this writer stores these words: Relaxed reads its own values.
        begun.index == self.next
            && slot_words[slot::SEQ].load(Relaxed) == begun.odd
            && slot_words[slot::INDEX].load(Relaxed) == begun.index
    }

    /// The first payload byte of `begun`'s slot, for a caller that fills it
    /// through a pointer (see `Writer::begin`).
    #[cfg(not(loom))]
    pub(crate) fn payload_ptr(region: &Region<'_>, begun: &BegunSlot) -> *mut u8 {
        let slot_words = region.slot(region.geometry.slot_of(begun.index));
        // A pointer from the whole payload slice, so it may reach every byte
        // of it; the atomics' cells allow writes through a shared reference.
        slot_words[SLOT_HEADER_SIZE / 8..]
            .as_ptr()
            .cast_mut()
            .cast()
    }

    /// Marks the region closed (or replaced) and wakes every waiting reader.
    pub fn close(&mut self, region: &Region<'_>, state: u64) {
        // Pairs with the Acquire load in `Region::state`.
        region.header(header::STATE).store(state, Release);
        // Wakes whatever `asleep_after` says: no sleeper may miss the end.
        bump(region);
        futex::wake_all(region.futex);
        self.wakes += 1;
    }
}

/// Marks a slot whose frame was not committed as holding no frame, and makes
/// its sequence even again: dropped when `fill` fails or unwinds.
struct EmptyOnDrop<'a> {
    slot_words: &'a [AtomicU64],
    even: u64,
}

impl Drop for EmptyOnDrop<'_> {
    fn drop(&mut self) {
        self.slot_words[slot::INDEX].store(0, Relaxed);
        // Pairs with the reader's first Acquire sequence load: a reader that
        // sees this even value sees index 0 (no frame).
        self.slot_words[slot::SEQ].store(self.even, Release);
    }
}

/// Bumps the futex word: the sleepers' sign that something changed.
#[inline]
fn bump(region: &Region<'_>) {
    // Only the writer stores the futex word. The Release store pairs with the
    // Acquire load in `Region::wait_for_frame_until`.
    let ticket = region.futex.load(Relaxed).wrapping_add(1);
    region.futex.store(ticket, Release);
}

/// Bumps the futex word after frame `number` and wakes its sleepers if one may
/// be asleep; returns whether it woke.
#[inline]
fn bump_and_wake(region: &Region<'_>, number: u64) -> bool {
    bump(region);
    // Pairs with the sleeper's SeqCst fence in `Region::sleep`: either the
    // load below sees its registration, or the kernel's check of the futex
    // word in its wait sees the bump above.
    fence(SeqCst);
    // A sleeper that saw frame `number - 1` or later may sleep on the value
    // this publish replaced; one that saw less waited on an older value,
    // which an earlier publish woke (or which it saw change and did not sleep
    // on). Whatever a reader wrote here only decides whether this call wakes.
    let wake = region.asleep_after.load(Relaxed) >= number;
    if wake {
        futex::wake_all(region.futex);
    }
    wake
}

/// What one seqlock read of a slot found.
enum SlotRead {
    /// A consistent copy of the frame with this index: its metadata in the
    /// read's `FrameInfo`, its pixels in the destination if they fit there.
    Frame(u64),
    /// A consistent slot holding no frame (never written, or a failed fill).
    Empty,
    /// The writer was changing the slot; the copy was thrown away.
    Busy,
}

/// Where a read puts the frame's pixels.
#[derive(Debug)]
pub enum Destination<'b> {
    /// Nowhere: only the metadata is read.
    Nowhere,
    /// A vector, resized to the frame's length (its allocation is reused).
    Vec(&'b mut Vec<u8>),
    /// The start of a caller's slice, which must hold at least the frame's
    /// length; the bytes past the frame keep their values.
    Slice(&'b mut [u8]),
}

impl Destination<'_> {
    /// The bytes a frame of `len` bytes is copied into; `None` if it goes
    /// nowhere or does not fit (the read then checks the slot and copies nothing).
    #[inline]
    fn room(&mut self, len: usize) -> Option<&mut [u8]> {
        match self {
            Destination::Nowhere => None,
            Destination::Vec(buf) => {
                if buf.len() < len {
                    buf.resize(len, 0);
                }
                buf.truncate(len);
                Some(buf.as_mut_slice())
            }
            Destination::Slice(out) => out.get_mut(..len),
        }
    }

    /// Whether the pixels of `info` fit here; the error says how much room it needs.
    #[inline]
    fn fitting(&self, info: &FrameInfo) -> Result<()> {
        match self {
            Destination::Slice(out) if out.len() < info.len => Err(Error::BufferTooSmall {
                len: info.len,
                got: out.len(),
            }),
            _ => Ok(()),
        }
    }
}

/// A reader's side of the protocol: where it is in the stream.
#[derive(Debug, Clone)]
pub struct RingReader {
    next: u64,
    last_seen: u64,
    /// Frames skipped but not yet reported (carried over a `None` return).
    missed: u64,
}

impl RingReader {
    /// A reader whose first in-order frame is the latest one at this moment
    /// (or frame 1 if none has been published yet).
    pub fn new(region: &Region<'_>) -> RingReader {
        RingReader {
            next: region.latest().max(1),
            last_seen: 0,
            missed: 0,
        }
    }

    /// Index of the frame an in-order read returns next.
    pub fn next_number(&self) -> u64 {
        self.next
    }

    /// Index of the last frame this reader returned (0 if none).
    pub fn last_seen(&self) -> u64 {
        self.last_seen
    }

    /// Copies the latest frame into `buf`; `None` if nothing was published yet.
    #[inline]
    pub fn read_latest(
        &mut self,
        region: &Region<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<Option<FrameInfo>> {
        self.read_latest_to(region, &mut Destination::Vec(buf))
    }

    /// Copies the latest frame into the start of `out`; `None` if nothing was
    /// published yet, [`Error::BufferTooSmall`] if the frame does not fit.
    #[inline]
    pub fn read_latest_into(
        &mut self,
        region: &Region<'_>,
        out: &mut [u8],
    ) -> Result<Option<FrameInfo>> {
        self.read_latest_to(region, &mut Destination::Slice(out))
    }

    /// As [`read_latest`](Self::read_latest) into `dest`, but gives up retrying
    /// a slot the writer keeps busy at `deadline` (a waiting reader's own deadline).
    #[cfg(not(loom))]
    pub fn read_latest_until(
        &mut self,
        region: &Region<'_>,
        dest: &mut Destination<'_>,
        deadline: std::time::Instant,
    ) -> Result<Option<FrameInfo>> {
        self.read_latest_with(region, dest, Patience::until(deadline))
    }

    /// [`read_latest`](Self::read_latest) into `dest`.
    #[inline]
    pub fn read_latest_to(
        &mut self,
        region: &Region<'_>,
        dest: &mut Destination<'_>,
    ) -> Result<Option<FrameInfo>> {
        self.read_latest_with(region, dest, Patience::default())
    }

    #[inline(always)]
    fn read_latest_with(
        &mut self,
        region: &Region<'_>,
        dest: &mut Destination<'_>,
        patience: Patience,
    ) -> Result<Option<FrameInfo>> {
        let mut info = FrameInfo::NONE;
        if !latest_slot(region, dest, patience, &mut info)? {
            return Ok(None);
        }
        self.last_seen = info.index;
        Ok(Some(info))
    }

    /// The latest frame's metadata, without copying its pixels.
    pub fn peek_latest(&self, region: &Region<'_>) -> Result<Option<FrameInfo>> {
        let mut info = FrameInfo::NONE;
        let found = latest_slot(
            region,
            &mut Destination::Nowhere,
            Patience::default(),
            &mut info,
        )?;
        Ok(found.then_some(info))
    }

    /// Copies the next frame in order into `buf`; `None` if the reader is caught up.
    ///
    /// If the writer lapped the reader, the oldest intact frame is returned and
    /// `missed` says exactly how many frames were skipped.
    #[inline]
    pub fn read_next(
        &mut self,
        region: &Region<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<Option<FrameInfo>> {
        self.read_next_to(region, &mut Destination::Vec(buf))
    }

    /// [`read_next`](Self::read_next) into the start of `out`. If the frame
    /// does not fit, [`Error::BufferTooSmall`] is returned and the frame stays
    /// next, so a read into a larger buffer gets it.
    #[inline]
    pub fn read_next_into(
        &mut self,
        region: &Region<'_>,
        out: &mut [u8],
    ) -> Result<Option<FrameInfo>> {
        self.read_next_to(region, &mut Destination::Slice(out))
    }

    /// [`read_next`](Self::read_next) into `dest`.
    #[inline]
    pub fn read_next_to(
        &mut self,
        region: &Region<'_>,
        dest: &mut Destination<'_>,
    ) -> Result<Option<FrameInfo>> {
        // A poller looks at its next frame's slot first, and needs `latest`
        // (another cache line, stored after the slot) only if the frame is not
        // there: a 64 B frame then reaches it 20-50 ns sooner.
        if region.slot_holds(self.next) {
            let mut info = FrameInfo::NONE;
            let read = read_slot(region, self.next, dest, &mut info)?;
            if matches!(read, SlotRead::Frame(index) if index == self.next) {
                return self.took_next(dest, info);
            }
        }
        let slots = region.geometry.slot_count as u64;
        for _ in 0..MAX_ATTEMPTS {
            let latest = region.latest();
            if self.next > latest {
                return Ok(None);
            }
            let mut info = FrameInfo::NONE;
            // Frames before `latest + 2 - slots` may be overwritten already.
            let oldest_intact = latest.saturating_add(2).saturating_sub(slots).max(1);
            if self.next < oldest_intact {
                self.missed = self.missed.saturating_add(oldest_intact - self.next);
                self.next = oldest_intact;
            }
            match read_slot(region, self.next, dest, &mut info)? {
                SlotRead::Frame(index) if index == self.next => return self.took_next(dest, info),
                SlotRead::Frame(index) if index < self.next => {
                    return Err(Error::CorruptFrame {
                        reason: format!(
                            "the slot of published frame index {} holds older index {index}",
                            self.next
                        ),
                    })
                }
                // The frame was overwritten (or is being): it is gone. Skip it;
                // the next pass skips on to the oldest intact frame.
                _ => {
                    self.missed = self.missed.saturating_add(1);
                    self.next = self.next.saturating_add(1);
                }
            }
        }
        Err(Error::Starved {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Returns the next frame, read whole into `info` (and `dest` if it fit),
    /// and moves on to the one after it.
    #[inline(always)]
    fn took_next(
        &mut self,
        dest: &Destination<'_>,
        mut info: FrameInfo,
    ) -> Result<Option<FrameInfo>> {
        dest.fitting(&info)?;
        self.last_seen = self.next;
        self.next = self.next.saturating_add(1);
        info.missed = std::mem::take(&mut self.missed);
        Ok(Some(info))
    }
}

/// Reads the latest frame's slot (metadata into `info`, pixels into `dest`),
/// retrying while the writer laps the reader; whether there was a frame.
#[inline(always)]
fn latest_slot(
    region: &Region<'_>,
    dest: &mut Destination<'_>,
    mut patience: Patience,
    info: &mut FrameInfo,
) -> Result<bool> {
    loop {
        let latest = region.latest();
        if latest == 0 {
            return Ok(false);
        }
        match read_slot(region, latest, dest, info)? {
            SlotRead::Frame(index) if index == latest => return dest.fitting(info).map(|()| true),
            SlotRead::Frame(index) if index < latest => {
                return Err(Error::CorruptFrame {
                    reason: format!(
                        "the slot of latest frame index {latest} holds older index {index}"
                    ),
                })
            }
            // Lapped (a newer frame is there, or being written): look again.
            _ if patience.pause(|| region.wait_for_next_publish(RETRY_SLEEP)) => {}
            _ => {
                return Err(Error::Starved {
                    attempts: patience.attempts(),
                })
            }
        }
    }
}

/// One seqlock read of the slot of frame index `wanted`: its metadata goes
/// into `info`, its pixels into `dest` only if it holds that frame and they
/// fit there.
#[inline(always)]
fn read_slot(
    region: &Region<'_>,
    wanted: u64,
    dest: &mut Destination<'_>,
    info: &mut FrameInfo,
) -> Result<SlotRead> {
    let words = region.slot(region.geometry.slot_of(wanted));
    // Pairs with the writer's Release stores of the even sequence value.
    let seq = words[slot::SEQ].load(Acquire);
    if seq & 1 == 1 {
        return Ok(SlotRead::Busy);
    }
    let meta: [u64; slot::META_WORDS] =
        std::array::from_fn(|i| words[slot::INDEX + i].load(Relaxed));
    let decoded = decode_meta(&meta, region.geometry.slot_capacity, info);
    if decoded.is_ok() && info.index == wanted {
        if let Some(room) = dest.room(info.len) {
            let payload = &words[SLOT_HEADER_SIZE / 8..];
            for (k, chunk) in room.chunks_mut(COPY_CHUNK).enumerate() {
                // Between chunks, give up a copy the writer has lapped; the
                // look after the last chunk is the seqlock's own, below.
                if k > 0 && !unchanged(&words[slot::SEQ], seq) {
                    return Ok(SlotRead::Busy);
                }
                load_bytes(&payload[k * (COPY_CHUNK / 8)..], chunk);
            }
        }
    }
    if !unchanged(&words[slot::SEQ], seq) {
        return Ok(SlotRead::Busy);
    }
    if meta[0] == 0 {
        return Ok(SlotRead::Empty);
    }
    decoded.map(|()| SlotRead::Frame(info.index))
}

/// Bytes a read copies between two looks at the sequence word: a reader the
/// writer laps in the middle of a large frame stops within this many bytes
/// instead of finishing a copy it will throw away (its memory bandwidth is
/// the writer's too). One word under loom, so a model of two-word frames
/// takes the early exit.
#[cfg(not(loom))]
const COPY_CHUNK: usize = 256 * 1024;
#[cfg(loom)]
const COPY_CHUNK: usize = 8;

/// Whether the sequence word still holds `seq` after the loads before this
/// call: the seqlock's check, also taken between chunks of a copy.
#[inline(always)]
fn unchanged(seq_word: &AtomicU64, seq: u64) -> bool {
    // Pairs with the writer's Release fence after it made the sequence odd: if
    // any load before saw a store of a newer frame, the load below sees the
    // changed sequence.
    fence(Acquire);
    seq_word.load(Relaxed) == seq
}

#[cfg(all(test, not(loom)))]
#[path = "protocol_tests.rs"]
mod tests;
