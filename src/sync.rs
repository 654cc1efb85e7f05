//! The only place that chooses between std and loom atomics.
//!
//! The protocol is written against these names so that the same code runs on
//! the real mapping, on a heap region (unit tests, Miri) and under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Pauses a retry loop: spins for the first few attempts (a lapping writer is
/// gone within nanoseconds), then yields to the scheduler (or to loom's).
pub(crate) fn backoff(attempt: u32) {
    #[cfg(loom)]
    {
        let _ = attempt;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    if attempt < 16 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}
