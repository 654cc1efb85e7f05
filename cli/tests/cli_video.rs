//! Video in and out through ffmpeg: `publish VIDEO`, `record`, and the
//! children that must never outlive shmframe. Needs ffmpeg and ffprobe
//! (skipped, saying so, without them).

mod cli_support;

use cli_support::{
    ffmpeg, ffmpeg_or_skip, next_frame, run, run_command, shmframe, stream_exists, testsrc, text,
    unique_name, wait_bounded, Background, TIMEOUT,
};
use rustix::process::{kill_process, Pid, Signal};
use shmframe::{FrameMeta, FrameOrigin, PixelFormat, Reader, Writer, WriterOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Makes `frames` frames of testsrc2 at `rate` fps and `size` into `out` (H.264 in mp4).
fn make_video(out: &Path, size: &str, rate: u32, frames: u32) {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={size}:rate={rate}"),
            "-frames:v",
            &frames.to_string(),
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-f",
            "mp4",
            "-y",
            out.to_str().unwrap(),
        ],
        b"",
    );
}

/// Starts `shmframe publish --name NAME EXTRA... VIDEO`.
fn publish_video(name: &str, video: &Path, extra: &[&str]) -> Background {
    let mut args = vec!["publish", "--name", name];
    args.extend_from_slice(extra);
    args.push(video.to_str().unwrap());
    Background::start(&args, name)
}

/// ffprobe's count of frames, size and rate of `file`'s video: "N,W,H,RATE".
fn probe_frames(file: &Path) -> String {
    let output = run_command(
        std::process::Command::new("ffprobe").args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,width,height,r_frame_rate",
            "-of",
            "csv=p=0",
            file.to_str().unwrap(),
        ]),
        b"",
    );
    assert!(output.status.success(), "ffprobe: {}", text(&output.stderr));
    text(&output.stdout).trim().to_string()
}

/// Waits (bounded) until `check` holds.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_video_file_is_published_at_its_size_rate_and_frame_count() {
    if !ffmpeg_or_skip("a_video_file_is_published_at_its_size_rate_and_frame_count") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Named .dat: the content decides, not the extension.
    let video = dir.path().join("clip.dat");
    make_video(&video, "320x240", 30, 45);
    let name = unique_name("video");
    let mut publisher = publish_video(&name, &video, &["--slots", "64"]);
    let mut reader = publisher.reader();
    wait_until("the publisher to hold its last frame", || {
        publisher.stderr().contains("holding the last one")
    });
    let status = reader.status();
    assert_eq!(status.frames_published, 45, "{}", publisher.stderr());
    assert!(
        publisher.stderr().contains("320x240 yuv420p, 30.000 fps"),
        "{}",
        publisher.stderr()
    );
    // The frames: the file's own size and format (no conversion), paced at
    // its rate: never faster than 30 fps (a slow machine may be slower).
    let (first, _) = next_frame(&mut reader);
    let mut last = first;
    let mut pixels = Vec::new();
    while let Some(frame) = reader.next(&mut pixels).unwrap() {
        last = frame;
    }
    assert_eq!(last.number, 45);
    assert_eq!((last.meta.width, last.meta.height), (320, 240));
    assert_eq!(last.meta.format, PixelFormat::I420);
    let span_s = (last.timestamp_ns - first.timestamp_ns) as f64 / 1e9;
    let frames = (last.number - first.number) as f64;
    assert!(
        span_s >= 0.95 * frames / 30.0,
        "{frames} frame periods in {span_s} s: faster than 30 fps"
    );
    drop(publisher);
    assert!(!stream_exists(&name));
}

/// `record` declares the rate the frames' own timestamps say and writes every
/// frame. The frames carry an exact 60 fps schedule as their timestamps while
/// they are published at whatever pace this machine allows, so the figure
/// does not depend on the machine's load (a video publisher paced by the
/// clock came out at 59.94 fps once on a loaded machine).
#[test]
fn record_writes_the_frames_at_the_streams_rate() {
    if !ffmpeg_or_skip("record_writes_the_frames_at_the_streams_rate") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("record");
    let meta = FrameMeta::packed(320, 240, PixelFormat::Rgb8);
    let len = meta.checked_len().unwrap();
    let options = WriterOptions {
        // Slots to spare, so a busy machine delays the recorder without losing frames.
        slots: 64,
        slot_capacity: len,
        mode: 0o600,
        holds: 0,
    };
    let mut writer = Writer::create(&name, &options).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let start = shmframe::monotonic_ns();
            let mut pixels = vec![0u8; len];
            let mut number = 0u64;
            while !stop.load(Ordering::Relaxed) {
                number += 1;
                pixels.fill(number as u8);
                let origin = FrameOrigin {
                    number,
                    timestamp_ns: start + number * 1_000_000_000 / 60,
                };
                writer.publish_from(origin, &meta, &pixels).unwrap();
                std::thread::sleep(Duration::from_millis(4));
            }
        })
    };
    let out = dir.path().join("recorded.mp4");
    let output = run(
        &[
            "record",
            "--name",
            &name,
            "--frames",
            "120",
            out.to_str().unwrap(),
        ],
        b"",
    );
    stop.store(true, Ordering::Relaxed);
    publisher.join().unwrap();
    let log = text(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("recorded 120 frames"), "{log}");
    assert!(log.contains("0 missed, 0 repeated"), "{log}");
    assert!(log.contains("at 60.000 fps"), "{log}");
    assert_eq!(probe_frames(&out), "320,240,60/1,120", "{log}");
}

