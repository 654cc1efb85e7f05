//! Attach to a segment made of arbitrary bytes and, if that succeeds, read the
//! latest and in-order frames. Errors are fine; panics, hangs, out-of-bounds
//! reads and huge allocations are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmframe::heap::HeapRegion;
use shmframe::protocol::RingReader;

fuzz_target!(|bytes: &[u8]| {
    let Ok(heap) = HeapRegion::from_bytes(bytes) else {
        return;
    };
    let region = heap.region();
    let mut latest = RingReader::new(&region);
    let mut in_order = RingReader::new(&region);
    let mut buf = Vec::new();
    for _ in 0..3 {
        if let Ok(Some(info)) = latest.read_latest(&region, &mut buf) {
            assert!(info.len <= region.geometry().slot_capacity);
            assert_eq!(buf.len(), info.len);
        }
        if let Ok(Some(info)) = in_order.read_next(&region, &mut buf) {
            assert_eq!(buf.len(), info.len);
        }
    }
});
