//! CLOCK_MONOTONIC in nanoseconds: the timestamp every frame carries.

/// Nanoseconds of CLOCK_MONOTONIC, comparable between processes on one machine.
#[cfg(not(loom))]
pub fn monotonic_ns() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// CLOCK_MONOTONIC_COARSE in nanoseconds: a few milliseconds behind at
/// most, and a fifth of the cost, for timing housekeeping on every publish.
#[cfg(not(loom))]
pub(crate) fn coarse_monotonic_ns() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}
