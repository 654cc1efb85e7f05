//! The bridge shows a live status line (frames, fps, bytes, drops, refused
//! messages, latency) on a terminal, and none when stderr is not one. The
//! terminal is a pty made by util-linux `script`.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use support::*;

#[test]
fn import_shows_a_live_status_line_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: util-linux `script` is not installed");
        return;
    }
    let (a, b) = (Side::loopback(), Side::loopback());
    let port = free_port();
    let _source = source(&a, "status", &[]);
    // Not a terminal (stderr piped), and no --quiet: no status line.
    let listen = format!("tcp/127.0.0.1:{port}");
    let exporter = a
        .command(
            bridge(),
            &[
                "export",
                "--name",
                "status",
                "--key",
                &key("status"),
                "--listen",
                &listen,
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the exporter");
    let mut exporter = Proc::from(exporter);

    // The importer on a pty; `timeout` ends it (SIGINT, a clean exit) after 10 s.
    let command = format!(
        "exec timeout -s INT 10 {} import --name status --key {} --connect {listen}",
        bridge(),
        key("status")
    );
    let mut script = b
        .command("script", &["-qfec", &command, "/dev/null"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start script");
    let mut stdout = script.stdout.take().expect("script's output");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = stdout.read(&mut chunk) {
        seen.extend_from_slice(&chunk[..n]);
    }
    let _ = script.wait();
    let text = String::from_utf8_lossy(&seen);
    let line = text
        .split('\r')
        .rfind(|l| l.contains(" frames,"))
        .unwrap_or_else(|| panic!("no status line: {text}"));
    for part in [
        "import ",
        " fps",
        " MB/s",
        " skipped",
        " lost",
        " 0 refused",
        "latency p50",
    ] {
        assert!(line.contains(part), "`{part}` missing from: {line}");
    }
    let frames: u64 = line
        .split(" frames,")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame count in: {line}"));
    assert!(frames > 0, "{line}");

    assert!(exporter.alive(), "the exporter runs");
    let err = exporter.stop_and_stderr();
    assert!(!err.contains(" frames,"), "a status line on a pipe: {err}");
}
