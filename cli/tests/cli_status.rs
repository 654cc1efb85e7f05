//! `shmframe publish` shows a one-line live status on a terminal, and none
//! when its stderr is not one. The terminal is a pty made by util-linux `script`.

mod cli_support;

use cli_support::{stream_exists, unique_name, wait_bounded, Background};
use rustix::process::Signal;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

#[test]
fn publish_shows_a_live_status_line_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: util-linux `script` is not installed");
        return;
    }
    let name = unique_name("status");
    let command = format!(
        "{} publish --name {name} --pattern 64x48",
        env!("CARGO_BIN_EXE_shmframe")
    );
    let mut script = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start script");
    let mut stdout = script.stdout.take().unwrap();
    let (send, lines) = channel();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut chunk) {
            if send.send(chunk[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Two status updates, the second counting more frames than the first.
    let status = |bytes: &[u8]| -> Vec<u64> {
        String::from_utf8_lossy(bytes)
            .split('\r')
            .filter_map(|line| {
                line.split(" frames,")
                    .next()?
                    .rsplit(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    };
    while status(&seen).windows(2).all(|w| w[0] >= w[1]) || status(&seen).len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => {
                let _ = script.kill();
                panic!("no live status line: {}", String::from_utf8_lossy(&seen));
            }
        }
    }
    let text = String::from_utf8_lossy(&seen).to_string();
    assert!(
        text.contains(&format!("{name}: ")) && text.contains("fps"),
        "{text}"
    );
    // Stop the publisher as Ctrl-C would; it removes its stream.
    let writer = shmframe::Reader::open(&name).unwrap().status().writer_pid;
    let writer = rustix::process::Pid::from_raw(writer as i32).expect("writer pid");
    rustix::process::kill_process(writer, Signal::INT).unwrap();
    assert!(
        wait_bounded(&mut script, Duration::from_secs(30)).is_some(),
        "script did not end"
    );
    assert!(!stream_exists(&name));

    // Without a terminal: no status line on stderr.
    let name = unique_name("status-piped");
    let mut publisher = Background::pattern(&name, "64x48", &[]);
    let mut reader = publisher.reader();
    let mut buf = Vec::new();
    // Long enough for several status updates, had there been a terminal.
    while reader
        .wait_latest(&mut buf, Duration::from_secs(30))
        .unwrap()
        .expect("frames")
        .number
        < 40
    {}
    publisher.signal(Signal::INT);
    assert!(publisher.wait().success());
    assert!(
        // The banner says "fps" either way; only the status line counts frames.
        !publisher.stderr().contains(" frames, "),
        "{}",
        publisher.stderr()
    );
}
