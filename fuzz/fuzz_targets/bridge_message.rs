//! Decode an arbitrary network message as the bridge's importer does: header
//! checks, then the codec's payload. Errors are fine; panics, hangs,
//! out-of-bounds access and allocations past the frame limit are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmframe_bridge::{decode_message, Limits};

fuzz_target!(|bytes: &[u8]| {
    // A smaller limit than the importer's default keeps each run quick.
    let limits = Limits {
        max_frame_bytes: 16 << 20,
    };
    let mut out = Vec::new();
    if let Ok(received) = decode_message(bytes, &limits, &mut out) {
        assert_eq!(out.len() as u64, received.header.frame_len);
        assert!(out.len() <= limits.max_frame_bytes);
    }
});
