//! A bare seqlock over the two cache lines a 64 B shmframe frame moves to an
//! in-order poller: the slot's sequence word with seven metadata words, and
//! the payload, laid out as in a segment (two slots of a 64-byte header and
//! 64 bytes of payload after a 128-byte header). The reader watches its next
//! frame's slot, as shmframe's does; the writer stamps the frame before
//! publishing and, like shmframe's, again at its commit (the unstamped
//! variant leaves that clock read out). No library around it. Set beside
//! `latency_64B_poll`, it says how much of shmframe's latency over the
//! one-line floor is the layout, the commit stamp and the library.
//!
//! Its writer rate ([`writer_rate`]) publishes as shmframe's writer does
//! (the commit stamp, `latest` and the futex word stored, the SeqCst fence
//! and the look at a sleeper word that no reader sets) to readers that poll
//! `latest` and read the slot it names, as `wait_latest` does while frames
//! keep coming. Beside `writer_rate_64B_8_readers`, it says what readers
//! taking those lines cost any writer of this layout on the machine.

use crate::affinity::pin;
use crate::child::{spawn, ChildArgs};
use crate::latency::{child_args, wait_ack};
use crate::shm::{SharedBlock, ACK, STOP};
use crate::stats::without_warmup;
use crate::writer_rate::{clocked, start_readers, stop_readers};
use crate::{BenchResult, Cpus, RateRun, Timed, Wake};
use shmframe::monotonic_ns;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{fence, AtomicU64};

/// Role of the latency reader child.
pub const ROLE: &str = "latency-bare-seqlock";

/// Role of the writer-rate reader children.
pub const ROLE_RATE: &str = "writer-rate-bare-seqlock";

/// Word of `latest` in the block's data area (the segment header's line):
/// stored as shmframe's writer does, not read by the in-order reader.
const LATEST: usize = 2;
/// Word of the futex the writer bumps on every publish, in `latest`'s line.
const FUTEX: usize = 3;
/// Words per slot (a 64-byte header and a 64-byte payload).
const SLOT_WORDS: usize = 16;
/// Word where slot 0 starts (after a 128-byte header).
const FIRST_SLOT: usize = 16;
/// Metadata word holding the commit stamp.
const PUBLISHED: usize = 6;
/// Word a sleeping reader would raise (in its own line after the slots, as
/// shmframe's is in another file); nobody does here.
const ASLEEP_AFTER: usize = FIRST_SLOT + 2 * SLOT_WORDS;
/// Bytes of the block's data area.
const BLOCK_BYTES: usize = (ASLEEP_AFTER + 8) * 8;

fn slot(words: &[AtomicU64], n: u64) -> &[AtomicU64] {
    let start = FIRST_SLOT + (n % 2) as usize * SLOT_WORDS;
    &words[start..start + SLOT_WORDS]
}

/// One-way latency samples (ns) of 64 B frames through the bare seqlock,
/// stamped at the commit like shmframe's.
pub fn latency(_len: usize, _wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    run(true, cpus, samples)
}

/// [`latency`] without the clock read at the commit: what that read costs.
pub fn latency_unstamped(
    _len: usize,
    _wake: Wake,
    cpus: Cpus,
    samples: usize,
) -> BenchResult<Vec<u64>> {
    run(false, cpus, samples)
}

fn run(stamped: bool, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let block = SharedBlock::create(BLOCK_BYTES)?;
    let child = spawn(
        ROLE,
        cpus.reader,
        &child_args(&block, samples, 64, Wake::Poll),
    )?;
    block.wait_ready(1)?;
    let words = block.data_words();
    for n in 1..=samples as u64 {
        publish(words, n, monotonic_ns(), stamped);
        wait_ack(&block, n, Wake::Poll)?;
    }
    child.finish()
}

