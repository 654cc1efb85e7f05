//! Shared criterion settings and helpers for the bench targets.

use criterion::{Bencher, Criterion};
use shmframe_measure::{BenchResult, Timed};
use std::time::Duration;

/// Criterion with modest sample counts: every bench here starts child
/// processes, so a full `cargo bench` stays within a few minutes.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .nresamples(10_000)
        .configure_from_args()
}

/// `iters` iterations' worth of time from `done` units measured in `elapsed`
/// (criterion asks for `iters`; a bench may measure fewer and scale, since
/// one iteration here is a whole cross-process frame and may take milliseconds).
pub fn scaled(elapsed: Duration, done: u64, iters: u64) -> Duration {
    if done == 0 {
        return elapsed;
    }
    Duration::from_secs_f64(elapsed.as_secs_f64() / done as f64 * iters as f64)
}

/// Times a measurement of whole frames for criterion: `measure(frames)` is
/// asked for criterion's `iters` clamped to `fewest..=most`, and what it
/// measured is scaled to `iters`.
pub fn frames_timed(
    b: &mut Bencher,
    fewest: u64,
    most: u64,
    mut measure: impl FnMut(u64) -> BenchResult<Timed>,
) {
    b.iter_custom(|iters| {
        let timed = must(measure(iters.clamp(fewest, most)));
        scaled(timed.elapsed, timed.frames, iters)
    })
}

/// Median of latency samples, times `iters`: each call measures a few
/// hundred frames in a fresh child, and a median keeps one slow start (page
/// faults, a context switch) from being most of a sample.
pub fn latency_time(samples: &[u64], iters: u64) -> Duration {
    let (median, _) = shmframe_measure::stats::median_p99(samples);
    Duration::from_secs_f64(median * 1e-9 * iters as f64)
}

/// Unwraps a measurement, or reports it and exits: a benchmark that cannot
/// run (no /dev/shm, iceoryx2 failing) has nothing to time.
pub fn must<T>(result: BenchResult<T>) -> T {
    result.unwrap_or_else(|e| {
        eprintln!("benchmark failed: {e}");
        crate::cleanup();
        std::process::exit(1)
    })
}
