//! The lock-free protocol: a seqlock-protected ring of frame slots.
//!
//! This is written once, over a [`Region`] it does not own, so the same code
//! runs on the real mapping, on a heap region (unit tests, Miri) and under loom.
//!
//! Frames are placed by their *index*, 1, 2, 3, ... without gaps, which is
//! also what `latest` counts; a frame's *number* is its index unless the
//! writer gives another (an importer keeps its sender's numbers).
//!
//! **Writer** (one per stream), publishing frame index `n` into a slot `s` it
//! picks (`n % N` unless that slot is held; never the latest frame's slot):
//! 1. make the slot's sequence word odd (`seq | 1`), then a Release fence (a
//!    SeqCst fence and a look at the holds, with holds: see **Holds**);
//! 2. store the metadata and pixels with Relaxed word stores;
//! 3. make the sequence word even again (Release);
//! 4. store `place_word(n, s)` into placement entry `n % N` (Release), then
//!    `n` into `latest` (Release), bump the futex word (Release), a
//!    SeqCst fence, and wake the futex only if some reader may be asleep on it
//!    (`asleep_after` is at least `n`: a sleeper saw frame `n - 1` or later).
//!
//! **Reader** (any number, read-only): load `latest` (Acquire), find its slot
//! in the placement table (Acquire), load the slot's
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
//! **Holds** (zero-copy reads). A reader with a hold entry the writer honours
//! stores `place_word(k, s)` into it, a SeqCst fence, then loads slot `s`'s
//! sequence (Acquire, must be even) and index (must be `k`): only then is the
//! hold granted, and the reader may use the slot's bytes in place until it
//! stores 0 into the entry (Release). The writer, having made its candidate
//! slot's sequence odd, takes a SeqCst fence and loads every honoured entry
//! (Acquire): if one names the slot and the frame in it, it restores the
//! even sequence (it wrote nothing) and takes another slot. The two fences make
//! a Dekker pair: either the writer sees the entry, or the reader sees the odd
//! sequence (or a later frame) and does not take the hold. With `H` entries
//! honoured and `N >= H + 2` slots, the writer marks every slot but the latest
//! odd at once if its first pick was claimed meanwhile: one look then finds at
//! most `H` of those `N - 1` held, so it never waits and never retries.
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
    decode_meta, encode_meta, header, place_word, slot, split_place, FrameInfo, FrameMeta,
    Geometry, MAX_HOLDS, MAX_INDEX, SLOT_HEADER_SIZE, STATE_LIVE,
};
use crate::sync::{fence, AtomicU32, AtomicU64, Ordering::*, Patience};
use std::time::Duration;

/// Polls of the futex word a waiting reader makes before it sleeps (a few
/// microseconds); none under loom, where each would multiply the states.
const SPINS_BEFORE_SLEEP: u32 = if cfg!(loom) { 0 } else { 256 };

/// Longest sleep between two attempts at a slot the writer keeps changing.
const RETRY_SLEEP: Duration = Duration::from_millis(10);

/// The hold entries a writer honours, wherever they live (in hold files for
/// a mapped segment, in plain words for tests and models).
pub trait HoldEntries {
    /// Loads every honoured entry (Acquire: pairs with a reader's Release
    /// store of 0 when it lets go) into `out`; returns how many it loaded.
    fn load_all(&self, out: &mut [u64; MAX_HOLDS]) -> usize;

    /// How many entries are honoured (at least as many as `load_all`
    /// loads). Only the writer grants them, so 0 stays 0 for the whole
    /// of a publish: no hold can be claimed meanwhile.
    fn honoured(&self) -> usize;
}

/// No holds at all.
pub struct NoHolds;

impl HoldEntries for NoHolds {
    fn load_all(&self, _: &mut [u64; MAX_HOLDS]) -> usize {
        0
    }

    fn honoured(&self) -> usize {
        0
    }
}

