//! `shmframe web` from the command line: its warning beyond loopback, its
//! argument errors, and a snapshot through it identical to `shmframe snapshot`.

mod cli_support;

use cli_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `shmframe web --listen HOST:PORT EXTRA...` on a free port and
/// waits (bounded) until it listens: the server and its port.
fn start_web(host: &str, extra: &[&str]) -> (Background, u16) {
    let port = free_port();
    let listen = format!("{host}:{port}");
    let mut args = vec!["web", "--listen", &listen];
    args.extend_from_slice(extra);
    let web = Background::start(&args, "");
    wait_for(&web, "it to listen", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (web, port)
}

/// Waits (bounded) until `check` holds; on time-out, says what `web` wrote.
fn wait_for(web: &Background, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; shmframe web wrote: {}",
            web.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// GET `target`: the status and body.
fn get(port: u16, target: &str) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(stream, "GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let status = text(&raw[9..12]).parse().unwrap();
    (status, raw[end + 4..].to_vec())
}

#[test]
fn listening_beyond_loopback_warns_and_a_token_quiets_the_worst() {
    let (web, _) = start_web("0.0.0.0", &[]);
    wait_for(&web, "a warning", || web.stderr().contains("warning"));
    assert!(web.stderr().contains("without a token"), "{}", web.stderr());
    drop(web);

    let (web, port) = start_web("0.0.0.0", &["--token", "t0k"]);
    assert_eq!(get(port, "/api/streams").0, 401);
    assert_eq!(get(port, "/api/streams?token=t0k").0, 200);
    assert!(web.stderr().contains("needs the token"), "{}", web.stderr());
    assert!(
        !web.stderr().contains("without a token"),
        "{}",
        web.stderr()
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["web", "--quality", "0"][..],
        &["web", "--listen", "localhost"],
        &["web", "--max-connections", "0"],
    ] {
        let output = run(args, b"");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    // A port in use is a runtime error with a message.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let output = run(&["web", "--listen", &listen], b"");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("cannot listen on"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_snapshot_through_the_server_is_the_file_shmframe_snapshot_writes() {
    let name = unique_name("web-snapshot");
    let mut publisher = Background::pattern(&name, "64x48", &["--fps", "1"]);
    publisher.reader();
    let (_web, port) = start_web("127.0.0.1", &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.png");
    // At 1 fps, both read the same frame unless a publish falls between them: then try again.
    for _ in 0..5 {
        snapshot_file(&name, &file);
        let (status, served) = get(port, &format!("/snapshot/{name}.png"));
        assert_eq!(status, 200);
        if served == std::fs::read(&file).unwrap() {
            return;
        }
    }
    panic!("the served PNG never matched `shmframe snapshot`'s file");
}
