//! One-way latency, publish to observed, writer and reader in two processes
//! on two CPUs (and, for sleeping readers, on one CPU), for every system.
//!
//! A criterion "iteration" is one frame; each measurement starts a reader
//! child and takes at most a few thousand frames, scaled to what criterion asked.

use criterion::{BenchmarkId, Criterion};
use shmframe_benches::criterion_setup::{criterion, latency_time, must};
use shmframe_benches::{classic, iox, socket};
use shmframe_measure::{latency, rgba_len, BenchResult, Cpus, Wake, FRAME_1080P};

type LatencyFn = fn(usize, Wake, Cpus, usize) -> BenchResult<Vec<u64>>;

fn floor(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    match (len <= 64, wake) {
        (true, Wake::Poll) => latency::floor_cache_line(cpus, samples),
        (true, Wake::Sleep) => latency::floor_futex(cpus, samples),
        (false, _) => latency::floor_memcpy(len, cpus, samples),
    }
}

const SYSTEMS: [(&str, LatencyFn); 5] = [
    ("floor", floor),
    ("shmframe", latency::shmframe),
    ("classic-lock", classic::latency),
    ("unix-socket", socket::latency),
    ("iceoryx2", iox::latency),
];

fn bench_latency(c: &mut Criterion) {
    let cases = [
        ("64B_poll", 64, Wake::Poll, Cpus::split(), 3_000u64),
        ("64B_futex", 64, Wake::Sleep, Cpus::split(), 200),
        ("64B_futex_same_core", 64, Wake::Sleep, Cpus::same(), 200),
        (
            "1080p_poll",
            rgba_len(FRAME_1080P),
            Wake::Poll,
            Cpus::split(),
            20,
        ),
    ];
    for (case, len, wake, cpus, cap) in cases {
        let mut group = c.benchmark_group(format!("latency_{case}"));
        for (system, run) in SYSTEMS {
            group.bench_function(BenchmarkId::from_parameter(system), |b| {
                b.iter_custom(|iters| {
                    // At least a quarter of the cap, for a meaningful median; a
                    // ninth more, since the child drops the first tenth as warm-up.
                    let n = iters.clamp(cap / 4, cap) as usize * 10 / 9 + 1;
                    latency_time(&must(run(len, wake, cpus, n)), iters)
                })
            });
        }
        group.finish();
    }
}

fn main() {
    shmframe_benches::child_entry();
    let mut c = criterion();
    bench_latency(&mut c);
    c.final_summary();
    shmframe_benches::cleanup();
}
