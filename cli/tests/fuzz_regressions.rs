//! Inputs the fuzz targets (fuzz/) once found crashing, hanging or slow, run
//! through the same code in the normal suite. Drop a new finding into
//! cli/tests/fuzz-inputs/<target>/ and it is tested here (`bridge_message`
//! findings by bridge/tests/fuzz_seeds.rs).

mod cli_support;

use cli_support::{run, stream_exists, text, unique_name};
use shmframe::heap::HeapRegion;
use shmframe::layout::Geometry;
use shmframe::protocol::{RingReader, RingWriter};
use shmframe::{Error, FrameMeta, PixelFormat};
use std::path::PathBuf;

/// The saved inputs of fuzz target `target`, with their file names.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-inputs")
        .join(target);
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("read input"))
        })
        .collect();
    found.sort();
    found
}

/// What the `attach` target does with `bytes`; returns how many reads gave a frame.
fn attach(name: &str, bytes: &[u8]) -> usize {
    let Ok(heap) = HeapRegion::from_bytes(bytes) else {
        return 0;
    };
    let region = heap.region();
    let mut latest = RingReader::new(&region);
    let mut in_order = RingReader::new(&region);
    let mut buf = Vec::new();
    let mut frames = 0;
    for _ in 0..3 {
        match latest.read_latest(&region, &mut buf) {
            Ok(Some(info)) => {
                assert!(info.len <= region.geometry().slot_capacity, "{name}");
                assert_eq!(buf.len(), info.len, "{name}");
                frames += 1;
            }
            Ok(None) => {}
            Err(err) => assert_clear(name, &err),
        }
        match in_order.read_next(&region, &mut buf) {
            Ok(Some(info)) => {
                assert_eq!(buf.len(), info.len, "{name}");
                frames += 1;
            }
            Ok(None) => {}
            Err(err) => assert_clear(name, &err),
        }
    }
    frames
}

/// An error from reading garbage must say something.
fn assert_clear(name: &str, err: &Error) {
    assert!(!err.to_string().is_empty(), "{name}: empty message");
}

#[test]
fn attach_findings_give_errors_not_crashes() {
    let inputs = inputs("attach");
    assert!(!inputs.is_empty(), "no saved attach inputs");
    for (name, bytes) in &inputs {
        attach(name, bytes);
    }
}

/// The first finding: a segment whose latest frame's slot has an odd
/// (busy) sequence word forever. Each read retries a bounded number of times,
/// then reports a starved read; it never returns the slot's contents.
#[test]
fn a_slot_busy_forever_starves_the_read_instead_of_returning_it() {
    let (name, bytes) = inputs("attach")
        .into_iter()
        .find(|(name, _)| name.starts_with("slow-unit-08713abf"))
        .expect("the saved slow unit");
    // Saved under layout version 1; the finding is about its slots, so it is
    // replayed under the current version.
    let mut bytes = bytes;
    bytes[8..12].copy_from_slice(&shmframe::layout::VERSION.to_le_bytes());
    let heap = HeapRegion::from_bytes(&bytes).expect("the input attaches");
    // Version 4 finds a frame through the placement table (zero in the old
    // bytes): place the latest frame in its version-1 slot, `latest % N`.
    let geometry = heap.region().geometry();
    let latest = heap.region().latest();
    let slot = (latest % geometry.slot_count as u64) as usize;
    heap.store_word(
        geometry.place_word_of(latest),
        shmframe::layout::place_word(latest, slot),
    );
    let region = heap.region();
    let mut buf = Vec::new();
    let result = RingReader::new(&region).read_latest(&region, &mut buf);
    assert!(
        matches!(result, Err(Error::Starved { .. })),
        "{name}: {result:?}"
    );
}

/// The same situation made on purpose, with the library's own writer.
#[test]
fn a_writer_that_stops_mid_frame_in_the_latest_slot_starves_readers() {
    let geometry = Geometry::new(2, 64).unwrap();
    let heap = HeapRegion::new(geometry);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let meta = FrameMeta::packed(4, 4, PixelFormat::Rgba8);
    writer.publish(&region, &meta, || 1, &[7; 64]).unwrap();
    let mut buf = Vec::new();
    let latest = RingReader::new(&region).read_latest(&region, &mut buf);
    assert_eq!(latest.unwrap().map(|info| info.number), Some(1));
    // A hostile writer marks the latest frame's slot busy and never finishes.
    // Without holds, frame 1 is in slot 1 % 2.
    heap.store_word(geometry.slot_word(1), 3);
    let result = RingReader::new(&region).read_latest(&region, &mut buf);
    assert!(matches!(result, Err(Error::Starved { .. })), "{result:?}");
}

/// Every saved `decode` finding, given to `shmframe publish` as a file: a
/// clear error naming the file (exit 1), no panic, nothing published.
/// `timeout-b9f794be...` is a 610-byte GIF declaring a 16384x2054 canvas:
/// each frame composites 134 MB, so it was slow under the fuzzer; the
/// publisher decodes it frame by frame, in bounded memory, until a broken frame.
#[test]
fn decode_findings_are_refused_by_the_cli() {
    let inputs = inputs("decode");
    assert!(!inputs.is_empty(), "no saved decode inputs");
    let dir = tempfile::tempdir().unwrap();
    for (file_name, bytes) in &inputs {
        let file = dir.path().join(file_name);
        std::fs::write(&file, bytes).unwrap();
        let name = unique_name("fuzz-decode");
        let output = run(&["publish", "--name", &name, file.to_str().unwrap()], b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{file_name}: {stderr}");
        assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
        assert!(stderr.contains("not a valid"), "{file_name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file_name}: {stderr}");
        assert!(!stream_exists(&name), "{file_name}: a stream was left");
    }
}

/// The first `decode` finding: a JPEG on which zune-jpeg 0.5's AVX2 IDCT
/// panics (an `unwrap` on an out-of-range slice). The decoder's panic is
/// contained and reported, and names what failed.
#[test]
fn a_jpeg_that_panics_its_decoder_is_an_invalid_file() {
    let (_, bytes) = inputs("decode")
        .into_iter()
        .find(|(name, _)| name.starts_with("crash-af2e33a4"))
        .expect("the saved JPEG");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idct.jpg");
    std::fs::write(&file, bytes).unwrap();
    let name = unique_name("fuzz-idct");
    let output = run(&["publish", "--name", &name, file.to_str().unwrap()], b"");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not a valid Jpeg image: its decoder failed on it"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
