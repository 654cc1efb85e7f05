//! The HTTP side of `shmframe web`: snapshots with exact pixels in every
//! format, the streams API, MJPEG, and clear errors for bad requests.

mod support;

use shmframe::PixelFormat;
use std::time::Duration;
use support::*;

const SLOW: Duration = Duration::from_secs(3600);

/// A PNG's pixels as RGB(A)/gray samples with its colour type.
fn decode_png(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Png).expect("a PNG")
}

#[test]
fn png_snapshots_hold_the_exact_pixels_of_every_format() {
    let server = server(None);
    for format in FORMATS {
        let (name, _publisher) =
            publish_four_colour(&format!("png-{}", format.name()), format, SLOW);
        let extension = if format == PixelFormat::GrayF32 {
            "tiff"
        } else {
            "png"
        };
        let reply = get(server.addr(), &format!("/snapshot/{name}.{extension}"), &[]);
        assert_eq!(
            reply.status,
            200,
            "{format}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        for y in 0..SIDE {
            for x in 0..SIDE {
                let q = quadrant(x, y);
                match format {
                    PixelFormat::Gray16 => {
                        let png = decode_png(&reply.body).into_luma16();
                        assert_eq!(png.get_pixel(x, y).0[0], GRAY16[q], "{format} at {x},{y}");
                    }
                    PixelFormat::GrayF32 => {
                        let mut decoder =
                            tiff::decoder::Decoder::new(std::io::Cursor::new(&reply.body)).unwrap();
                        let tiff::decoder::DecodingResult::F32(samples) =
                            decoder.read_image().unwrap()
                        else {
                            panic!("a float TIFF");
                        };
                        assert_eq!(
                            samples[(y * SIDE + x) as usize],
                            GRAYF32[q],
                            "{format} at {x},{y}"
                        );
                    }
                    PixelFormat::Gray8 => {
                        let png = decode_png(&reply.body).into_luma8();
                        assert_eq!(
                            png.get_pixel(x, y).0[0],
                            shown(format, q)[0],
                            "{format} at {x},{y}"
                        );
                    }
                    PixelFormat::Nv12 | PixelFormat::I420 | PixelFormat::Yuyv => {
                        let png = decode_png(&reply.body).into_rgb8();
                        let got = png.get_pixel(x, y).0;
                        let want = shown(format, q);
                        for c in 0..3 {
                            assert!(
                                got[c].abs_diff(want[c]) <= TOLERANCE_YUV,
                                "{format} at {x},{y}: {got:?} vs {want:?}"
                            );
                        }
                        // And exactly what the converter the CLI uses makes of it.
                        let (meta, pixels) = four_colour(format);
                        let rgb = shmframe_convert::FrameView::new(&meta, &pixels)
                            .unwrap()
                            .to_rgb8();
                        let at = 3 * (y * SIDE + x) as usize;
                        assert_eq!(
                            got,
                            [rgb[at], rgb[at + 1], rgb[at + 2]],
                            "{format} at {x},{y}"
                        );
                    }
                    _ => {
                        let png = decode_png(&reply.body).into_rgba8();
                        let [r, g, b] = shown(format, q);
                        assert_eq!(png.get_pixel(x, y).0, [r, g, b, 255], "{format} at {x},{y}");
                    }
                }
            }
        }
    }
}

#[test]
fn jpeg_snapshots_are_close_for_every_format_and_scale_down() {
    let server = server(None);
    for format in FORMATS {
        let (name, _publisher) =
            publish_four_colour(&format!("jpg-{}", format.name()), format, SLOW);
        let reply = get(
            server.addr(),
            &format!("/snapshot/{name}.jpg?quality=95"),
            &[],
        );
        assert_eq!(reply.status, 200, "{format}");
        assert_eq!(reply.header("content-type"), Some("image/jpeg"));
        let jpeg = image::load_from_memory_with_format(&reply.body, image::ImageFormat::Jpeg)
            .unwrap()
            .into_rgb8();
        assert_eq!(jpeg.dimensions(), (SIDE, SIDE));
        // Quadrant centres, away from the edges JPEG smears.
        for (q, (x, y)) in [(0, (1, 1)), (1, (6, 1)), (2, (1, 6)), (3, (6, 6))] {
            let got = jpeg.get_pixel(x, y).0;
            let want = shown(format, q);
            for c in 0..3 {
                assert!(
                    got[c].abs_diff(want[c]) <= 40,
                    "{format} quadrant {q}: {got:?} vs {want:?}"
                );
            }
        }
        let small = get(
            server.addr(),
            &format!("/snapshot/{name}.jpg?max_width=4"),
            &[],
        );
        let small = image::load_from_memory(&small.body).unwrap();
        assert_eq!((small.width(), small.height()), (4, 4), "{format}");
    }
}

