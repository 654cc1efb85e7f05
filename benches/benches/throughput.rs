//! End-to-end throughput (writer copies in, reader copies out) of 1080p and 4K
//! RGBA frames from a ring of 8 distinct source frames, writer and reader in
//! two processes on two CPUs. A criterion "iteration" is one frame delivered.

use criterion::{BenchmarkId, Criterion, Throughput};
use shmframe_benches::criterion_setup::{criterion, frames_timed};
use shmframe_benches::{classic, iox, socket};
use shmframe_measure::{rgba_len, throughput, Cpus, ThroughputFn, FRAME_1080P, FRAME_4K};
use std::time::Duration;

const SYSTEMS: [(&str, ThroughputFn); 5] = [
    ("floor", throughput::floor),
    ("shmframe", throughput::shmframe),
    ("classic-lock", classic::throughput),
    ("unix-socket", socket::throughput),
    ("iceoryx2", iox::throughput),
];

fn bench_throughput(c: &mut Criterion) {
    for (case, size) in [("1080p", FRAME_1080P), ("4k", FRAME_4K)] {
        let len = rgba_len(size);
        let mut group = c.benchmark_group(format!("throughput_{case}"));
        group.throughput(Throughput::Bytes(len as u64));
        for (system, run) in SYSTEMS {
            group.bench_function(BenchmarkId::from_parameter(system), |b| {
                frames_timed(b, 4, 64, |frames| {
                    run(len, Cpus::split(), frames, Duration::from_millis(300))
                })
            });
        }
        group.finish();
    }
}

fn main() {
    shmframe_benches::child_entry();
    let mut c = criterion();
    bench_throughput(&mut c);
    c.final_summary();
    shmframe_benches::cleanup();
}