#[test]
fn record_to_stdout_is_byte_exact_raw_and_y4m() {
    if !ffmpeg_or_skip("record_to_stdout_is_byte_exact_raw_and_y4m") {
        return;
    }
    let frames: Vec<Vec<u8>> = (0..6)
        .map(|k| {
            let mut frame = testsrc("nv12", "64x48");
            frame.iter_mut().for_each(|b| *b = b.wrapping_add(k * 17));
            frame
        })
        .collect();
    for y4m in [false, true] {
        let name = unique_name(if y4m { "rec-y4m" } else { "rec-raw" });
        let mut publisher = Background::start_piped(
            &[
                "publish", "--name", &name, "--raw", "64x48", "--format", "nv12", "--slots", "16",
                "--hold",
            ],
            &name,
        );
        publisher.reader();
        let mut stdin = publisher.stdin();
        stdin.write_all(&frames[0]).unwrap();
        // The recorder starts at the latest frame: the first one.
        let mut reader = Reader::open(&name).unwrap();
        next_frame(&mut reader);
        let mut args = vec!["record", "--name", &name, "--frames", "6", "--fps", "25"];
        if y4m {
            args.push("--y4m");
        }
        args.push("-");
        let mut recorder = shmframe()
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut recorder_err = recorder.stderr.take().unwrap();
        // Once it says it records, it holds frame 1: the rest may come.
        let mut said = Vec::new();
        let mut byte = [0u8; 1];
        while !text(&said).contains("Ctrl-C") {
            assert_eq!(recorder_err.read(&mut byte).unwrap(), 1, "{}", text(&said));
            said.push(byte[0]);
        }
        for frame in &frames[1..] {
            stdin.write_all(frame).unwrap();
        }
        let mut recorded = Vec::new();
        recorder
            .stdout
            .take()
            .unwrap()
            .read_to_end(&mut recorded)
            .unwrap();
        let status = wait_bounded(&mut recorder, TIMEOUT).expect("the recorder ends");
        let mut rest = String::new();
        recorder_err.read_to_string(&mut rest).unwrap();
        assert!(status.success(), "{rest}");
        assert!(rest.contains("recorded 6 frames"), "{rest}");
        let expected = frames.concat();
        if y4m {
            // ffmpeg reads the y4m back to the same NV12 bytes.
            assert!(recorded.starts_with(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg"));
            let back = ffmpeg(
                &[
                    "-f",
                    "yuv4mpegpipe",
                    "-i",
                    "-",
                    "-pix_fmt",
                    "nv12",
                    "-f",
                    "rawvideo",
                    "-",
                ],
                &recorded,
            );
            assert!(back == expected, "y4m does not read back to the frames");
        } else {
            assert!(recorded == expected, "raw output differs from the frames");
        }
        drop(stdin);
    }
}

#[test]
fn bad_video_input_gives_clear_errors_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let not_video = dir.path().join("notes.mp4");
    std::fs::write(&not_video, "these are notes, not a video\n".repeat(20)).unwrap();
    let name = unique_name("badvideo");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "publish", "--name", &name, "--raw", "64x48", "--format", "yuv444p",
            ],
            2,
            "unknown pixel format `yuv444p`; use one of ffmpeg's -pix_fmt names",
        ),
        (
            vec![
                "publish", "--name", &name, "--raw", "63x48", "--format", "yuyv422",
            ],
            1,
            "yuyv frames need an even width",
        ),
        (
            vec![
                "publish",
                "--name",
                &name,
                "--raw",
                "64x48",
                "--format",
                "rgb24",
                "--color-range",
                "full",
            ],
            1,
            "apply to YUV formats",
        ),
        (
            vec!["publish", "--name", &name, not_video.to_str().unwrap()],
            1,
            "not a video ffmpeg can read",
        ),
        (
            vec!["record", "--name", &name, "--y4m", "out.mp4"],
            1,
            "--y4m is for OUT `-`",
        ),
    ];
    let needs_ffmpeg = |args: &[&str]| args.iter().any(|a| a.ends_with(".mp4"));
    for (args, code, message) in cases {
        if needs_ffmpeg(&args) && !ffmpeg_or_skip("bad_video_input (non-video file)") {
            continue;
        }
        let output = run(&args, b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stream_exists(&name), "{args:?} left a stream");
    }
}

