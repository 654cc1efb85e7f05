//! `shmframe demo` without a display: measures, saves a snapshot, cleans up.

mod cli_support;

use cli_support::{run_command, shmframe, stream_exists, text, unique_name, Background};
use rustix::process::Signal;
use shmframe::Reader;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn headless_demo_reports_rate_latency_and_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.png");
    let name = unique_name("demo");
    let mut command = shmframe();
    command
        .args([
            "demo",
            "--seconds",
            "2",
            "--name",
            &name,
            "--size",
            "160x90",
            "--out",
            out.to_str().unwrap(),
        ])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let output = run_command(&mut command, b"");
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("no display"), "{stdout}");
    assert!(stdout.contains(" fps"), "{stdout}");
    for percentile in ["p50", "p90", "p99"] {
        assert!(
            stdout.contains(percentile),
            "{percentile} missing: {stdout}"
        );
    }
    assert!(
        stdout.contains(out.to_str().unwrap()),
        "snapshot path not printed: {stdout}"
    );
    let snapshot = image::open(&out).expect("the snapshot is a PNG");
    assert_eq!((snapshot.width(), snapshot.height()), (160, 90));
    assert!(
        !stream_exists(&name),
        "the demo's publisher removed its stream"
    );
}

#[test]
fn interrupted_demo_stops_its_publisher_and_leaves_no_stream() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("demo-int");
    let out = dir.path().join("demo.png");
    let mut command = shmframe();
    command
        .args([
            "demo",
            "--seconds",
            "60",
            "--name",
            &name,
            "--size",
            "64x36",
            "--out",
            out.to_str().unwrap(),
        ])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null());
    let mut demo = Background::start_command(&mut command, &name);
    // Wait for the publisher child's stream (its writer is the demo's child, not the demo).
    let deadline = Instant::now() + cli_support::TIMEOUT;
    let publisher_pid = loop {
        if let Ok(reader) = Reader::open(&name) {
            break reader.status().writer_pid;
        }
        assert!(
            demo.child.try_wait().unwrap().is_none(),
            "demo exited early: {}",
            demo.stderr()
        );
        assert!(
            Instant::now() < deadline,
            "the demo's stream never appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_ne!(
        publisher_pid,
        demo.pid(),
        "the publisher is a separate process"
    );
    demo.signal(Signal::INT);
    let status = demo.wait();
    assert!(status.success(), "{status}: {}", demo.stderr());
    assert!(!stream_exists(&name), "no segment is left behind");
    let publisher_gone = !std::path::Path::new(&format!("/proc/{publisher_pid}")).exists()
        || std::fs::read_to_string(format!("/proc/{publisher_pid}/stat"))
            .is_ok_and(|s| s.contains(") Z "));
    assert!(publisher_gone, "publisher {publisher_pid} still running");
}

#[test]
fn demo_falls_back_to_headless_when_the_viewer_cannot_open_a_window() {
    // An unreachable display: the viewer (if built next to shmframe) exits
    // with its no-display code; without the viewer the demo says so. Either
    // way the demo measures headless and succeeds.
    let name = unique_name("demo-fallback");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fallback.png");
    let mut command = shmframe();
    command
        .args([
            "demo",
            "--seconds",
            "1",
            "--name",
            &name,
            "--size",
            "32x18",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("DISPLAY", ":shmframe-test-no-such-display")
        .env_remove("WAYLAND_DISPLAY");
    let output = run_command(&mut command, b"");
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains("running headless") && stdout.contains("p99"),
        "{stdout}"
    );
    assert!(out.exists());
    assert!(!stream_exists(&name));
}
