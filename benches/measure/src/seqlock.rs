//! A bare seqlock over the three cache lines a 64 B shmframe frame moves:
//! `latest`, the slot's sequence word with seven metadata words, and the
//! payload, laid out as in a segment (two slots of a 64-byte header and
//! 64 bytes of payload after a 128-byte header). The writer stamps the frame
//! before publishing and again at its commit, as shmframe's does; no library
//! around it. Set beside `latency_64B_poll`, it says how much of shmframe's
//! latency over the one-line floor is the layout and how much the library.

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

/// Word of `latest` in the block's data area (the segment header's line).
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

/// One-way latency samples (ns) of 64 B frames through the bare seqlock.
pub fn latency(_len: usize, _wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
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
        s[PUBLISHED].store(monotonic_ns(), Relaxed);
        // Pairs with the reader's Acquire load of the sequence word.
        s[0].store(odd.wrapping_add(1), Release);
        // Pairs with the reader's Acquire load of `latest`.
        words[LATEST].store(n, Release);
        wait_ack(&block, n, Wake::Poll)?;
    }
    child.finish()
}

/// The reader child of [`latency`]: polls `latest`, then one seqlock read.
pub fn reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let block = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let words = block.data_words();
    let mut out = Vec::with_capacity(samples);
    let mut last = 0;
    block.mark_ready();
    while out.len() < samples {
        let n = words[LATEST].load(Acquire);
        if n == last {
            std::hint::spin_loop();
            continue;
        }
        let s = slot(words, n);
        let seq = s[0].load(Acquire);
        let copy: [u64; 15] = std::array::from_fn(|k| s[1 + k].load(Relaxed));
        fence(Acquire);
        if seq & 1 == 1 || s[0].load(Relaxed) != seq || copy[0] != n {
            continue;
        }
        out.push(monotonic_ns().saturating_sub(copy[7]));
        last = n;
        // Pairs with the writer's Acquire load in `wait_ack`.
        block.line(ACK).store(n, Release);
    }
    Ok(without_warmup(out))
}