#[test]
fn a_missing_ffmpeg_is_named_with_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    // A video-like file (not an image) and a PATH without ffmpeg or ffprobe.
    let video = dir.path().join("clip.mkv");
    std::fs::write(&video, [0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]).unwrap();
    let name = unique_name("noffmpeg");
    let empty_path = dir.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    for args in [
        vec!["publish", "--name", name.as_str(), video.to_str().unwrap()],
        vec!["record", "--name", name.as_str(), "out.mp4"],
    ] {
        let mut command = shmframe();
        command.args(&args).env("PATH", &empty_path);
        let recording = args[0] == "record";
        // record needs a stream to get as far as starting ffmpeg.
        let _publisher = recording.then(|| {
            let mut p = Background::pattern(&name, "64x48", &["--quiet"]);
            p.reader();
            p
        });
        let output = run_command(&mut command, b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("is not installed"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("apt-get install ffmpeg"),
            "{args:?}: {stderr}"
        );
        if !recording {
            assert!(!stream_exists(&name));
        }
    }
    assert!(!dir.path().join("out.mp4").exists());
}

/// The pids of `pid`'s children.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether process `pid` has exited (gone, or a zombie nobody reaped yet).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// A publisher of a short looping video (made in the returned directory), and its ffmpeg's pid.
fn looping_video_publisher(tag: &str) -> (Background, u32, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("loop.mp4");
    make_video(&video, "64x48", 30, 30);
    let name = unique_name(tag);
    let mut publisher = publish_video(&name, &video, &["--loop"]);
    publisher.reader();
    let mut ffmpeg_pid = None;
    wait_until("the ffmpeg child", || {
        ffmpeg_pid = children(publisher.pid()).first().copied();
        ffmpeg_pid.is_some()
    });
    (publisher, ffmpeg_pid.unwrap(), dir)
}

fn sigkill(pid: u32) {
    let pid = Pid::from_raw(pid as i32).unwrap();
    kill_process(pid, Signal::KILL).unwrap();
}

#[test]
fn ffmpeg_dies_with_a_killed_video_publisher() {
    if !ffmpeg_or_skip("ffmpeg_dies_with_a_killed_video_publisher") {
        return;
    }
    let (mut publisher, ffmpeg_pid, _dir) = looping_video_publisher("orphan-ffmpeg");
    sigkill(publisher.pid());
    publisher.wait();
    wait_until("ffmpeg to exit after its parent was killed", || {
        exited(ffmpeg_pid)
    });
}

#[test]
fn the_demo_publisher_dies_with_a_killed_demo() {
    let name = unique_name("demo-kill");
    let mut demo = Background::start(
        &["demo", "--headless", "--seconds", "60", "--name", &name],
        &name,
    );
    let mut writer = 0;
    wait_until("the demo's publisher", || {
        writer = Reader::open(&name)
            .ok()
            .filter(Reader::writer_alive)
            .map_or(0, |r| r.status().writer_pid);
        writer != 0
    });
    assert_ne!(writer, demo.pid());
    sigkill(demo.pid());
    demo.wait();
    // SIGTERM from the kernel: the publisher exits cleanly and removes its stream.
    wait_until("the publisher to exit", || exited(writer));
    wait_until("the stream to be removed", || !stream_exists(&name));
}

#[test]
fn ctrl_c_stops_a_video_publisher_and_its_ffmpeg_cleanly() {
    if !ffmpeg_or_skip("ctrl_c_stops_a_video_publisher_and_its_ffmpeg_cleanly") {
        return;
    }
    let (mut publisher, ffmpeg_pid, _dir) = looping_video_publisher("ctrlc-video");
    let name = publisher.name.clone();
    publisher.signal(Signal::INT);
    let status = publisher.wait();
    assert!(status.success(), "{status}: {}", publisher.stderr());
    wait_until("ffmpeg to exit", || exited(ffmpeg_pid));
    assert!(!stream_exists(&name));
    // ffmpeg was stopped before its pipe closed: no broken-pipe complaints.
    assert!(
        !publisher.stderr().contains("Broken pipe"),
        "{}",
        publisher.stderr()
    );
}

#[test]
fn ctrl_c_ends_a_recording_with_a_finished_file() {
    if !ffmpeg_or_skip("ctrl_c_ends_a_recording_with_a_finished_file") {
        return;
    }
    let name = unique_name("ctrlc-record");
    let mut publisher = Background::pattern(&name, "64x48", &["--quiet", "--fps", "30"]);
    publisher.reader();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.mkv");
    let mut recorder =
        Background::start(&["record", "--name", &name, out.to_str().unwrap()], &name);
    wait_until("the recorder to start", || {
        recorder.stderr().contains("Ctrl-C")
    });
    let reader = Reader::open(&name).unwrap();
    let start = reader.status().frames_published;
    wait_until("a few more frames", || {
        reader.status().frames_published >= start + 10
    });
    recorder.signal(Signal::INT);
    let status = recorder.wait();
    let log = recorder.stderr();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("(stopped)"), "{log}");
    let counted = probe_frames(&out);
    let frames: u64 = counted
        .split(',')
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        frames >= 5,
        "a playable file with its frames: {counted}; {log}"
    );
    // The publisher is not the recorder's: it runs on.
    assert!(stream_exists(&name));
}