#[test]
fn the_streams_api_lists_a_stream_with_its_frame() {
    let server = server(None);
    let (name, publisher) = publish_four_colour("api", PixelFormat::Nv12, SLOW);
    let reply = get(server.addr(), "/api/streams", &[]);
    assert_eq!(reply.status, 200);
    let list: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name.as_str())
        .expect("the stream is listed");
    assert_eq!(entry["width"], SIDE);
    assert_eq!(entry["height"], SIDE);
    assert_eq!(entry["format"], "nv12");
    assert_eq!(entry["alive"], true);
    assert_eq!(entry["writer_pid"], std::process::id());
    drop(publisher);
    let list: serde_json::Value =
        serde_json::from_slice(&get(server.addr(), "/api/streams", &[]).body).unwrap();
    assert!(!list
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == name.as_str()));
}

#[test]
fn the_pixel_probe_reads_stored_values() {
    let server = server(None);
    let (name, _publisher) = publish_four_colour("probe", PixelFormat::Gray16, SLOW);
    let reply = get(server.addr(), &format!("/api/pixel/{name}?x=6&y=1"), &[]);
    let pixel: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(pixel["value"], serde_json::json!([2000]));
    assert_eq!(pixel["rgb"], serde_json::json!([85, 85, 85]));
    let outside = get(server.addr(), &format!("/api/pixel/{name}?x=8&y=0"), &[]);
    assert_eq!(outside.status, 400);
}

#[test]
fn bad_requests_get_clear_errors() {
    let server = server(None);
    let addr = server.addr();
    let (name, _publisher) = publish_four_colour("errors", PixelFormat::GrayF32, SLOW);
    let long = "a".repeat(shmframe::MAX_NAME_LEN + 1);
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("/snapshot/{}.png", unique_name("absent")),
            404,
            "no stream named",
        ),
        ("/snapshot/...png".into(), 400, "not names"),
        ("/snapshot/a/b.png".into(), 400, "invalid stream name"),
        (format!("/snapshot/{long}.png"), 400, "invalid stream name"),
        ("/stream/..".into(), 400, "not names"),
        ("/mjpeg/a%2Fb".into(), 400, "invalid stream name"),
        (
            format!("/stream/{}", unique_name("absent")),
            404,
            "no stream named",
        ),
        (format!("/snapshot/{name}.png"), 409, "float TIFF"),
        (format!("/snapshot/{name}.gif"), 404, ".png, .jpg or .tiff"),
        (format!("/snapshot/{name}.jpg?quality=0"), 400, "quality"),
        (
            format!("/snapshot/{name}.jpg?max_width=x"),
            400,
            "not a number",
        ),
        (format!("/mjpeg/{name}?max_fps=-1"), 400, "max_fps"),
        (format!("/api/pixel/{name}"), 400, "?x=X&y=Y"),
        ("/nothing".into(), 404, "nothing at"),
    ];
    for (target, status, says) in cases {
        let reply = get(addr, &target, &[]);
        let body = String::from_utf8_lossy(&reply.body);
        assert_eq!(reply.status, status, "{target}: {body}");
        assert!(body.contains(says), "{target}: {body}");
    }
    assert_eq!(request(addr, "POST", "/api/streams", &[]).status, 405);
    // Not HTTP at all.
    let mut raw = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    raw.write_all(b"\x16\x03\x01 hello\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    raw.read_to_end(&mut reply).unwrap();
    assert_eq!(split_response(&reply).status, 400);
}

#[test]
fn a_token_is_required_when_set() {
    let server = server(Some("s3cret"));
    let addr = server.addr();
    let missing = get(addr, "/api/streams", &[]);
    assert_eq!(missing.status, 401);
    assert!(String::from_utf8_lossy(&missing.body).contains("?token="));
    assert_eq!(get(addr, "/api/streams?token=wrong", &[]).status, 401);
    assert_eq!(get(addr, "/", &["Authorization: Bearer nope"]).status, 401);
    assert_eq!(get(addr, "/api/streams?token=s3cret", &[]).status, 200);
    assert_eq!(
        get(addr, "/", &["Authorization: Bearer s3cret"]).status,
        200
    );
    // Even a bad name is refused before anything is looked up.
    assert_eq!(get(addr, "/snapshot/...png", &[]).status, 401);
}

#[test]
fn a_request_head_that_trickles_in_is_cut_off() {
    use std::io::{Read, Write};
    let server = server(None); // I/O timeout 2 s
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    // A byte every 200 ms: each read is quick, the whole head never comes.
    let trickle = std::thread::spawn(move || {
        for byte in b"GET / HTTP/1.1\r\nX-Slow: "
            .iter()
            .chain([b'a'; 200].iter())
        {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    assert_eq!(split_response(&reply).status, 408);
    trickle.join().unwrap();
}
