//! Take a valid segment with frames in it, and between reads let the input
//! overwrite header and slot metadata words (geometry, lengths, sequence
//! words, frame numbers) as a hostile writer could.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmframe::heap::HeapRegion;
use shmframe::layout::Geometry;
use shmframe::protocol::{RingReader, RingWriter};
use shmframe::{FrameMeta, PixelFormat};

const SLOTS: usize = 3;
const CAPACITY: usize = 256;

fuzz_target!(|bytes: &[u8]| {
    let geometry = Geometry::new(SLOTS, CAPACITY).unwrap();
    let heap = HeapRegion::new(geometry);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    for n in 1..=4u8 {
        let meta = FrameMeta::packed(4, 4, PixelFormat::Rgba8);
        writer.publish(&region, &meta, || u64::from(n), &[n; 64]).unwrap();
    }
    let mut latest = RingReader::new(&region);
    let mut in_order = RingReader::new(&region);
    let mut buf = Vec::new();
    // Each 9-byte record: a word index (into the header and slot headers,
    // where mutations matter most) and the value to store there.
    for record in bytes.chunks_exact(9) {
        let pick = usize::from(record[0]);
        let index = if pick < 16 {
            pick
        } else {
            let slot = pick % SLOTS;
            geometry.slot_word(slot) + (pick / SLOTS) % 8
        };
        let value = u64::from_le_bytes(record[1..9].try_into().unwrap());
        heap.store_word(index, value);
        if let Ok(Some(info)) = latest.read_latest(&region, &mut buf) {
            assert!(info.len <= CAPACITY && buf.len() == info.len);
        }
        if let Ok(Some(info)) = in_order.read_next(&region, &mut buf) {
            assert!(info.len <= CAPACITY && buf.len() == info.len);
        }
    }
});
