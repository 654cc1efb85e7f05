//! The `bridge_message` fuzz target's committed seeds (one valid message per
//! codec and some refusals) and any saved findings, run through the same
//! decoding in the normal suite. `SHMFRAME_WRITE_BRIDGE_SEEDS=1` rewrites the seeds.

use shmframe::{FrameInfo, FrameMeta, PixelFormat};
use shmframe_bridge::{decode_message, pattern, Codec, Limits, Outgoing, Stamp};
use std::path::PathBuf;

fn dir(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A valid message of frame 3 of the pattern, encoded with `codec`.
fn seed(codec: Codec, format: PixelFormat) -> Vec<u8> {
    let meta = FrameMeta::packed(pattern::MIN_WIDTH, 16, format);
    let mut pixels = Vec::new();
    pattern::fill(&meta, 3, &mut pixels);
    let info = FrameInfo {
        number: 3,
        timestamp_ns: 1,
        index: 3,
        published_ns: 1,
        meta,
        len: pixels.len(),
        missed: 0,
    };
    let stamp = Stamp {
        source_id: 1,
        seq: 1,
        sent_unix_ns: 2,
    };
    Outgoing::encode(codec, &info, &mut pixels, stamp)
        .expect("encode a seed")
        .to_vec()
}

fn seeds() -> Vec<(String, Vec<u8>, bool)> {
    let mut all = Vec::new();
    for (codec, format) in [
        (Codec::Raw, PixelFormat::Gray8),
        (Codec::Lz4, PixelFormat::Bgra8),
        (Codec::Qoi, PixelFormat::Rgba8),
        (Codec::Qoi, PixelFormat::Rgb8),
        (Codec::Jpeg { quality: 80 }, PixelFormat::Rgb8),
        (Codec::Jpeg { quality: 80 }, PixelFormat::Gray8),
    ] {
        let name = format!("seed-{}-{format}", codec.id().name());
        all.push((name, seed(codec, format), true));
    }
    let mut truncated = seed(Codec::Qoi, PixelFormat::Rgba8);
    truncated.truncate(truncated.len() / 2);
    all.push(("seed-truncated-qoi".into(), truncated, false));
    all
}

#[test]
fn seeds_decode_as_committed() {
    let corpus = dir("fuzz/corpus/bridge_message");
    if std::env::var_os("SHMFRAME_WRITE_BRIDGE_SEEDS").is_some() {
        std::fs::create_dir_all(&corpus).expect("corpus directory");
        for (name, bytes, _) in seeds() {
            std::fs::write(corpus.join(name), bytes).expect("write a seed");
        }
    }
    for (name, bytes, valid) in seeds() {
        let committed = std::fs::read(corpus.join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e} (rewrite with SHMFRAME_WRITE_BRIDGE_SEEDS=1)"));
        let mut out = Vec::new();
        let result = decode_message(&committed, &Limits::default(), &mut out);
        assert_eq!(result.is_ok(), valid, "{name}: {result:?}");
        if valid && !name.contains("jpeg") {
            assert_eq!(committed, bytes, "{name} is stale");
        }
    }
}

/// Each saved finding once crashed the decoder; now it is refused with an
/// error. (The first: a JPEG whose sampling factors trip an assert in
/// zune-jpeg's AVX2 upsampler, found by the CI fuzz smoke.)
#[test]
fn saved_findings_are_refused_without_a_panic() {
    let findings = dir("cli/tests/fuzz-inputs/bridge_message");
    let entries =
        std::fs::read_dir(&findings).unwrap_or_else(|e| panic!("{}: {e}", findings.display()));
    let mut seen = 0;
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let bytes = std::fs::read(&path).expect("read a finding");
        let mut out = Vec::new();
        let result = decode_message(&bytes, &Limits::default(), &mut out);
        let err = result.expect_err(&path.display().to_string());
        assert!(
            err.to_string().contains("payload"),
            "{}: {err}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen > 0, "no saved findings in {}", findings.display());
}