/// Publishes frame `n` carrying `stamp` in its first payload word; `stamped`
/// reads the clock again at the commit, as shmframe's writer does.
#[inline]
fn publish(words: &[AtomicU64], n: u64, stamp: u64, stamped: bool) {
    let s = slot(words, n);
    let odd = s[0].load(Relaxed) | 1;
    s[0].store(odd, Relaxed);
    // Pairs with the reader's Acquire fence: a copy that saw any store
    // below also sees the odd sequence.
    fence(Release);
    for word in &s[1..8] {
        word.store(n, Relaxed);
    }
    s[8].store(stamp, Relaxed);
    for word in &s[9..16] {
        word.store(n, Relaxed);
    }
    s[PUBLISHED].store(if stamped { monotonic_ns() } else { n }, Relaxed);
    // Pairs with the reader's Acquire load of the sequence word.
    s[0].store(odd.wrapping_add(1), Release);
    // Pairs with the rate readers' Acquire load (the in-order reader does
    // not look at it).
    words[LATEST].store(n, Release);
}

/// One seqlock read of frame `n`'s slot: its 15 words after the sequence, if
/// the slot held frame `n` whole.
#[inline]
fn read(words: &[AtomicU64], n: u64) -> Option<[u64; 15]> {
    let s = slot(words, n);
    // Pairs with the writer's Release store of the even sequence.
    let seq = s[0].load(Acquire);
    if seq & 1 == 1 || s[1].load(Relaxed) != n {
        return None;
    }
    let copy: [u64; 15] = std::array::from_fn(|k| s[1 + k].load(Relaxed));
    fence(Acquire);
    (s[0].load(Relaxed) == seq && copy[0] == n).then_some(copy)
}

/// The writer's CPU time per 64 B frame with `readers` children polling
/// `latest` and reading the slot it names (see the module docs).
pub fn writer_rate(run: RateRun) -> BenchResult<Timed> {
    let _pinned = pin(run.cpus.writer)?;
    let block = SharedBlock::create(BLOCK_BYTES)?;
    let children = start_readers(ROLE_RATE, run.readers, run.cpus, &block, &[])?;
    let words = block.data_words();
    let timed = clocked(run.frames, run.budget, |i| {
        let n = i + 1;
        publish(words, n, n, true);
        words[FUTEX].store(n, Release);
        // As shmframe's writer: the bump before the look at sleepers.
        fence(SeqCst);
        if words[ASLEEP_AFTER].load(Relaxed) >= n {
            return Err("no reader of the bare seqlock sleeps".into());
        }
        Ok(())
    })?;
    let frames_read = stop_readers(&block, children)?;
    Ok(timed.read_by(run.readers, frames_read))
}

/// A reader child of [`writer_rate`]: reads each frame `latest` names, once.
pub fn rate_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let block = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let words = block.data_words();
    let (mut seen, mut read_frames) = (0, 0u64);
    block.mark_ready();
    // Pairs with the Release store in `stop_readers`.
    while block.line(STOP).load(Acquire) == 0 {
        // Pairs with the writer's Release store of `latest`.
        let latest = words[LATEST].load(Acquire);
        if latest == seen {
            std::hint::spin_loop();
            continue;
        }
        if let Some(copy) = read(words, latest) {
            std::hint::black_box(copy);
            seen = latest;
            read_frames += 1;
        }
    }
    Ok(vec![read_frames])
}

/// The reader child of [`latency`]: watches its next frame's slot, then one
/// seqlock read of it.
pub fn reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let block = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let words = block.data_words();
    let mut out = Vec::with_capacity(samples);
    let mut next = 1;
    block.mark_ready();
    while out.len() < samples {
        let Some(copy) = read(words, next) else {
            std::hint::spin_loop();
            continue;
        };
        out.push(monotonic_ns().saturating_sub(copy[7]));
        // Pairs with the writer's Acquire load in `wait_ack`.
        block.line(ACK).store(next, Release);
        next += 1;
    }
    Ok(without_warmup(out))
}
