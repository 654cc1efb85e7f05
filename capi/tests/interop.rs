//! Exact pixels across processes and languages: a C writer read by the Rust
//! engine, the `shmframe` command line and Python, and Rust and Python
//! writers read by C.

mod support;

use engine::{ColorMatrix, ColorRange, Colorimetry, FrameMeta, PixelFormat, Reader, Writer};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{compile, run_ok, run_succeeding, Lang};

const WIDTH: u32 = 16;
const HEIGHT: u32 = 6;

/// The frame interop.c writes and expects for `format`.
fn meta_of(format: PixelFormat) -> FrameMeta {
    let meta = FrameMeta::packed(WIDTH, HEIGHT, format);
    if format.is_yuv() {
        return meta.with_color(Colorimetry {
            matrix: ColorMatrix::Bt709,
            range: ColorRange::Full,
        });
    }
    meta
}

/// check.h's pattern_byte.
fn pattern(number: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(31).wrapping_add(number * 7) as u8)
        .collect()
}

/// A writer program (C or Python) that prints "ready" once its streams are
/// published and runs until its stdin closes.
struct WriterProcess {
    child: std::process::Child,
}

impl WriterProcess {
    /// Runs `interop write PREFIX` (C) until its streams are there.
    fn c(prefix: &str, segments: &Path) -> WriterProcess {
        let mut command = Command::new(compile("interop", Lang::C));
        command.args(["write", prefix]);
        WriterProcess::start(&mut command, segments, "the C writer")
    }

    /// Runs `command` with segments in `segments` until it says "ready".
    fn start(command: &mut Command, segments: &Path, what: &str) -> WriterProcess {
        let mut child = command
            .env("SHMFRAME_DIR", segments)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n", "{what} did not start");
        WriterProcess { child }
    }

    /// Closes its stdin and checks that it ends successfully.
    fn finish(mut self) {
        drop(self.child.stdin.take());
        assert!(self.child.wait().unwrap().success());
    }
}

/// Builds the `shmframe` command (already built in a workspace test run).
fn cli() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "-p", "shmframe-cli"])
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p shmframe-cli failed");
    support::profile_dir().join("shmframe")
}

/// One test for both directions: the engine finds segments through
/// SHMFRAME_DIR, which is set once for the whole process here.
#[test]
fn c_and_rust_read_each_other_exactly_in_every_format() {
    let segments = tempfile::tempdir().unwrap();
    std::env::set_var("SHMFRAME_DIR", segments.path());
    a_c_writer_is_read_exactly_by_the_rust_engine(segments.path());
    a_rust_writer_is_read_exactly_by_c(segments.path());
}

/// The venv of scripts/python-env.sh (target/pyenv), which scripts/setup.sh makes.
fn python() -> Option<PathBuf> {
    let python = support::profile_dir().parent()?.join("pyenv/bin/python");
    python.is_file().then_some(python)
}

#[test]
fn c_and_python_read_each_other_exactly_in_every_format() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: no target/pyenv: `bash scripts/python-env.sh` builds it");
        return;
    };
    let script = support::capi_dir().join("tests/python_interop.py");
    let segments = tempfile::tempdir().unwrap();
    // C writes, Python reads.
    let writer = WriterProcess::c("c2py", segments.path());
    let output = run_ok(
        &python,
        &[script.to_str().unwrap(), "read", "c2py"],
        segments.path(),
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "python read 10 formats\n"
    );
    writer.finish();
    // Python writes, C reads.
    let py_writer = WriterProcess::start(
        Command::new(&python).arg(&script).args(["write", "py2c"]),
        segments.path(),
        "the Python writer",
    );
    let output = run_ok(
        &compile("interop", Lang::C),
        &["read", "py2c"],
        segments.path(),
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "read 10 formats\n");
    py_writer.finish();
}