/// Plain entry words, all honoured (tests and models).
impl<const K: usize> HoldEntries for [AtomicU64; K] {
    fn load_all(&self, out: &mut [u64; MAX_HOLDS]) -> usize {
        for (word, out) in self.iter().zip(out.iter_mut()) {
            *out = word.load(Acquire);
        }
        K.min(MAX_HOLDS)
    }

    fn honoured(&self) -> usize {
        K.min(MAX_HOLDS)
    }
}

/// A view of one stream's shared words: the segment as 64-bit words, its
/// futex word, the word where its sleepers register (`asleep_after`), and
/// (for its writer) the hold entries it honours.
#[derive(Clone, Copy)]
pub struct Region<'a> {
    words: &'a [AtomicU64],
    futex: &'a AtomicU32,
    asleep_after: &'a AtomicU64,
    holds: &'a (dyn HoldEntries + Sync),
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
            holds: &NoHolds,
            geometry,
        })
    }

    /// This region with the hold entries its writer honours.
    #[inline]
    pub fn with_holds(self, holds: &'a (dyn HoldEntries + Sync)) -> Region<'a> {
        Region { holds, ..self }
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

    /// The placement entry of frame `index`: the index of the frame it
    /// places (`index`, a later one, or an earlier one not yet replaced) and
    /// its slot, checked to be in the ring.
    #[inline]
    fn placed(&self, index: u64) -> (u64, Option<usize>) {
        // Pairs with the writer's Release store of the entry: the slot's
        // commit of that frame is visible to the loads that follow.
        let word = self.words[self.geometry.place_word_of(index)].load(Acquire);
        let (placed, slot) = split_place(word);
        (placed, (slot < self.geometry.slot_count).then_some(slot))
    }

    /// [`placed`](Self::placed), but without a look at the table if slot
    /// `own` holds frame `index` committed.
    #[inline]
    fn placed_unless_in(&self, own: usize, index: u64) -> (u64, Option<usize>) {
        if self.slot_holds(own, index) {
            (index, Some(own))
        } else {
            self.placed(index)
        }
    }

    /// Frame `index`'s own slot (`index % N`): where the writer puts it
    /// unless a hold kept it out, so where readers look first.
    #[inline]
    fn own_slot(&self, index: u64) -> usize {
        (index % self.geometry.slot_count as u64) as usize
    }

    /// The slot frame `index` was placed in, if its placement entry still says so.
    #[inline]
    fn slot_of(&self, index: u64) -> Option<usize> {
        match self.placed(index) {
            (placed, slot) if placed == index => slot,
            _ => None,
        }
    }

    /// The index word of slot `at`, which a writer stores first when it
    /// writes a frame into the slot.
    #[inline]
    fn slot_index(&self, at: usize) -> u64 {
        self.slot(at)[slot::INDEX].load(Relaxed)
    }

    /// Ticket word `ticket` (`0..holds`), which only the writer stores.
    #[inline]
    pub fn ticket(&self, ticket: usize) -> &'a AtomicU64 {
        &self.words[self.geometry.ticket_word_of(ticket)]
    }

    /// Whether slot `at` holds frame `wanted`, committed: a look
    /// at its sequence and index words only, which decides whether a full
    /// read of the slot is worth trying before `latest` says the frame is there.
    #[inline]
    fn slot_holds(&self, at: usize, wanted: u64) -> bool {
        let words = self.slot(at);
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
    /// The slot the writer picked for it (`take_slot`).
    slot: usize,
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
    /// `next % N`, kept without a division (one per publish costs 64 B frames).
    next_own: usize,
    wakes: u64,
    /// The frame index each slot holds (0: none), as this writer left it.
    slot_index: Vec<u64>,
    /// The slot of the latest frame (none before the first publish).
    latest_slot: Option<usize>,
    /// Publishes that found their first pick held and marked every slot.
    skips: u64,
    /// The hold entries the last publish with holds granted saw, which
    /// steer the next pick away from slots held for a while.
    seen_held: Vec<u64>,
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
        RingWriter {
            next: 1,
            next_own: 1 % region.geometry.slot_count,
            wakes: 0,
            slot_index: vec![0; region.geometry.slot_count],
            latest_slot: None,
            skips: 0,
            seen_held: Vec::new(),
        }
    }

    /// Number of publishes whose first-choice slot was claimed by a hold
    /// while the writer took it (each then marked every slot once).
    pub fn contended_picks(&self) -> u64 {
        self.skips
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
    #[inline(always)]
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
    #[inline(always)]
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
        let slot_words = region.slot(begun.slot);
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

    /// Starts the next frame: picks its slot (`take_slot`: the sequence goes
    /// odd) and writes the metadata of `meta`, whose length `len` is checked.
    /// The caller fills the payload, then [`commit`](Self::commit)s or
    /// [`abort`](Self::abort)s before anything else publishes.
    #[inline(always)]
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
        if index > MAX_INDEX {
            return Err(Error::BadFrame {
                reason: format!("the stream has used all {MAX_INDEX} frame indexes; reconfigure the writer to start a new segment"),
            });
        }
        let (at, odd) = self.take_slot(region);
        let slot_words = region.slot(at);
        let number = origin.map_or(index, |o| o.number);
        let meta_words = encode_meta(index, number, meta, len);
        for (cell, word) in slot_words[slot::INDEX..].iter().zip(meta_words) {
            cell.store(word, Relaxed);
        }
        Ok(BegunSlot {
            index,
            slot: at,
            odd,
            len,
            origin,
        })
    }

    /// Publishes the frame `begun` started, stamped `now`; returns its index.
    #[inline(always)]
    pub(crate) fn commit(&mut self, region: &Region<'_>, begun: BegunSlot, now: u64) -> u64 {
        let BegunSlot {
            index,
            slot: at,
            odd,
            origin,
            ..
        } = begun;
        let slot_words = region.slot(at);
        let timestamp = origin.map_or(now, |o| o.timestamp_ns);
        slot_words[slot::TIMESTAMP_NS].store(timestamp, Relaxed);
        slot_words[slot::PUBLISHED_NS].store(now, Relaxed);
        // Pairs with the reader's first Acquire sequence load: a reader that
        // sees this even value sees the whole frame.
        slot_words[slot::SEQ].store(odd.wrapping_add(1), Release);
        self.slot_index[at] = index;
        self.latest_slot = Some(at);
        // Pairs with the reader's Acquire load of the entry (`Region::placed`).
        // `next_own` is still `index % N`: placement entry `index % N`.
        region.words[region.geometry.tail_word() + self.next_own]
            .store(place_word(index, at), Release);
        // Pairs with the reader's Acquire load of `latest` (`Region::latest`).
        region.header(header::LATEST).store(index, Release);
        self.next += 1;
        self.next_own += 1;
        if self.next_own == region.geometry.slot_count {
            self.next_own = 0;
        }
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
            slot_words: region.slot(begun.slot),
            even: begun.odd.wrapping_add(1),
        });
    }

    /// Whether `begun` is still this writer's frame in progress in `region`:
    /// nothing was published or begun anew there since.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn is_begun(&self, region: &Region<'_>, begun: &BegunSlot) -> bool {
        let slot_words = region.slot(begun.slot);
        // Only this writer stores these words: Relaxed reads its own values.
        begun.index == self.next
            && slot_words[slot::SEQ].load(Relaxed) == begun.odd
            && slot_words[slot::INDEX].load(Relaxed) == begun.index
    }

    /// The first payload byte of `begun`'s slot, for a caller that fills it
    /// through a pointer (see `Writer::begin`).
    #[cfg(not(loom))]
    pub(crate) fn payload_ptr(region: &Region<'_>, begun: &BegunSlot) -> *mut u8 {
        let slot_words = region.slot(begun.slot);
        // A pointer from the whole payload slice, so it may reach every byte
        // of it; the atomics' cells allow writes through a shared reference.
        slot_words[SLOT_HEADER_SIZE / 8..]
            .as_ptr()
            .cast_mut()
            .cast()
    }

    /// Picks the slot for the next frame and makes its sequence word odd;
    /// returns the slot and that odd value. The slot is neither the latest
    /// frame's nor held by a hold granted before the odd store (see **Holds**
    /// in the module docs); it is frame `next`'s own slot (`next % N`) when
    /// that one is free, so without holds the ring is filled in turn.
    #[inline(always)]
    fn take_slot(&mut self, region: &Region<'_>) -> (usize, u64) {
        let own = self.next_own;
        // No hold granted: none can be claimed during this publish (only
        // this writer grants them), so the ring is filled in turn.
        if region.geometry.holds == 0 || region.holds.honoured() == 0 {
            let odd = mark_odd(region, own);
            // Pairs with the reader's Acquire fence before its second sequence load:
            // a reader whose copy saw any store below also sees the odd sequence.
            fence(Release);
            return (own, odd);
        }
        self.take_unheld_slot(region, own)
    }

    /// [`take_slot`](Self::take_slot) while holds are granted. Out of line:
    /// its arrays would cost every publish a large stack frame.
    #[inline(never)]
    fn take_unheld_slot(&mut self, region: &Region<'_>, own: usize) -> (usize, u64) {
        let slots = region.geometry.slot_count;
        let mut entries = [0u64; MAX_HOLDS];
        // What the last publish saw steers the pick away from slots held for
        // a while (a look of its own here cost every publish a pass over the
        // entries); only the look after the fence below decides.
        let pick = self.free_slot(own, &self.seen_held, |_| true);
        let odd = mark_odd(region, pick);
        // Pairs with the SeqCst fence of a reader claiming a hold (`claim`),
        // and orders the odd store before the stores of the frame for copying
        // readers as the Release fence does without holds.
        fence(SeqCst);
        let count = region.holds.load_all(&mut entries);
        self.seen_held.clear();
        self.seen_held
            .extend(entries[..count].iter().filter(|&&e| e != 0));
        if !self.held(pick, &entries[..count]) {
            return (pick, odd);
        }
        // A reader claimed the pick meanwhile: it wrote nothing, so its
        // previous even sequence stands again. Then every slot but the latest
        // goes odd before one more look, which can find at most `holds` of
        // those `N - 1 >= holds + 1` held: one is left.
        self.skips += 1;
        restore_even(region, pick, odd);
        let mut marked = [0u64; crate::layout::MAX_SLOTS];
        for at in (0..slots).filter(|&at| Some(at) != self.latest_slot) {
            marked[at] = mark_odd(region, at);
        }
        fence(SeqCst);
        let count = region.holds.load_all(&mut entries);
        let pick = self.free_slot(own, &entries[..count], |at| marked[at] != 0);
        for at in (0..slots).filter(|&at| marked[at] != 0 && at != pick) {
            restore_even(region, at, marked[at]);
        }
        (pick, marked[pick])
    }

    /// Frame `next`'s own slot if it is free, else the free slot holding the
    /// oldest frame; free means not the latest's, `allowed` and not named with
    /// its frame by one of `entries`. There is always one: at most
    /// `entries.len() <= holds <= N - 2` slots are named.
    fn free_slot(&self, own: usize, entries: &[u64], allowed: impl Fn(usize) -> bool) -> usize {
        let free =
            |at: usize| Some(at) != self.latest_slot && allowed(at) && !self.held(at, entries);
        if free(own) {
            return own;
        }
        (0..self.slot_index.len())
            .filter(|&at| free(at))
            .min_by_key(|&at| self.slot_index[at])
            // Unreachable with `holds + 2 <= N` entries; any slot but the
            // latest's is still a safe pick, as no hold on it was granted.
            .unwrap_or_else(|| (own + 1) % self.slot_index.len())
    }

    /// Whether one of `entries` names slot `at` with the frame it holds.
    fn held(&self, at: usize, entries: &[u64]) -> bool {
        let index = self.slot_index[at];
        index != 0 && entries.contains(&place_word(index, at))
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

/// Makes slot `at`'s sequence word odd; returns that value.
#[inline]
fn mark_odd(region: &Region<'_>, at: usize) -> u64 {
    let seq_word = &region.slot(at)[slot::SEQ];
    // Only this writer stores the sequence word, so Relaxed reads its own
    // value. `| 1` makes it odd whatever it held, so a slot can never end
    // up odd at rest and even while written.
    let odd = seq_word.load(Relaxed) | 1;
    seq_word.store(odd, Relaxed);
    odd
}

/// Gives slot `at`, made `odd` but left unwritten, its previous even sequence.
fn restore_even(region: &Region<'_>, at: usize, odd: u64) {
    // Pairs with a reader's first Acquire sequence load; its copy then sees
    // the frame committed before, which nothing changed.
    region.slot(at)[slot::SEQ].store(odd.wrapping_sub(1), Release);
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
#[derive(Debug, Clone, Copy)]
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
        // A poller looks at its next frame's own slot first, and needs
        // `latest` and the placement table (two more cache lines, stored
        // after the slot) only if the frame is not there: a 64 B frame then
        // reaches it 20-50 ns sooner. A slot holding frame `next` whole holds
        // it wherever the table says: indexes are never reused.
        let own = region.own_slot(self.next);
        if region.slot_holds(own, self.next) {
            let mut info = FrameInfo::NONE;
            let read = read_slot(region, own, self.next, dest, &mut info)?;
            if matches!(read, SlotRead::Frame(index) if index == self.next) {
                return self.took_next(dest, info);
            }
        }
        let mut patience = Patience::default();
        loop {
            let mut info = FrameInfo::NONE;
            match self.find_next(region)? {
                None => return Ok(None),
                Some(at) => match read_slot(region, at, self.next, dest, &mut info)? {
                    SlotRead::Frame(index) if index == self.next => {
                        return self.took_next(dest, info)
                    }
                    SlotRead::Frame(index) if index < self.next => {
                        return Err(Error::CorruptFrame {
                            reason: format!(
                                "the slot of published frame index {} holds older index {index}",
                                self.next
                            ),
                        })
                    }
                    // Written over (or its fill failed): it is gone.
                    SlotRead::Frame(_) | SlotRead::Empty => self.skip_one(),
                    // Being written over: without holds the writer marks
                    // only the slot it writes; with them, it is gone once
                    // the writer stored the new index.
                    SlotRead::Busy
                        if region.geometry.holds == 0 || region.slot_index(at) != self.next =>
                    {
                        self.skip_one()
                    }
                    // Marked for a moment by a writer that then took another
                    // slot, or about to be written: look again.
                    SlotRead::Busy => pause_or_starve(&mut patience, region)?,
                },
            }
        }
    }

    /// Skips the next frame, gone from the ring, and counts it missed.
    fn skip_one(&mut self) {
        self.missed = self.missed.saturating_add(1);
        self.next = self.next.saturating_add(1);
    }

    /// The slot of the next published frame that may still be there, skipping
    /// (and counting) the frames whose placement is gone; `None` if the reader
    /// is caught up.
    fn find_next(&mut self, region: &Region<'_>) -> Result<Option<usize>> {
        let slots = region.geometry.slot_count as u64;
        loop {
            let latest = region.latest();
            if self.next > latest {
                return Ok(None);
            }
            // Placement entries of frames before `latest + 1 - slots` are
            // replaced: those frames cannot be found any more.
            let oldest_placed = latest.saturating_add(1).saturating_sub(slots).max(1);
            if self.next < oldest_placed {
                self.missed = self.missed.saturating_add(oldest_placed - self.next);
                self.next = oldest_placed;
            }
            match region.placed(self.next) {
                (placed, Some(at)) if placed == self.next => return Ok(Some(at)),
                (placed, _) if placed < self.next => {
                    return Err(Error::CorruptFrame {
                        reason: format!(
                            "the placement entry of published frame index {} names index {placed}",
                            self.next
                        ),
                    })
                }
                (placed, None) if placed == self.next => {
                    return Err(Error::CorruptFrame {
                        reason: format!("frame index {placed} is placed outside the ring"),
                    })
                }
                // Replaced by a later frame's: the frame is gone.
                _ => {
                    self.missed = self.missed.saturating_add(1);
                    self.next = self.next.saturating_add(1);
                }
            }
        }
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

/// A hold granted on a frame: its slot, which the writer leaves alone until
/// the hold's entry is cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The slot holding the frame.
    pub slot: usize,
}

/// What one claim of a hold on a frame found.
enum Claim {
    /// The hold is granted (the frame's metadata is in the claim's `FrameInfo`).
    Granted(usize),
    /// The frame is gone from the ring (written over, or its fill failed).
    Gone,
    /// The slot was being written (or marked for a moment): try again.
    Busy,
}

impl RingReader {
    /// Holds the latest frame through `entry`, a hold entry the writer
    /// honours and that no other hold of this reader uses; `None` if nothing
    /// was published yet. On success the frame's metadata is in `info` and the
    /// entry names it until the caller stores 0 into it (Release).
    pub fn hold_latest(
        &mut self,
        region: &Region<'_>,
        entry: &AtomicU64,
        info: &mut FrameInfo,
    ) -> Result<Option<Granted>> {
        let mut patience = Patience::default();
        loop {
            let latest = region.latest();
            if latest == 0 {
                return Ok(None);
            }
            match claim(region, entry, latest, info)? {
                Claim::Granted(slot) => {
                    self.last_seen = latest;
                    return Ok(Some(Granted { slot }));
                }
                // Lapped: a newer frame is there, or being written.
                Claim::Gone | Claim::Busy => pause_or_starve(&mut patience, region)?,
            }
        }
    }

    /// Holds the next frame in order through `entry` (see
    /// [`hold_latest`](Self::hold_latest)); `None` if the reader is caught up.
    /// Frames gone from the ring are skipped and counted in `info.missed`.
    pub fn hold_next(
        &mut self,
        region: &Region<'_>,
        entry: &AtomicU64,
        info: &mut FrameInfo,
    ) -> Result<Option<Granted>> {
        let mut patience = Patience::default();
        loop {
            if self.find_next(region)?.is_none() {
                return Ok(None);
            }
            match claim(region, entry, self.next, info)? {
                Claim::Granted(slot) => {
                    self.last_seen = self.next;
                    self.next = self.next.saturating_add(1);
                    info.missed = std::mem::take(&mut self.missed);
                    return Ok(Some(Granted { slot }));
                }
                Claim::Gone => self.skip_one(),
                Claim::Busy => pause_or_starve(&mut patience, region)?,
            }
        }
    }
}

/// Waits a little before another look at a busy slot (until the writer's
/// next publish, after the quick retries); a starved read once patience is out.
fn pause_or_starve(patience: &mut Patience, region: &Region<'_>) -> Result<()> {
    if patience.pause(|| region.wait_for_next_publish(RETRY_SLEEP)) {
        Ok(())
    } else {
        Err(Error::Starved {
            attempts: patience.attempts(),
        })
    }
}

/// Claims a hold on frame `index` through `entry` (the reader's half of the
/// Dekker pair in **Holds**, module docs). The entry is left naming the frame
/// only if the hold is granted.
fn claim(
    region: &Region<'_>,
    entry: &AtomicU64,
    index: u64,
    info: &mut FrameInfo,
) -> Result<Claim> {
    let Some(at) = region.slot_of(index) else {
        // Placed no more (or not yet visible, if `latest` moved on meanwhile).
        return Ok(if region.latest() > index {
            Claim::Gone
        } else {
            Claim::Busy
        });
    };
    entry.store(place_word(index, at), Relaxed);
    // Pairs with the writer's SeqCst fence after it makes its pick odd
    // (`take_slot`): either its look at the entries after that fence sees the
    // store above, or the loads below see the odd sequence or a later frame.
    fence(SeqCst);
    let words = region.slot(at);
    // Pairs with the writer's Release store of the even sequence: the loads
    // below see the frame's stores.
    let seq = words[slot::SEQ].load(Acquire);
    let held_index = words[slot::INDEX].load(Relaxed);
    if seq & 1 == 1 || held_index != index {
        // Pairs with the writer's Acquire loads of the entries.
        entry.store(0, Release);
        return Ok(match () {
            _ if held_index > index || held_index == 0 => Claim::Gone,
            _ if seq & 1 == 1 => Claim::Busy,
            _ => {
                return Err(Error::CorruptFrame {
                    reason: format!(
                        "the slot of frame index {index} holds older index {held_index}"
                    ),
                })
            }
        });
    }
    // Granted: the writer does not write this slot while the entry names it.
    let meta: [u64; slot::META_WORDS] =
        std::array::from_fn(|i| words[slot::INDEX + i].load(Relaxed));
    if let Err(e) = decode_meta(&meta, region.geometry.slot_capacity, info) {
        entry.store(0, Release);
        return Err(e);
    }
    Ok(Claim::Granted(at))
}

impl Region<'_> {
    /// Copies the first `out.len()` bytes of slot `at`'s pixels with atomic
    /// loads: a check that a held frame is still what it was (tests, models).
    pub fn copy_pixels(&self, at: usize, out: &mut [u8]) {
        load_bytes(&self.slot(at)[SLOT_HEADER_SIZE / 8..], out);
    }
}

