//! Heap allocations per publish and per read in steady state: there must be none.
//!
//! A counting global allocator counts the allocations made by this test's
//! own thread (the harness's other threads do not count).

use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers every operation to the system allocator unchanged; the
// thread-local counter is a const-initialised Cell, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made by `f`, run `times` times.
fn count(times: usize, mut f: impl FnMut()) -> u64 {
    let before = allocations();
    for _ in 0..times {
        f();
    }
    allocations() - before
}

#[test]
fn the_counter_counts() {
    assert_eq!(count(3, || drop(std::hint::black_box(vec![1u8; 10]))), 3);
}

#[test]
fn publishing_and_reading_allocate_nothing_in_steady_state() {
    for (width, height) in [(16u32, 1u32), (1920, 1080)] {
        let name = format!("alloc-test-{}-{width}", std::process::id());
        let meta = FrameMeta::packed(width, height, PixelFormat::Rgba8);
        let pixels = vec![7u8; meta.checked_len().unwrap()];
        let options = WriterOptions {
            slots: 4,
            slot_capacity: pixels.len(),
            ..Default::default()
        };
        let mut writer = Writer::create(&name, &options).unwrap();
        let mut reader = Reader::open(&name).unwrap();
        let mut buf = Vec::new();
        // Warm up: the buffer takes its size once.
        for _ in 0..4 {
            writer.publish(&meta, &pixels).unwrap();
            reader.latest(&mut buf).unwrap().unwrap();
            reader.next(&mut buf).unwrap();
        }
        let timeout = Duration::from_secs(1);
        let n = if width > 16 { 5 } else { 1_000 };
        let publish = count(n, || {
            writer.publish(&meta, &pixels).unwrap();
        });
        let publish_with = count(n, || {
            writer
                .publish_with(&meta, |fill| fill.write(0, &pixels))
                .unwrap();
        });
        let latest = count(n, || {
            reader.latest(&mut buf).unwrap().unwrap();
        });
        let reads = count(n, || {
            writer.publish(&meta, &pixels).unwrap();
            reader.next(&mut buf).unwrap();
            writer.publish(&meta, &pixels).unwrap();
            reader.wait_latest(&mut buf, timeout).unwrap().unwrap();
            writer.publish(&meta, &pixels).unwrap();
            reader.wait_next(&mut buf, timeout).unwrap().unwrap();
        });
        let mut out = vec![0u8; pixels.len()];
        let reads_into = count(n, || {
            writer.publish(&meta, &pixels).unwrap();
            reader.latest_into(&mut out).unwrap().unwrap();
            writer.publish(&meta, &pixels).unwrap();
            reader.next_into(&mut out).unwrap();
            writer.publish(&meta, &pixels).unwrap();
            reader.wait_latest_into(&mut out, timeout).unwrap().unwrap();
            writer.publish(&meta, &pixels).unwrap();
            reader.wait_next_into(&mut out, timeout).unwrap().unwrap();
        });
        assert_eq!(out, pixels);
        assert_eq!(
            (publish, publish_with, latest, reads, reads_into),
            (0, 0, 0, 0, 0),
            "allocations over {n} frames of {width}x{height}: publish, publish_with, latest, \
             next/wait_latest/wait_next, the same into a slice"
        );
    }
}