fn a_c_writer_is_read_exactly_by_the_rust_engine(segments: &Path) {
    let writer = WriterProcess::c("c2rust", segments);
    for format in PixelFormat::ALL {
        let mut reader = Reader::open(&format!("c2rust-{}", format.name())).unwrap();
        let mut pixels = Vec::new();
        let info = reader.latest(&mut pixels).unwrap().expect("a frame");
        assert_eq!(info.meta, meta_of(format), "{format}");
        assert_eq!((info.index, info.missed), (1, 0));
        assert_eq!(pixels, pattern(format.code().into(), info.len), "{format}");
    }
    writer.finish();
}

#[test]
fn a_c_writer_is_read_exactly_by_the_command_line() {
    let cli = cli();
    let segments = tempfile::tempdir().unwrap();
    let writer = WriterProcess::c("c2cli", segments.path());
    for format in PixelFormat::ALL {
        let name = format!("c2cli-{}", format.name());
        let mut info = Command::new(&cli);
        info.args(["info", "--json", "--sample", "0", "--name", &name])
            .env("SHMFRAME_DIR", segments.path());
        let output = run_succeeding(info);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let latest = &report["latest"];
        assert_eq!(report["alive"], true);
        assert_eq!(
            (&latest["width"], &latest["height"], &latest["format"]),
            (&WIDTH.into(), &HEIGHT.into(), &format.name().into()),
            "{report}"
        );
        assert_eq!(latest["stride"], meta_of(format).stride);
        if format.is_yuv() {
            assert_eq!(
                latest["color"],
                serde_json::json!({"matrix": "bt709", "range": "full"})
            );
        }
    }
    // The formats a PNG holds exactly: the snapshot's samples are the frame's bytes.
    for (format, color, depth) in [
        (
            PixelFormat::Rgba8,
            png::ColorType::Rgba,
            png::BitDepth::Eight,
        ),
        (PixelFormat::Rgb8, png::ColorType::Rgb, png::BitDepth::Eight),
        (
            PixelFormat::Gray8,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
        ),
        (
            PixelFormat::Gray16,
            png::ColorType::Grayscale,
            png::BitDepth::Sixteen,
        ),
    ] {
        let out = segments.path().join(format!("{}.png", format.name()));
        let mut snapshot = Command::new(&cli);
        snapshot
            .args(["snapshot", "--name", &format!("c2cli-{}", format.name())])
            .arg(&out)
            .env("SHMFRAME_DIR", segments.path());
        run_succeeding(snapshot);
        let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(&out).unwrap()));
        let mut png = decoder.read_info().unwrap();
        let mut samples = vec![0; png.output_buffer_size().unwrap()];
        let frame = png.next_frame(&mut samples).unwrap();
        assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
        assert_eq!(
            (frame.color_type, frame.bit_depth),
            (color, depth),
            "{format}"
        );
        let mut expected = pattern(format.code().into(), samples.len());
        if format == PixelFormat::Gray16 {
            // PNG stores 16-bit samples big-endian, the frame little-endian.
            expected.chunks_mut(2).for_each(|pair| pair.swap(0, 1));
        }
        assert_eq!(samples, expected, "{format}");
        std::fs::remove_file(out).unwrap();
    }
    writer.finish();
}

fn a_rust_writer_is_read_exactly_by_c(segments: &Path) {
    let options = engine::WriterOptions {
        slot_capacity: 1 << 16,
        ..Default::default()
    };
    let _writers: Vec<Writer> = PixelFormat::ALL
        .iter()
        .map(|&format| {
            let mut writer =
                Writer::create(&format!("rust2c-{}", format.name()), &options).unwrap();
            let meta = meta_of(format);
            let len = meta.checked_len().unwrap();
            writer
                .publish(&meta, &pattern(format.code().into(), len))
                .unwrap();
            writer
        })
        .collect();
    let program = compile("interop", Lang::Cxx);
    let output = run_ok(&program, &["read", "rust2c"], segments);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "read 10 formats\n");
}
