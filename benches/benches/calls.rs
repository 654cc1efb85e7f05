//! The CPU cost of one call, in one process with hot caches and nobody else
//! touching the segment: publishing a 64 B frame, reading it (into a `Vec`
//! and into a slice), and an in-order poll that finds nothing new. This is
//! the part of a small frame's latency and of a writer's time per frame that
//! is the library's own code rather than the machine's cache lines.

use criterion::Criterion;
use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use shmframe_benches::criterion_setup::criterion;

fn bench_calls(c: &mut Criterion) {
    let name = format!("bench-calls-{}", std::process::id());
    let options = WriterOptions {
        slots: 2,
        slot_capacity: 64,
        mode: 0o600,
        // Copies only, as the figures in docs/benchmarks.md were measured.
        holds: 0,
    };
    let mut writer = Writer::create(&name, &options).expect("create a writer in /dev/shm");
    let meta = FrameMeta::packed(16, 1, PixelFormat::Rgba8);
    let frame = [7u8; 64];
    writer.publish(&meta, &frame).expect("publish");
    let mut reader = Reader::open(&name).expect("open the reader");
    let mut buf = Vec::new();
    let mut out = [0u8; 64];
    let mut group = c.benchmark_group("calls_64B");
    group.bench_function("Writer::publish", |b| {
        b.iter(|| writer.publish(&meta, &frame).expect("publish"))
    });
    group.bench_function("Reader::latest", |b| {
        b.iter(|| reader.latest(&mut buf).expect("read"))
    });
    group.bench_function("Reader::latest_into", |b| {
        b.iter(|| reader.latest_into(&mut out).expect("read"))
    });
    while reader.next(&mut buf).expect("read").is_some() {}
    group.bench_function("Reader::next, nothing new", |b| {
        b.iter(|| reader.next(&mut buf).expect("poll"))
    });
    group.finish();
}

/// Holds beside copies: publishing with holds honoured (none taken, then one
/// taken), and holding the latest frame in place against copying it, at 64 B
/// and 4K RGBA (a hold does not grow with the frame; a copy does).
fn bench_holds(c: &mut Criterion) {
    for (label, width, height) in [("64B", 16u32, 1u32), ("4K_RGBA", 3840, 2160)] {
        let name = format!("bench-holds-{label}-{}", std::process::id());
        let meta = FrameMeta::packed(width, height, PixelFormat::Rgba8);
        let len = meta.checked_len().expect("a valid frame");
        let options = WriterOptions {
            slots: 2,
            slot_capacity: len,
            mode: 0o600,
            holds: 4,
        };
        let mut writer = Writer::create(&name, &options).expect("create a writer in /dev/shm");
        let frame = vec![7u8; len];
        writer.publish(&meta, &frame).expect("publish");
        let reader = Reader::open(&name).expect("open the reader");
        drop(reader.hold_latest());
        while reader.holds_granted() == 0 {
            writer.publish(&meta, &frame).expect("publish");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut group = c.benchmark_group(format!("holds_{label}"));
        if label == "64B" {
            group.bench_function("Writer::publish, holds 4, none taken", |b| {
                b.iter(|| writer.publish(&meta, &frame).expect("publish"))
            });
            let held = reader.hold_latest().expect("a hold").expect("a frame");
            group.bench_function("Writer::publish, holds 4, one taken", |b| {
                b.iter(|| writer.publish(&meta, &frame).expect("publish"))
            });
            drop(held);
        }
        group.bench_function("Reader::hold_latest + drop", |b| {
            b.iter(|| {
                let held = reader.hold_latest().expect("a hold").expect("a frame");
                std::hint::black_box(held.pixels()[0])
            })
        });
        let mut copier = Reader::open(&name).expect("open the reader");
        let mut buf = Vec::new();
        group.bench_function("Reader::latest (a copy)", |b| {
            b.iter(|| copier.latest(&mut buf).expect("read"))
        });
        group.finish();
    }
}

fn main() {
    let mut c = criterion();
    bench_calls(&mut c);
    bench_holds(&mut c);
    c.final_summary();
}
