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

/// Waits (bounded) until something accepts connections on `port`.
fn wait_listening(port: u16, web: &Background) {
    let deadline = Instant::now() + TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "shmframe web never listened: {}",
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
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let web = Background::start(&["web", "--listen", &listen], "");
    wait_listening(port, &web);
    let deadline = Instant::now() + TIMEOUT;
    while !web.stderr().contains("warning") {
        assert!(Instant::now() < deadline, "no warning: {}", web.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(web.stderr().contains("without a token"), "{}", web.stderr());
    drop(web);

    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let web = Background::start(&["web", "--listen", &listen, "--token", "t0k"], "");
    wait_listening(port, &web);
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
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let web = Background::start(&["web", "--listen", &listen], "");
    wait_listening(port, &web);
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
