//! A bare seqlock over the two cache lines a 64 B shmframe frame moves to an
//! in-order poller: the slot's sequence word with seven metadata words, and
//! the payload, laid out as in a segment (two slots of a 64-byte header and
//! 64 bytes of payload after a 128-byte header). The reader watches its next
//! frame's slot, as shmframe's does; the writer stamps the frame before
//! publishing and, like shmframe's, again at its commit (the unstamped
//! variant leaves that clock read out). No library around it. Set beside
//! `latency_64B_poll`, it says how much of shmframe's latency over the
//! one-line floor is the layout, the commit stamp and the library.

use crate::affinity::pin;
use crate::child::{spawn, ChildArgs};
use crate::latency::{child_args, wait_ack};
use crate::shm::{SharedBlock, ACK};
use crate::stats::without_warmup;
use crate::{BenchResult, Cpus, Wake};
use shmframe::monotonic_ns;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{fence, AtomicU64};

/// Role of the reader child.
pub const ROLE: &str = "latency-bare-seqlock";

/// Word of `latest` in the block's data area (the segment header's line):
/// stored as shmframe's writer does, not read by the in-order reader.
const LATEST: usize = 2;
/// Words per slot (a 64-byte header and a 64-byte payload).
const SLOT_WORDS: usize = 16;
/// Word where slot 0 starts (after a 128-byte header).
const FIRST_SLOT: usize = 16;
/// Metadata word holding the commit stamp.
const PUBLISHED: usize = 6;

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
    let block = SharedBlock::create((FIRST_SLOT + 2 * SLOT_WORDS) * 8)?;
    let child = spawn(
        ROLE,
        cpus.reader,
        &child_args(&block, samples, 64, Wake::Poll),
    )?;
    block.wait_ready(1)?;
    let words = block.data_words();
    for n in 1..=samples as u64 {
        let stamp = monotonic_ns();
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
        // For a reader that polls `latest` (this one does not).
        words[LATEST].store(n, Release);
        wait_ack(&block, n, Wake::Poll)?;
    }
    child.finish()
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
        let s = slot(words, next);
        // Pairs with the writer's Release store of the even sequence.
        let seq = s[0].load(Acquire);
        if seq & 1 == 1 || s[1].load(Relaxed) != next {
            std::hint::spin_loop();
            continue;
        }
        let copy: [u64; 15] = std::array::from_fn(|k| s[1 + k].load(Relaxed));
        fence(Acquire);
        if s[0].load(Relaxed) != seq || copy[0] != next {
            continue;
        }
        out.push(monotonic_ns().saturating_sub(copy[7]));
        // Pairs with the writer's Acquire load in `wait_ack`.
        block.line(ACK).store(next, Release);
        next += 1;
    }
    Ok(without_warmup(out))
}
