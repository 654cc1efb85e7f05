//! Every pixel format end to end: ffmpeg's `testsrc2` frame in that format
//! goes through `publish --raw`; a Rust reader must get the same bytes, and
//! both the reader's RGB conversion and `snapshot`'s file must match ffmpeg's
//! own conversion of the same frame to rgb24: exactly for RGB, BGR and gray
//! formats, within 3 (of 255) per channel for YUV. Gray16 and GrayF32
//! snapshots must hold the exact values.
//!
//! The YUV tolerance: shmframe uses each chroma sample for the pixels it
//! covers (no interpolation), as ffmpeg's own yuv420p -> rgb24 path does; the
//! remaining difference is ffmpeg's table-based rounding (measured: at most 3,
//! mean 0.7 on this frame). ffmpeg's direct nv12 -> rgb24 path interpolates
//! chroma instead, so NV12's reference goes through yuv420p first (a lossless
//! reordering of the chroma bytes). ffmpeg converts odd-sized 4:2:0 frames
//! through its general scaler, which places chroma differently, so the YUV
//! colour comparisons use even sizes; odd sizes are checked for their layout
//! (the reader gets ffmpeg's exact bytes, with chroma rounded up).

mod cli_support;

use cli_support::{
    ffmpeg, ffmpeg_or_skip, latest_frame, run, snapshot_file, stream_exists, testsrc, unique_name,
    Background,
};
use shmframe::{ColorMatrix, ColorRange, FrameMeta, PixelFormat};
use shmframe_convert::FrameView;
use std::io::Write;

/// Largest difference per channel allowed between shmframe's and ffmpeg's YUV conversion.
const YUV_TOLERANCE: u8 = 3;

/// One case: a format, a size, and the colorimetry options for YUV.
struct Case<'a> {
    pix_fmt: &'a str,
    size: (u32, u32),
    /// (--color-matrix, --color-range) for YUV formats.
    color: Option<(&'a str, &'a str)>,
}

/// Publishes `raw` as one `case` frame and holds it; returns the publisher.
fn publish(case: &Case<'_>, name: &str, raw: &[u8]) -> Background {
    let size = format!("{}x{}", case.size.0, case.size.1);
    let mut args = vec![
        "publish",
        "--name",
        name,
        "--quiet",
        "--hold",
        "--raw",
        &size,
        "--format",
        case.pix_fmt,
    ];
    if let Some((matrix, range)) = case.color {
        args.extend(["--color-matrix", matrix, "--color-range", range]);
    }
    let mut publisher = Background::start_piped(&args, name);
    let mut stdin = publisher.stdin();
    stdin.write_all(raw).expect("write the frame");
    drop(stdin);
    publisher
}

/// ffmpeg's conversion of `raw` (a `case` frame) to packed rgb24.
fn ffmpeg_rgb24(case: &Case<'_>, raw: &[u8]) -> Vec<u8> {
    let size = format!("{}x{}", case.size.0, case.size.1);
    let filter = match case.color {
        None => "format=rgb24".to_string(),
        Some((matrix, range)) => {
            let chroma = if case.pix_fmt == "nv12" {
                "format=yuv420p,"
            } else {
                ""
            };
            format!("{chroma}scale=in_color_matrix={matrix}:in_range={range},format=rgb24")
        }
    };
    ffmpeg(
        &[
            "-f",
            "rawvideo",
            "-pix_fmt",
            case.pix_fmt,
            "-video_size",
            &size,
            "-i",
            "-",
            "-vf",
            &filter,
            "-f",
            "rawvideo",
            "-",
        ],
        raw,
    )
}

/// Whether `got` matches `expected` within `tolerance` per byte; else where it does not.
fn compare(got: &[u8], expected: &[u8], tolerance: u8) -> Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!("{} bytes, expected {}", got.len(), expected.len()));
    }
    let worst = got
        .iter()
        .zip(expected)
        .enumerate()
        .max_by_key(|(_, (g, e))| g.abs_diff(**e));
    match worst {
        Some((at, (g, e))) if g.abs_diff(*e) > tolerance => Err(format!(
            "byte {at} (pixel {}) is {g}, ffmpeg's is {e} (tolerance {tolerance})",
            at / 3
        )),
        _ => Ok(()),
    }
}

