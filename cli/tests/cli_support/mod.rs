//! Helpers for the tests that run the real `shmframe` binary: bounded runs,
//! background publishers that are always stopped, and stream cleanup.

#![allow(dead_code)]

use rustix::process::{kill_process, Pid, Signal};
use shmframe::{FrameInfo, Reader};
use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest any command or wait in these tests may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A stream name unique to this test process and `tag`.
pub fn unique_name(tag: &str) -> String {
    format!("cli-{}-{tag}", std::process::id())
}

/// The `shmframe` binary under test.
pub fn shmframe() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shmframe"));
    command.env_remove("SHMFRAME_DIR");
    command
}

/// Runs `shmframe ARGS` to completion (bounded by `TIMEOUT`) with `stdin` as input.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_command(shmframe().args(args), stdin)
}

/// Runs `command` to completion, bounded by `TIMEOUT`; kills it and fails the test on timeout.
pub fn run_command(command: &mut Command, stdin: &[u8]) -> Output {
    run_command_within(command, stdin, TIMEOUT)
}

/// Runs `command` to completion, bounded by `timeout`; kills it and fails the test on timeout.
pub fn run_command_within(command: &mut Command, stdin: &[u8], timeout: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shmframe");
    let input = stdin.to_vec();
    let mut pipe = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        // The program may exit without reading everything (a usage error): ignore EPIPE.
        let _ = pipe.write_all(&input);
    });
    let stdout = collect(child.stdout.take().expect("piped stdout"));
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    let status = wait_bounded(&mut child, timeout).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{command:?} did not finish within {timeout:?}");
    });
    let _ = writer.join();
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn collect(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits up to `timeout` for `child` to exit.
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Text of a captured stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `shmframe` running in the background for stream `name`. Dropping it
/// stops it (SIGTERM, then SIGKILL) and removes the stream if it is left.
pub struct Background {
    pub child: Child,
    pub name: String,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Background {
    /// Starts `shmframe ARGS`, publishing stream `name`.
    pub fn start(args: &[&str], name: &str) -> Background {
        Background::start_command(shmframe().args(args).stdin(Stdio::null()), name)
    }

    /// Starts `shmframe publish --name NAME --pattern SIZE EXTRA...`.
    pub fn pattern(name: &str, size: &str, extra: &[&str]) -> Background {
        let mut args = vec!["publish", "--name", name, "--pattern", size];
        args.extend_from_slice(extra);
        Background::start(&args, name)
    }

    /// Starts `shmframe ARGS` with a pipe to its stdin (see `stdin`).
    pub fn start_piped(args: &[&str], name: &str) -> Background {
        Background::start_command(shmframe().args(args).stdin(Stdio::piped()), name)
    }

    /// Starts `command` (stdin already chosen), publishing stream `name`.
    pub fn start_command(command: &mut Command, name: &str) -> Background {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn shmframe");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let mut pipe = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Background {
            child,
            name: name.to_string(),
            stderr,
        }
    }

    /// The child's stdin pipe (once).
    pub fn stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().expect("started with start_piped")
    }

    /// What the child has written to stderr so far.
    pub fn stderr(&self) -> String {
        text(&self.stderr.lock().unwrap())
    }

    /// Process id of the child.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the child (unless it has been reaped).
    pub fn signal(&mut self, signal: Signal) {
        if self.child.try_wait().expect("try_wait").is_none() {
            let pid = Pid::from_raw(self.child.id() as i32).expect("positive pid");
            let _ = kill_process(pid, signal);
        }
    }

    /// Waits (bounded) for the child to exit and returns its status.
    pub fn wait(&mut self) -> ExitStatus {
        wait_bounded(&mut self.child, TIMEOUT).unwrap_or_else(|| {
            panic!(
                "`{}` publisher did not exit; stderr: {}",
                self.name,
                self.stderr()
            )
        })
    }

    /// Waits (bounded) until the stream exists and this child is its writer.
    pub fn reader(&mut self) -> Reader {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(reader) = Reader::open(&self.name) {
                if reader.status().writer_pid == self.pid() {
                    return reader;
                }
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "publisher of `{}` exited with {status}: {}",
                    self.name,
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "stream `{}` never appeared",
                self.name
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.signal(Signal::TERM);
        if wait_bounded(&mut self.child, Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Whatever happened, leave nothing behind under this test's name.
        let _ = shmframe::remove_stream(&self.name, true);
    }
}

/// The latest frame, waiting (bounded) for one to exist.
pub fn latest_frame(reader: &mut Reader) -> (FrameInfo, Vec<u8>) {
    let mut pixels = Vec::new();
    if let Some(frame) = reader.latest(&mut pixels).expect("read latest") {
        return (frame, pixels);
    }
    let frame = reader
        .wait_latest(&mut pixels, TIMEOUT)
        .expect("wait for a frame")
        .expect("a frame within the timeout");
    (frame, pixels)
}

/// The next frame in order, waiting (bounded) for it.
pub fn next_frame(reader: &mut Reader) -> (FrameInfo, Vec<u8>) {
    let mut pixels = Vec::new();
    let frame = reader
        .wait_next(&mut pixels, TIMEOUT)
        .expect("wait for the next frame")
        .expect("a frame within the timeout");
    (frame, pixels)
}

/// Whether stream `name`'s segment file exists.
pub fn stream_exists(name: &str) -> bool {
    shmframe::segment_path(name).expect("valid name").exists()
}

/// Runs `shmframe snapshot --name NAME OUT` and returns the saved image.
pub fn snapshot(name: &str, out: &Path) -> image::DynamicImage {
    snapshot_file(name, out);
    image::open(out).expect("snapshot is a readable PNG")
}

/// Runs `shmframe snapshot --name NAME OUT` (waiting for a frame), failing the test if it fails.
pub fn snapshot_file(name: &str, out: &Path) {
    let output = run(
        &[
            "snapshot",
            "--name",
            name,
            "--wait",
            "30",
            out.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert!(
        output.status.success(),
        "snapshot failed: {}",
        text(&output.stderr)
    );
}

/// Any other child process, killed if the test ends before it does.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A PNG whose header claims `width` x `height` pixels, with no image data.
pub fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&width.to_be_bytes());
    chunk.extend_from_slice(&height.to_be_bytes());
    chunk.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    png
}

/// CRC-32 (IEEE), as PNG chunks use.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Whether ffmpeg and ffprobe are on the PATH; if not, says that `test` is skipped.
pub fn ffmpeg_or_skip(test: &str) -> bool {
    let found = |program: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    };
    if found("ffmpeg") && found("ffprobe") {
        return true;
    }
    println!("SKIPPED {test}: needs ffmpeg and ffprobe (apt-get install ffmpeg)");
    false
}

/// Runs `ffmpeg ARGS` (quiet but for errors) with `stdin`; fails the test if it fails.
pub fn ffmpeg(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut command = Command::new("ffmpeg");
    // -nostdin only stops ffmpeg's key handling; an input `-i -` still reads stdin.
    command.args(["-hide_banner", "-loglevel", "error", "-nostdin"]);
    let output = run_command(command.args(args), stdin);
    assert!(
        output.status.success(),
        "ffmpeg {args:?} failed: {}",
        text(&output.stderr)
    );
    output.stdout
}

/// One frame of ffmpeg's `testsrc2` pattern, `size` (WxH) in `pix_fmt`, as raw bytes.
pub fn testsrc(pix_fmt: &str, size: &str) -> Vec<u8> {
    // testsrc2 makes even sizes only: an odd one is cropped (in RGB, which crop
    // does not round to even) from the next even one.
    let (w, h) = size.split_once('x').expect("WxH");
    let (w, h): (u32, u32) = (w.parse().expect("width"), h.parse().expect("height"));
    let source = format!(
        "testsrc2=size={}x{}:rate=1,format=rgb24,crop={w}:{h}:0:0",
        w + w % 2,
        h + h % 2
    );
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &source,
            "-frames:v",
            "1",
            "-pix_fmt",
            pix_fmt,
            "-f",
            "rawvideo",
            "-",
        ],
        b"",
    )
}
