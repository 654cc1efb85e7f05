//! Holds against forged hold entries: the input writes any value into two
//! entries the writer honours (as a hostile reader may write its own hold
//! file), interleaved with publishes and an honest reader's holds. The writer
//! must never fail, and the honest reader's held frame must never change.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmframe::heap::HeapRegion;
use shmframe::layout::{FrameInfo, Geometry};
use shmframe::protocol::{RingReader, RingWriter};
use shmframe::{FrameMeta, PixelFormat};
use std::sync::atomic::{AtomicU64, Ordering::*};

const SLOTS: usize = 5;
const HOLDS: usize = 3;

fuzz_target!(|bytes: &[u8]| {
    let heap = HeapRegion::new(Geometry::with_holds(SLOTS, 64, HOLDS).unwrap());
    let entries: [AtomicU64; HOLDS] = std::array::from_fn(|_| AtomicU64::new(0));
    let region = heap.region().with_holds(&entries);
    let mut writer = RingWriter::init(&region, 1, 0);
    let meta = FrameMeta::packed(4, 4, PixelFormat::Rgba8);
    let publish = |writer: &mut RingWriter| {
        let n = writer.published() + 1;
        let got = writer.publish(&region, &meta, || n, &[n as u8; 64]);
        assert_eq!(got.unwrap(), n, "the writer failed with forged holds");
    };
    publish(&mut writer);
    let mut honest = RingReader::new(&heap.region());
    let mut copier = RingReader::new(&heap.region());
    let mut held: Option<(usize, u64)> = None;
    let mut buf = Vec::new();
    // Each 9-byte record: what to do, and a value for a forged entry.
    for record in bytes.chunks_exact(9) {
        let value = u64::from_le_bytes(record[1..9].try_into().unwrap());
        match record[0] % 4 {
            0 => entries[1 + usize::from(record[0] / 4) % (HOLDS - 1)].store(value, Relaxed),
            1 => publish(&mut writer),
            2 => {
                entries[0].store(0, Release);
                let mut info = FrameInfo::NONE;
                held = honest
                    .hold_latest(&heap.region(), &entries[0], &mut info)
                    .unwrap()
                    .map(|granted| (granted.slot, info.index));
            }
            _ => {
                if let Ok(Some(info)) = copier.read_next(&heap.region(), &mut buf) {
                    assert!(buf.iter().all(|&b| b == info.index as u8), "a torn copy");
                }
            }
        }
        if let Some((slot, index)) = held {
            let mut bytes = [0u8; 64];
            heap.region().copy_pixels(slot, &mut bytes);
            assert!(bytes.iter().all(|&b| b == index as u8), "a held frame changed");
        }
    }
});
