//! The decode path of `shmframe publish FILE` on arbitrary file bytes, with
//! the decode limits on: the CLI's own `decode.rs`, fed from memory. Errors
//! are fine; panics, hangs and allocations past the limits are not (run with
//! `-malloc_limit_mb=1024`, which is what enforces the last).
#![no_main]

// The CLI's modules, compiled here unchanged: `decode` needs only `fail`.
#[allow(dead_code)]
#[path = "../../cli/src/decode.rs"]
mod decode;
#[allow(dead_code)]
#[path = "../../cli/src/fail.rs"]
mod fail;

use decode::{Kind, MAX_SIDE};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::path::Path;

/// Frames of an animation decoded per input: enough to reach disposal and
/// compositing; more would only make each run slower.
const MAX_FRAMES: usize = 16;
/// Bytes of decoded frames after which no further frame is asked for. A GIF
/// of a few hundred bytes may declare a canvas of up to 256 MiB, and every
/// frame costs time in proportion to its canvas (the publisher streams such
/// a file frame by frame in bounded memory); more big frames of the same
/// file run the same code again.
const MAX_DECODED: usize = 64 << 20;

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzz-input");
    let Ok(probe) = decode::probe_source(path, Cursor::new(bytes)) else {
        return;
    };
    // A probe that passes has dimensions within the limits.
    let largest = MAX_SIDE as usize * MAX_SIDE as usize * 4;
    assert!(probe.frame_len > 0 && probe.frame_len <= largest);
    let Ok(frames) = decode::frames_source(path, Cursor::new(bytes.to_vec())) else {
        return;
    };
    let mut count = 0;
    let mut decoded = 0;
    for frame in frames.take(MAX_FRAMES) {
        // The publisher stops at the first error, and so does this.
        let Ok(frame) = frame else {
            return;
        };
        count += 1;
        let meta = frame.meta;
        assert!(meta.width <= MAX_SIDE && meta.height <= MAX_SIDE);
        assert!(frame.pixels.len() <= largest);
        // What the publisher hands the writer must describe itself exactly.
        if let Ok(len) = meta.checked_len() {
            assert_eq!(len, frame.pixels.len());
        }
        assert_eq!(frame.delay.is_some(), probe.kind == Kind::Animation);
        decoded += frame.pixels.len();
        if decoded >= MAX_DECODED {
            return;
        }
    }
    if probe.kind == Kind::Still {
        assert_eq!(count, 1, "a still image decodes to exactly one frame");
    }
});
