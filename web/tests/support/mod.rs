//! Helpers for the server's tests: a server on a free port, streams of a
//! four-colour test image in every format, and a plain HTTP client.

#![allow(dead_code)]

use shmframe::{FrameMeta, PixelFormat, Writer, WriterOptions};
use shmframe_web::{Config, Server};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Every format the engine has.
pub const FORMATS: [PixelFormat; 10] = [
    PixelFormat::Rgba8,
    PixelFormat::Bgra8,
    PixelFormat::Rgb8,
    PixelFormat::Bgr8,
    PixelFormat::Gray8,
    PixelFormat::Gray16,
    PixelFormat::GrayF32,
    PixelFormat::Nv12,
    PixelFormat::I420,
    PixelFormat::Yuyv,
];

/// Side of the test image; each quadrant is a quarter of it.
pub const SIDE: u32 = 8;
/// The quadrants' colours: top left, top right, bottom left, bottom right.
pub const COLOURS: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
/// Gray16 samples of the quadrants.
pub const GRAY16: [u16; 4] = [1000, 2000, 3000, 4000];
/// GrayF32 samples of the quadrants.
pub const GRAYF32: [f32; 4] = [-1.0, 0.0, 0.5, 2.0];
/// BT.601 limited-range Y, U, V of red, green, blue and white.
pub const YUV: [[u8; 3]; 4] = [
    [81, 90, 240],
    [145, 54, 34],
    [41, 240, 110],
    [235, 128, 128],
];

/// A stream name unique to this process and `tag`.
pub fn unique_name(tag: &str) -> String {
    format!("web-test-{}-{tag}", std::process::id())
}

/// The quadrant of pixel (x, y).
pub fn quadrant(x: u32, y: u32) -> usize {
    (usize::from(y >= SIDE / 2) << 1) | usize::from(x >= SIDE / 2)
}

/// The four-colour image in `format`, packed.
pub fn four_colour(format: PixelFormat) -> (FrameMeta, Vec<u8>) {
    let meta = FrameMeta::packed(SIDE, SIDE, format);
    let mut out = Vec::new();
    let pixel = |x, y| quadrant(x, y);
    match format {
        PixelFormat::Nv12 | PixelFormat::I420 => {
            for y in 0..SIDE {
                for x in 0..SIDE {
                    out.push(YUV[pixel(x, y)][0]);
                }
            }
            let chroma = |c: usize| -> Vec<u8> {
                (0..SIDE / 2)
                    .flat_map(|y| (0..SIDE / 2).map(move |x| YUV[pixel(2 * x, 2 * y)][c]))
                    .collect()
            };
            if format == PixelFormat::Nv12 {
                for (u, v) in chroma(1).into_iter().zip(chroma(2)) {
                    out.extend_from_slice(&[u, v]);
                }
            } else {
                out.extend(chroma(1));
                out.extend(chroma(2));
            }
        }
        _ => {
            for y in 0..SIDE {
                for x in 0..SIDE {
                    let q = pixel(x, y);
                    let [r, g, b] = COLOURS[q];
                    match format {
                        PixelFormat::Rgb8 => out.extend_from_slice(&[r, g, b]),
                        PixelFormat::Bgr8 => out.extend_from_slice(&[b, g, r]),
                        PixelFormat::Rgba8 => out.extend_from_slice(&[r, g, b, 255]),
                        PixelFormat::Bgra8 => out.extend_from_slice(&[b, g, r, 255]),
                        PixelFormat::Gray8 => out.push([0, 85, 170, 255][q]),
                        PixelFormat::Gray16 => out.extend_from_slice(&GRAY16[q].to_le_bytes()),
                        PixelFormat::GrayF32 => out.extend_from_slice(&GRAYF32[q].to_le_bytes()),
                        // Y0 U Y1 V: each pair lies in one quadrant.
                        PixelFormat::Yuyv if x % 2 == 0 => {
                            let [y0, u, v] = YUV[q];
                            out.extend_from_slice(&[y0, u, y0, v]);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    (meta, out)
}

/// The RGB a person should see at each quadrant of the test image in `format`
/// (gray formats over their range; YUV approximately: see `TOLERANCE_YUV`).
pub fn shown(format: PixelFormat, q: usize) -> [u8; 3] {
    match format {
        PixelFormat::Gray8 | PixelFormat::Gray16 | PixelFormat::GrayF32 => {
            let g = match format {
                PixelFormat::Gray8 => [0, 85, 170, 255][q],
                PixelFormat::Gray16 => [0, 85, 170, 255][q],
                // -1, 0, 0.5, 2 over -1..2.
                _ => [0, 85, 128, 255][q],
            };
            [g, g, g]
        }
        _ => COLOURS[q],
    }
}

/// How far YUV's 8-bit round trip may move a primary colour.
pub const TOLERANCE_YUV: u8 = 3;

/// A server on a free loopback port.
pub fn server(token: Option<&str>) -> Server {
    server_with(Config {
        token: token.map(str::to_string),
        ..test_config()
    })
}

/// The test configuration: a free port, short timeouts.
pub fn test_config() -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        io_timeout: Duration::from_secs(2),
        ..Config::default()
    }
}

/// A server with `config`.
pub fn server_with(config: Config) -> Server {
    Server::start(config).expect("start the server")
}

/// Publishes the four-colour image in `format` every `period` as a stream
/// named for `tag`: the stream's name and its publisher.
pub fn publish_four_colour(
    tag: &str,
    format: PixelFormat,
    period: Duration,
) -> (String, Publisher) {
    let name = unique_name(tag);
    let (meta, pixels) = four_colour(format);
    let publisher = Publisher::start(&name, meta, pixels, period);
    (name, publisher)
}

/// A writer that publishes one frame again and again until dropped.
pub struct Publisher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Publisher {
    /// Publishes `pixels` as stream `name` every `period` (the first at once).
    pub fn start(name: &str, meta: FrameMeta, pixels: Vec<u8>, period: Duration) -> Publisher {
        let mut writer = Writer::create(
            name,
            &WriterOptions {
                slot_capacity: pixels.len().max(64),
                ..WriterOptions::default()
            },
        )
        .expect("create the writer");
        writer.publish(&meta, &pixels).expect("publish");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut next = std::time::Instant::now() + period;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(2).min(period));
                if std::time::Instant::now() >= next {
                    next += period;
                    writer.publish(&meta, &pixels).expect("publish");
                }
            }
        });
        Publisher {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response read whole.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// GET `target` with extra header lines; the whole response.
pub fn get(addr: SocketAddr, target: &str, headers: &[&str]) -> Reply {
    request(addr, "GET", target, headers)
}

/// `method` `target`; the whole response.
pub fn request(addr: SocketAddr, method: &str, target: &str, headers: &[&str]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut text = format!("{method} {target} HTTP/1.1\r\nHost: test\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    split_response(&raw)
}

/// A response's status, head and body.
pub fn split_response(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    Reply {
        status,
        head,
        body: raw[end + 4..].to_vec(),
    }
}
