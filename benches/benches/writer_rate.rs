//! The writer's publish rate of 1080p RGBA frames with 0, 1, 4 and 8 reader
//! processes attached and copying out every frame they are woken for; the
//! writer on one CPU, all readers on the other. An "iteration" is one publish.

use criterion::{BenchmarkId, Criterion, Throughput};
use shmframe_benches::criterion_setup::{criterion, frames_timed};
use shmframe_benches::{classic, iox, socket};
use shmframe_measure::{rgba_len, writer_rate, Cpus, RateFn, RateRun, FRAME_1080P};
use std::time::Duration;

const SYSTEMS: [(&str, RateFn); 4] = [
    ("shmframe", writer_rate::shmframe),
    ("classic-lock", classic::writer_rate),
    ("unix-socket", socket::writer_rate),
    ("iceoryx2", iox::writer_rate),
];

fn bench_writer_rate(c: &mut Criterion) {
    let len = rgba_len(FRAME_1080P);
    for readers in [0usize, 1, 4, 8] {
        let mut group = c.benchmark_group(format!("writer_rate_1080p_{readers}_readers"));
        group.throughput(Throughput::Elements(1));
        for (system, run) in SYSTEMS {
            if readers == 0 && system == "unix-socket" {
                continue; // nobody to send to
            }
            group.bench_function(BenchmarkId::from_parameter(system), |b| {
                frames_timed(b, 8, 200, |frames| {
                    run(RateRun {
                        len,
                        readers,
                        cpus: Cpus::split(),
                        frames,
                        budget: Duration::from_millis(300),
                    })
                })
            });
        }
        group.finish();
    }
}

fn main() {
    shmframe_benches::child_entry();
    let mut c = criterion();
    bench_writer_rate(&mut c);
    c.final_summary();
    shmframe_benches::cleanup();
}