#[cfg(not(loom))]
impl<'a> Region<'a> {
    /// The first `len` bytes of slot `at`'s pixels, in place.
    ///
    /// # Safety
    ///
    /// The caller holds a granted hold on the frame in slot `at` (from
    /// [`RingReader::hold_latest`] or [`RingReader::hold_next`], whose entry
    /// still names it and which the writer honours) for as long as the
    /// returned slice lives, and `len` is that frame's length (at most the
    /// slot capacity). The writer then never stores to these bytes (see
    /// **Holds**), so nothing changes them while the slice is alive.
    pub unsafe fn held_pixels(&self, at: usize, len: usize) -> &'a [u8] {
        assert!(at < self.geometry.slot_count && len <= self.geometry.slot_capacity);
        let payload = &self.slot(at)[SLOT_HEADER_SIZE / 8..];
        // SAFETY: `payload` is at least `slot_capacity >= len` bytes of
        // initialized words (atomics have the layout of their integer), so
        // the byte slice is in bounds and aligned. No store to these bytes
        // happens while it lives (the caller's hold, above), and the loads
        // that granted the hold synchronize with the stores that wrote them
        // (Acquire on the even sequence), so reading them as plain bytes races
        // with nothing.
        unsafe { std::slice::from_raw_parts(payload.as_ptr().cast::<u8>(), len) }
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
        // The frame's own slot first: the placement table's cache line is
        // needed only when a hold kept the writer out of it.
        let own = region.own_slot(latest);
        let read = match region.placed_unless_in(own, latest) {
            (placed, Some(at)) if placed == latest => read_slot(region, at, latest, dest, info)?,
            (placed, _) if placed <= latest => {
                return Err(Error::CorruptFrame {
                    reason: format!(
                        "the placement entry of latest frame index {latest} names index {placed} and no slot of the ring"
                    ),
                })
            }
            // A later frame's entry: `latest` moved on since it was loaded.
            _ => SlotRead::Busy,
        };
        match read {
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

/// One seqlock read of slot `at`, placed to hold frame index `wanted`: its metadata goes
/// into `info`, its pixels into `dest` only if it holds that frame and they
/// fit there.
#[inline(always)]
fn read_slot(
    region: &Region<'_>,
    at: usize,
    wanted: u64,
    dest: &mut Destination<'_>,
    info: &mut FrameInfo,
) -> Result<SlotRead> {
    let words = region.slot(at);
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
