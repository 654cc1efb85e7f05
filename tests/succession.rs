//! Writers succeeding one another under one name: readers follow the new
//! writer whatever state the old segment was left in, nothing a reader does
//! can delay or prevent a writer's start, and a writer that dies at any point
//! leaves no file behind but its (reclaimable) segment.

mod common;

use common::{pattern, unique_name};
use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::os::unix::fs::FileExt;
use std::time::Duration;

fn meta() -> FrameMeta {
    FrameMeta::packed(16, 16, PixelFormat::Rgba8)
}

fn small() -> WriterOptions {
    WriterOptions {
        slot_capacity: 4096,
        ..Default::default()
    }
}

/// Byte offset of slot `index`'s sequence word in a segment made with `small()`.
fn seq_offset(index: u64) -> u64 {
    128 + index * (64 + 4096)
}

#[test]
fn a_wait_follows_a_new_writer_when_the_old_latest_slot_cannot_be_read() {
    let name = unique_name("unreadable-latest");
    let mut old = Writer::create(&name, &small()).unwrap();
    for n in 1..=3 {
        old.publish(&meta(), &pattern(n, 1024)).unwrap();
    }
    let mut reader = Reader::open(&name).unwrap();
    // The latest frame's slot is left odd, as a writer dying mid-way through a
    // broken publish (or a hostile one) would leave it.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(old.path())
        .unwrap();
    file.write_all_at(&1u64.to_le_bytes(), seq_offset(3 % 2))
        .unwrap();
    drop(old);
    let mut new = Writer::create(&name, &small()).unwrap();
    new.publish(&meta(), &pattern(1, 1024)).unwrap();
    let mut buf = Vec::new();
    for wait_next in [false, true] {
        let got = if wait_next {
            reader.wait_next(&mut buf, Duration::from_secs(5))
        } else {
            reader.wait_latest(&mut buf, Duration::from_secs(5))
        };
        let info = got
            .unwrap_or_else(|e| panic!("wait_next={wait_next}: {e}"))
            .expect("the new writer's frame");
        assert_eq!(info.number, 1 + u64::from(wait_next));
        assert!(buf == pattern(info.number, 1024), "frame {}", info.number);
        new.publish(&meta(), &pattern(2, 1024)).unwrap();
    }
}
