//! The only place that chooses between std and loom atomics.
//!
//! The protocol is written against these names so that the same code runs on
//! the real mapping, on a heap region (unit tests, Miri) and under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Yields to the scheduler (or to loom's) while a retry loop waits.
pub(crate) fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}