/// The whole check for one 8-bit or YUV case.
fn check_rgb_case(case: Case<'_>) {
    if !ffmpeg_or_skip(case.pix_fmt) {
        return;
    }
    let tag = format!("fmt-{}-{}", case.pix_fmt, case.color.map_or("", |(m, _)| m));
    let name = unique_name(&tag);
    let size = format!("{}x{}", case.size.0, case.size.1);
    let raw = testsrc(case.pix_fmt, &size);
    let expected = ffmpeg_rgb24(&case, &raw);
    let tolerance = if case.color.is_some() {
        YUV_TOLERANCE
    } else {
        0
    };
    let mut publisher = publish(&case, &name, &raw);
    let mut reader = publisher.reader();
    let (frame, pixels) = latest_frame(&mut reader);
    // The reader gets the bytes ffmpeg wrote, and metadata saying what they are.
    assert_eq!(pixels, raw, "{}: the frame's bytes", case.pix_fmt);
    let format = PixelFormat::from_name(case.pix_fmt).unwrap();
    assert_eq!(frame.meta, expected_meta(&case, format));
    let rgb = FrameView::new(&frame.meta, &pixels).unwrap().to_rgb8();
    compare(&rgb, &expected, tolerance)
        .unwrap_or_else(|e| panic!("{}: the reader's RGB: {e}", case.pix_fmt));

    // `info` names the format (and, for YUV, the colorimetry).
    let info = run(&["info", "--name", &name, "--json", "--sample", "0"], b"");
    let report: serde_json::Value = serde_json::from_slice(&info.stdout).expect("JSON");
    assert_eq!(report["latest"]["pix_fmt"], case.pix_fmt);
    assert_eq!(report["latest"]["format"], format.name());
    match case.color {
        Some((matrix, range)) => {
            assert_eq!(report["latest"]["color"]["matrix"], matrix);
            assert_eq!(report["latest"]["color"]["range"], range);
        }
        None => assert!(report["latest"]["color"].is_null()),
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.png");
    snapshot_file(&name, &out);
    let saved = image::open(&out).expect("a PNG").to_rgb8().into_raw();
    compare(&saved, &expected, tolerance)
        .unwrap_or_else(|e| panic!("{}: the snapshot: {e}", case.pix_fmt));
    drop(publisher);
    assert!(!stream_exists(&name));
}

/// The metadata a `case` frame must arrive with.
fn expected_meta(case: &Case<'_>, format: PixelFormat) -> FrameMeta {
    let meta = FrameMeta::packed(case.size.0, case.size.1, format);
    match case.color {
        Some((matrix, range)) => meta.with_color(shmframe::Colorimetry {
            matrix: if matrix == "bt709" {
                ColorMatrix::Bt709
            } else {
                ColorMatrix::Bt601
            },
            range: if range == "full" {
                ColorRange::Full
            } else {
                ColorRange::Limited
            },
        }),
        None => meta,
    }
}

// Odd sizes on purpose: rows without padding, chroma rounded up.

#[test]
fn rgb24_is_exact() {
    check_rgb_case(Case {
        pix_fmt: "rgb24",
        size: (97, 65),
        color: None,
    });
}

#[test]
fn bgr24_is_exact() {
    check_rgb_case(Case {
        pix_fmt: "bgr24",
        size: (97, 65),
        color: None,
    });
}

#[test]
fn rgba_is_exact() {
    check_rgb_case(Case {
        pix_fmt: "rgba",
        size: (97, 65),
        color: None,
    });
}

#[test]
fn bgra_is_exact() {
    check_rgb_case(Case {
        pix_fmt: "bgra",
        size: (97, 65),
        color: None,
    });
}

#[test]
fn gray_is_exact() {
    check_rgb_case(Case {
        pix_fmt: "gray",
        size: (97, 65),
        color: None,
    });
}

#[test]
fn nv12_matches_ffmpeg() {
    check_rgb_case(Case {
        pix_fmt: "nv12",
        size: (96, 64),
        color: Some(("bt601", "limited")),
    });
}

/// Odd-sized 4:2:0 frames arrive with ffmpeg's exact layout and can be saved.
#[test]
fn odd_sized_420_frames_keep_ffmpegs_layout() {
    if !ffmpeg_or_skip("odd_sized_420_frames_keep_ffmpegs_layout") {
        return;
    }
    for pix_fmt in ["nv12", "yuv420p"] {
        let case = Case {
            pix_fmt,
            size: (97, 65),
            color: Some(("bt601", "limited")),
        };
        let name = unique_name(&format!("odd-{pix_fmt}"));
        let raw = testsrc(pix_fmt, "97x65");
        // 97x65 luma, then 49x33 chroma samples (two bytes each).
        assert_eq!(raw.len(), 97 * 65 + 2 * 49 * 33, "{pix_fmt}");
        let mut publisher = publish(&case, &name, &raw);
        let (frame, pixels) = latest_frame(&mut publisher.reader());
        assert_eq!(pixels, raw, "{pix_fmt}");
        assert_eq!(frame.len, raw.len());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("odd.png");
        snapshot_file(&name, &out);
        let saved = image::open(&out).expect("a PNG").to_rgb8();
        assert_eq!(saved.dimensions(), (97, 65));
        let rgb = FrameView::new(&frame.meta, &pixels).unwrap().to_rgb8();
        assert_eq!(saved.into_raw(), rgb);
    }
}

#[test]
fn nv12_bt709_full_range_matches_ffmpeg() {
    check_rgb_case(Case {
        pix_fmt: "nv12",
        size: (96, 64),
        color: Some(("bt709", "full")),
    });
}

#[test]
fn yuv420p_matches_ffmpeg() {
    check_rgb_case(Case {
        pix_fmt: "yuv420p",
        size: (96, 64),
        color: Some(("bt601", "limited")),
    });
}

#[test]
fn yuv420p_bt709_matches_ffmpeg() {
    check_rgb_case(Case {
        pix_fmt: "yuv420p",
        size: (96, 64),
        color: Some(("bt709", "limited")),
    });
}

#[test]
fn yuyv422_matches_ffmpeg() {
    check_rgb_case(Case {
        pix_fmt: "yuyv422",
        size: (96, 65),
        color: Some(("bt601", "limited")),
    });
}

/// Publishes a wide-gray testsrc2 frame and returns (raw bytes, snapshot path, dir).
fn wide_gray(
    pix_fmt: &str,
    file: &str,
) -> Option<(Vec<u8>, Vec<u8>, tempfile::TempDir, std::path::PathBuf)> {
    if !ffmpeg_or_skip(pix_fmt) {
        return None;
    }
    let name = unique_name(&format!("fmt-{pix_fmt}"));
    let case = Case {
        pix_fmt,
        size: (97, 65),
        color: None,
    };
    let raw = testsrc(pix_fmt, "97x65");
    let mut publisher = publish(&case, &name, &raw);
    let (_, pixels) = latest_frame(&mut publisher.reader());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(file);
    snapshot_file(&name, &out);
    drop(publisher);
    assert!(!stream_exists(&name));
    Some((raw, pixels, dir, out))
}

#[test]
fn gray16le_snapshots_are_exact_16_bit_pngs() {
    let Some((raw, pixels, _dir, out)) = wide_gray("gray16le", "depth.png") else {
        return;
    };
    assert_eq!(pixels, raw);
    let values: Vec<u16> = raw
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    // testsrc2 in 16 bits uses more than 256 levels: the PNG keeps them all.
    let saved = image::open(&out).expect("a PNG").into_luma16().into_raw();
    assert_eq!(saved, values);
}

#[test]
fn grayf32le_snapshots_are_exact_float_tiffs() {
    let Some((raw, pixels, _dir, out)) = wide_gray("grayf32le", "depth.tiff") else {
        return;
    };
    assert_eq!(pixels, raw);
    let mut decoder = tiff::decoder::Decoder::new(std::fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(decoder.dimensions().unwrap(), (97, 65));
    let tiff::decoder::DecodingResult::F32(saved) = decoder.read_image().unwrap() else {
        panic!("the TIFF does not hold 32-bit floats");
    };
    let bits: Vec<u32> = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(saved.iter().map(|f| f.to_bits()).collect::<Vec<_>>(), bits);
}
