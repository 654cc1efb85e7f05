//! The Python reader embedded in docs/layout.md, run as written against live
//! writers: the documentation a user will copy must be a correct reader.

mod common;

use common::{pattern, unique_name};
use shmframe::{FrameMeta, PixelFormat, Writer, WriterOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The ```python block of docs/layout.md, written out as `shmframe_reader.py`.
fn reader_module(dir: &Path) {
    let doc = include_str!("../docs/layout.md");
    let code = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/layout.md has a python block");
    std::fs::write(dir.join("shmframe_reader.py"), code).unwrap();
}

/// Runs python3 with the module importable; `args` as given.
fn python(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new("python3");
    command.args(args).env("PYTHONPATH", dir);
    for (key, value) in envs {
        command.env(key, value);
    }
    command
        .output()
        .expect("python3 is needed for this test (.ci/run installs it)")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_documented_python_reader_reads_live_writers_correctly() {
    let dir = tempfile::tempdir().unwrap();
    reader_module(dir.path());
    let script = dir.path().join("shmframe_reader.py");
    let script = script.to_str().unwrap();
    let name = unique_name("python");

    // Nothing published yet: an error, not an empty frame.
    let options = WriterOptions {
        slot_capacity: 1 << 16,
        ..Default::default()
    };
    let mut writer = Writer::create(&name, &options).unwrap();
    let out = python(dir.path(), &[script, &name], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no frame published yet"),
        "{}",
        stderr(&out)
    );

    // One frame with row padding: metadata and every byte as published.
    let meta = FrameMeta {
        stride: 16,
        ..FrameMeta::packed(5, 3, PixelFormat::Rgb8)
    };
    writer.publish(&meta, &pattern(1, 48)).unwrap();
    let out = python(dir.path(), &[script, &name], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "frame 1: 5x3, format 3, stride 16, 48 bytes"
    );
    let probe = format!(
        "import shmframe_reader as r\n\
         f = r.read_latest(*r.open_stream({name:?}))\n\
         print(f[0], f[6].hex())"
    );
    let out = python(dir.path(), &["-c", &probe], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hex: String = pattern(1, 48).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("1 {hex}")
    );

    // A writer publishing in bursts as fast as it can, with sizes changing:
    // every frame the reader returns is whole (each byte is its number) and of
    // its size. The pauses between bursts give this slow reader a chance: a
    // writer that never pauses laps it on every attempt, and it rightly gives up.
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            for n in 2u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let meta = FrameMeta::packed(1 + (n % 64) as u32, 64, PixelFormat::Rgba8);
                let len = meta.checked_len().unwrap();
                writer.publish(&meta, &vec![n as u8; len]).unwrap();
                if n % 100 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        })
    };
    let probe = format!(
        "import shmframe_reader as r\n\
         s = r.open_stream({name:?})\n\
         for _ in range(500):\n\
         \x20   n, ts, w, h, rs, fmt, px = r.read_latest(*s)\n\
         \x20   assert (w, h, rs, fmt) == (1 + n % 64, 64, 4 * (1 + n % 64), 1), (n, w, h, rs, fmt)\n\
         \x20   assert px == bytes([n % 256]) * len(px) and len(px) == rs * h, n\n\
         print('ok')"
    );
    let out = python(dir.path(), &["-c", &probe], &[]);
    stop.store(true, Ordering::Relaxed);
    flooding.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // A format code this reader does not know: said so, not taken for corruption.
    let unknown = unique_name("python-unknown-format");
    let mut writer = Writer::create(&unknown, &options).unwrap();
    writer.publish(&meta, &pattern(1, 48)).unwrap();
    let slot_of_frame_1 = 128 + (64 + (1u64 << 16));
    std::fs::OpenOptions::new()
        .write(true)
        .open(writer.path())
        .unwrap()
        .write_all_at(&99u32.to_le_bytes(), slot_of_frame_1 + 36)
        .unwrap();
    let out = python(dir.path(), &[script, &unknown], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown pixel format code 99"),
        "{}",
        stderr(&out)
    );
    drop(writer);

    // Bad input: clear errors and a non-zero exit.
    let garbage = unique_name("python-garbage");
    let planted = shmframe::segment_path(&garbage).unwrap();
    std::fs::write(&planted, [0x55u8; 4096]).unwrap();
    let out = python(dir.path(), &[script, &garbage], &[]);
    let _ = std::fs::remove_file(&planted);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a valid shmframe segment"),
        "{}",
        stderr(&out)
    );
    for bad_dir in ["", "relative/dir"] {
        let out = python(dir.path(), &[script, &name], &[("SHMFRAME_DIR", bad_dir)]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("absolute path"), "{}", stderr(&out));
    }
    let out = python(dir.path(), &[script, "../etc"], &[]);
    assert!(
        stderr(&out).contains("invalid stream name"),
        "{}",
        stderr(&out)
    );
}

/// The documented reader's length rule agrees with the engine for every
/// format, odd sizes and padded strides, and it reads a live YUV frame whole.
#[test]
fn the_documented_python_reader_knows_every_format() {
    let dir = tempfile::tempdir().unwrap();
    reader_module(dir.path());
    let mut cases = Vec::new();
    for format in PixelFormat::ALL {
        for (w, h) in [(1, 1), (3, 7), (4, 2), (1921, 3)] {
            let packed = FrameMeta::packed(w, h, format);
            for pad in [0, 1, 5] {
                let meta = packed.with_stride(packed.stride + pad);
                let len = meta.checked_len().map_or(-1, |len| len as i64);
                cases.push(format!(
                    "({}, {w}, {h}, {}, {len})",
                    format.code(),
                    meta.stride
                ));
            }
        }
    }
    let probe = format!(
        "import shmframe_reader as r\n\
         for fmt, w, h, rs, want in [{}]:\n\
         \x20   got = r.frame_length(fmt, w, h, rs)\n\
         \x20   assert got == want, (fmt, w, h, rs, got, want)\n\
         print('ok')",
        cases.join(", ")
    );
    let out = python(dir.path(), &["-c", &probe], &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let name = unique_name("python-nv12");
    let options = WriterOptions {
        slot_capacity: 1 << 16,
        ..Default::default()
    };
    let mut writer = Writer::create(&name, &options).unwrap();
    let meta = FrameMeta::packed(5, 3, PixelFormat::Nv12).with_color(shmframe::Colorimetry {
        matrix: shmframe::ColorMatrix::Bt709,
        range: shmframe::ColorRange::Full,
    });
    let len = meta.checked_len().unwrap();
    writer.publish(&meta, &pattern(1, len)).unwrap();
    let script = dir.path().join("shmframe_reader.py");
    let out = python(dir.path(), &[script.to_str().unwrap(), &name], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("frame 1: 5x3, format 6, stride 5, {len} bytes")
    );
}
