//! The stream page's WebSocket: exact RGBA in raw mode, one frame in flight,
//! the latest frame after each acknowledgement.

mod support;

use shmframe::PixelFormat;
use std::net::TcpStream;
use std::time::Duration;
use support::*;
use tungstenite::{Message, WebSocket};

fn connect(addr: std::net::SocketAddr, target: &str) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (socket, _) =
        tungstenite::client(format!("ws://{addr}{target}"), stream).expect("handshake");
    socket
}

/// The next frame message: its JSON header and payload.
fn receive(socket: &mut WebSocket<TcpStream>) -> (serde_json::Value, Vec<u8>) {
    loop {
        if let Message::Binary(data) = socket.read().expect("a frame") {
            let length = u32::from_le_bytes(data[..4].try_into().unwrap()) as usize;
            let header = serde_json::from_slice(&data[4..4 + length]).unwrap();
            return (header, data[4 + length..].to_vec());
        }
    }
}

fn ack(socket: &mut WebSocket<TcpStream>, header: &serde_json::Value) {
    let text = serde_json::json!({ "ack": header["serial"] }).to_string();
    socket.send(Message::Text(text.into())).unwrap();
}

#[test]
fn raw_frames_are_exact_rgba_with_their_description() {
    let server = server(None);
    for format in FORMATS {
        let (name, _publisher) = publish_four_colour(
            &format!("ws-{}", format.name()),
            format,
            Duration::from_secs(3600),
        );
        let mut socket = connect(server.addr(), &format!("/ws/{name}?codec=raw"));
        let (header, payload) = receive(&mut socket);
        assert_eq!(header["stream"], name.as_str());
        assert_eq!(header["format"], format.name());
        assert_eq!(
            (header["width"].as_u64(), header["height"].as_u64()),
            (Some(8), Some(8))
        );
        assert_eq!(header["number"], 1);
        assert_eq!(header["index"], 1);
        assert!(header["timestamp_ns"].as_u64().unwrap() > 0);
        assert!(header["published_unix_ms"].as_f64().unwrap() > 1.0e12);
        // Exactly what the converter makes of the frame, with opaque alpha.
        let (meta, pixels) = four_colour(format);
        let rgb = shmframe_convert::FrameView::new(&meta, &pixels)
            .unwrap()
            .to_rgb8();
        let want: Vec<u8> = rgb
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        assert_eq!(payload, want, "{format}");
        if !matches!(
            format,
            PixelFormat::Nv12 | PixelFormat::I420 | PixelFormat::Yuyv
        ) {
            for (i, px) in payload.chunks(4).enumerate() {
                let q = quadrant(i as u32 % SIDE, i as u32 / SIDE);
                assert_eq!(px[..3], shown(format, q), "{format} pixel {i}");
            }
        }
    }
}

#[test]
fn one_frame_is_in_flight_and_the_next_is_the_latest() {
    let server = server(None);
    let (name, _publisher) =
        publish_four_colour("ws-ack", PixelFormat::Rgb8, Duration::from_millis(5));
    let mut socket = connect(server.addr(), &format!("/ws/{name}"));
    let (first, _) = receive(&mut socket);
    assert_eq!(first["codec"], "jpeg");
    // Without an acknowledgement nothing more comes, however many frames are published.
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    match socket.read() {
        Err(tungstenite::Error::Io(e)) => assert!(matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        other => panic!("a second frame came before the first was acknowledged: {other:?}"),
    }
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    ack(&mut socket, &first);
    let (second, _) = receive(&mut socket);
    let skipped = second["index"].as_u64().unwrap() - first["index"].as_u64().unwrap() - 1;
    // The writer published about 60 frames meanwhile: the page gets the latest, told how many it missed.
    assert!(skipped > 5, "{first} then {second}");
    assert_eq!(second["missed"].as_u64(), Some(skipped));
}

#[test]
fn a_page_chooses_its_gray_window() {
    let server = server(None);
    let (name, _publisher) =
        publish_four_colour("ws-gray", PixelFormat::Gray16, Duration::from_millis(10));
    let mut socket = connect(
        server.addr(),
        &format!("/ws/{name}?codec=raw&gray_min=2000&gray_max=3000"),
    );
    let (header, payload) = receive(&mut socket);
    assert_eq!(
        (header["gray_min"].as_f64(), header["gray_max"].as_f64()),
        (Some(2000.0), Some(3000.0))
    );
    // Quadrants 1000, 2000, 3000, 4000 over 2000..3000: black, black, white, white.
    let at = |x: u32, y: u32| payload[(4 * (y * SIDE + x)) as usize];
    assert_eq!([at(1, 1), at(6, 1), at(1, 6), at(6, 6)], [0, 0, 255, 255]);
    let text = serde_json::json!({ "gray": null, "ack": header["serial"] }).to_string();
    socket.send(Message::Text(text.into())).unwrap();
    let (header, _) = receive(&mut socket);
    assert_eq!(
        (header["gray_min"].as_f64(), header["gray_max"].as_f64()),
        (Some(1000.0), Some(4000.0))
    );
}
