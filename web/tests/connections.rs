//! MJPEG for browsers, curl and ffmpeg; many idle connections, too many
//! connections, and a client that never reads, survived with bounded memory.

mod support;

use shmframe::PixelFormat;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

/// Reads one multipart part: its headers and its body.
fn read_part(reader: &mut impl BufRead) -> (String, Vec<u8>) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended");
        if line == "\r\n" && head.contains("Content-Length") {
            break;
        }
        if line != "\r\n" {
            head.push_str(&line);
        }
    }
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("a Content-Length")
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (head, body)
}

fn open_mjpeg(addr: std::net::SocketAddr, name: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(stream, "GET /mjpeg/{name} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    reader
}

#[test]
fn mjpeg_parts_are_the_latest_frames_as_jpeg() {
    let server = server(None);
    let (name, _publisher) =
        publish_four_colour("mjpeg", PixelFormat::Bgr8, Duration::from_millis(10));
    let mut reader = open_mjpeg(server.addr(), &name);
    let mut numbers = Vec::new();
    for _ in 0..5 {
        let (head, body) = read_part(&mut reader);
        assert!(head.contains("Content-Type: image/jpeg"), "{head}");
        let number: u64 = head
            .lines()
            .find_map(|l| l.strip_prefix("X-Frame-Number: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        numbers.push(number);
        let jpeg = image::load_from_memory_with_format(&body, image::ImageFormat::Jpeg)
            .unwrap()
            .into_rgb8();
        let got = jpeg.get_pixel(1, 1).0;
        assert!(
            got[0] > 200 && got[1] < 60 && got[2] < 60,
            "red quadrant: {got:?}"
        );
    }
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
}

#[test]
fn ffmpeg_reads_the_mjpeg_stream() {
    let server = server(None);
    let (name, _publisher) =
        publish_four_colour("ffmpeg", PixelFormat::Yuyv, Duration::from_millis(10));
    let ffmpeg = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-f", "mjpeg", "-i"])
        .arg(format!("http://{}/mjpeg/{name}", server.addr()))
        .args(["-frames:v", "3", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output();
    let output = match ffmpeg {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: ffmpeg is not installed (scripts/setup.sh installs it)");
            return;
        }
        result => result.expect("run ffmpeg"),
    };
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ffmpeg failed: {errors}");
    let frame = (3 * SIDE * SIDE) as usize;
    assert_eq!(output.stdout.len(), 3 * frame);
    // The bottom-right quadrant is white.
    let at = 3 * (6 * SIDE + 6) as usize;
    assert!(
        output.stdout[at..at + 3].iter().all(|&v| v > 220),
        "{:?}",
        &output.stdout[at..at + 3]
    );
}

/// This process's resident memory in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// Waits (bounded) until the server serves at most `count` connections.
fn wait_connections(server: &shmframe_web::Server, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.connections() > count {
        assert!(
            Instant::now() < deadline,
            "{} connections still open",
            server.connections()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn hundreds_of_idle_connections_and_a_client_that_never_reads_are_survived() {
    let server = server_with(shmframe_web::Config {
        max_connections: 600,
        ..test_config()
    });
    let addr = server.addr();
    let name = unique_name("never-reads");
    // 1280x720 RGBA: each JPEG part is large enough to fill socket buffers fast.
    let meta = shmframe::FrameMeta::packed(1280, 720, PixelFormat::Rgba8);
    let pixels: Vec<u8> = (0..meta.stride * meta.height)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let _publisher = Publisher::start(&name, meta, pixels, Duration::from_millis(20));
    let before = rss_kib();

    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let mut never_reads = TcpStream::connect(addr).unwrap();
    write!(
        never_reads,
        "GET /mjpeg/{name}?quality=100 HTTP/1.1\r\n\r\n"
    )
    .unwrap();

    // Meanwhile everyone else is served.
    let mut reader = open_mjpeg(addr, &name);
    for _ in 0..10 {
        read_part(&mut reader);
    }
    assert_eq!(get(addr, "/api/streams", &[]).status, 200);
    let during = rss_kib();
    eprintln!("resident memory: {before} KiB before, {during} KiB with 300 idle connections and a client that never reads");
    assert!(
        during < before + 128 * 1024,
        "resident memory grew from {before} KiB to {during} KiB with 300 idle connections"
    );
    drop(reader);
    // Idle connections time out on their request head, the client that never
    // reads on a write: only the server's own bookkeeping is left.
    wait_connections(&server, 0);
    drop(idle);
    drop(never_reads);
    assert_eq!(get(addr, "/api/streams", &[]).status, 200);
}

#[test]
fn connections_beyond_the_limit_are_told_to_come_back() {
    let server = server_with(shmframe_web::Config {
        max_connections: 4,
        ..test_config()
    });
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    // The accept thread counts a connection when it accepts it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.connections() < 4 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let reply = get(server.addr(), "/api/streams", &[]);
    assert_eq!(reply.status, 503);
    drop(idle);
    wait_connections(&server, 0);
    assert_eq!(get(server.addr(), "/api/streams", &[]).status, 200);
}
