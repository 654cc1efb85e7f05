//! Every format read as RGB, and saved, with exact or reference values.

use shmframe::{ColorMatrix, ColorRange, Colorimetry, FrameMeta, PixelFormat};
use shmframe_convert::{file_kind, save, FileKind, FrameView};

const RED_601_LIMITED: [u8; 3] = [81, 90, 240];
const BT709_FULL: Colorimetry = Colorimetry {
    matrix: ColorMatrix::Bt709,
    range: ColorRange::Full,
};

fn rgb(meta: &FrameMeta, pixels: &[u8]) -> Vec<u8> {
    FrameView::new(meta, pixels).expect("valid frame").to_rgb8()
}

fn close(got: &[u8], expected: &[u8], tolerance: u8) -> bool {
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, e)| g.abs_diff(*e) <= tolerance)
}

#[test]
fn rgb_bgr_and_gray_formats_are_exact_and_drop_padding_and_alpha() {
    // 2x2 frames, 3 padding bytes (0xEE) per row.
    let expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    let pad = [0xEE; 3];
    let cases: [(PixelFormat, Vec<u8>); 4] = [
        (
            PixelFormat::Rgb8,
            [&[1, 2, 3, 4, 5, 6][..], &pad, &[7, 8, 9, 10, 11, 12], &pad].concat(),
        ),
        (
            PixelFormat::Bgr8,
            [&[3, 2, 1, 6, 5, 4][..], &pad, &[9, 8, 7, 12, 11, 10], &pad].concat(),
        ),
        (
            PixelFormat::Rgba8,
            [
                &[1, 2, 3, 0, 4, 5, 6, 0][..],
                &pad,
                &[7, 8, 9, 0, 10, 11, 12, 0],
                &pad,
            ]
            .concat(),
        ),
        (
            PixelFormat::Bgra8,
            [
                &[3, 2, 1, 0, 6, 5, 4, 0][..],
                &pad,
                &[9, 8, 7, 0, 12, 11, 10, 0],
                &pad,
            ]
            .concat(),
        ),
    ];
    for (format, pixels) in cases {
        let meta = FrameMeta::packed(2, 2, format).with_stride(2 * format.bytes_per_pixel() + 3);
        assert_eq!(rgb(&meta, &pixels), expected, "{format}");
    }
    let meta = FrameMeta::packed(2, 1, PixelFormat::Gray8);
    assert_eq!(rgb(&meta, &[7, 9]), [7, 7, 7, 9, 9, 9]);
}

#[test]
fn yuv_formats_use_each_chroma_sample_for_its_pixels() {
    // 3x3 (odd sides: chroma rounds up to 2x2) with padded strides. The
    // top-left 2x2 block is red, the rest white (BT.601 limited).
    let [ry, ru, rv] = RED_601_LIMITED;
    let (w, h, stride) = (3u32, 3u32, 5u32);
    let luma_of = |x: u32, y: u32| if x < 2 && y < 2 { ry } else { 235 };
    let mut luma = vec![0xEE; (stride * h) as usize];
    for y in 0..h {
        for x in 0..w {
            luma[(y * stride + x) as usize] = luma_of(x, y);
        }
    }
    let mut expected = Vec::new();
    for y in 0..h {
        for x in 0..w {
            expected.extend(if x < 2 && y < 2 {
                [255, 0, 0]
            } else {
                [255; 3]
            });
        }
    }
    // NV12: UV stride = 6 (stride rounded up to even), 2 rows of 4 bytes.
    let uv = [ru, rv, 128, 128, 0xEE, 0xEE, 128, 128, 128, 128, 0xEE, 0xEE];
    let nv12 = [&luma[..], &uv].concat();
    let meta = FrameMeta::packed(w, h, PixelFormat::Nv12).with_stride(stride);
    assert!(
        close(&rgb(&meta, &nv12), &expected, 2),
        "nv12 {:?}",
        rgb(&meta, &nv12)
    );
    // I420: chroma stride 3, 2 rows of 2 bytes each, U then V.
    let u = [ru, 128, 0xEE, 128, 128, 0xEE];
    let v = [rv, 128, 0xEE, 128, 128, 0xEE];
    let i420 = [&luma[..], &u, &v].concat();
    let meta = FrameMeta::packed(w, h, PixelFormat::I420).with_stride(stride);
    assert!(close(&rgb(&meta, &i420), &expected, 2), "i420");
    // YUYV (even width): 2x1, one red pair.
    let meta = FrameMeta::packed(2, 1, PixelFormat::Yuyv);
    assert!(close(
        &rgb(&meta, &[ry, ru, ry, rv]),
        &[255, 0, 0, 255, 0, 0],
        2
    ));
}

#[test]
fn the_frame_colorimetry_is_used() {
    // Full-range BT.709 red.
    let meta = FrameMeta::packed(2, 2, PixelFormat::Nv12).with_color(BT709_FULL);
    let got = rgb(&meta, &[54, 54, 54, 54, 99, 255]);
    assert!(close(&got, &[255, 0, 0].repeat(4), 2), "{got:?}");
    // Colorimetry matters for grey too: Y 200 is 200 in full range, 214 in limited.
    let grey = [200, 200, 200, 200, 128, 128];
    assert_eq!(rgb(&meta, &grey), [200; 12]);
    let meta = FrameMeta::packed(2, 2, PixelFormat::Nv12);
    assert_eq!(rgb(&meta, &grey), [214; 12]);
}

#[test]
fn wide_gray_is_mapped_over_its_range() {
    let meta = FrameMeta::packed(3, 1, PixelFormat::Gray16);
    let pixels: Vec<u8> = [1000u16, 2000, 3000]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let view = FrameView::new(&meta, &pixels).unwrap();
    assert_eq!(view.gray_range().unwrap().to_string(), "1000..3000");
    assert_eq!(view.to_rgb8(), [0, 0, 0, 128, 128, 128, 255, 255, 255]);

    let meta = FrameMeta::packed(3, 1, PixelFormat::GrayF32);
    let pixels: Vec<u8> = [-1.0f32, f32::NAN, 1.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let view = FrameView::new(&meta, &pixels).unwrap();
    assert_eq!(view.gray_range().unwrap().to_string(), "-1..1");
    assert_eq!(view.to_rgb8(), [0, 0, 0, 0, 0, 0, 255, 255, 255]);
}

#[test]
fn short_or_inconsistent_frames_are_errors_not_panics() {
    let meta = FrameMeta::packed(4, 4, PixelFormat::Nv12);
    assert!(FrameView::new(&meta, &[0; 23]).is_err());
    assert!(FrameView::new(&meta, &[0; 24]).is_ok());
    let odd = FrameMeta::packed(3, 2, PixelFormat::Yuyv);
    assert!(FrameView::new(&odd, &[0; 64]).is_err());
    let narrow = FrameMeta::packed(4, 2, PixelFormat::Rgb8).with_stride(5);
    assert!(FrameView::new(&narrow, &[0; 64]).is_err());
}

fn scratch(name: &str) -> tempdir::Dir {
    tempdir::Dir::new(name)
}

/// A scratch directory removed on drop.
mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir()
                .join(format!("shmframe-convert-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn gray16_saves_as_an_exact_16_bit_png() {
    let dir = scratch("png16");
    let values = [0u16, 1, 256, 65535, 1234, 4321];
    let meta = FrameMeta::packed(3, 2, PixelFormat::Gray16).with_stride(8);
    let mut pixels = Vec::new();
    for row in values.chunks(3) {
        pixels.extend(row.iter().flat_map(|v| v.to_le_bytes()));
        pixels.extend([0xEE, 0xEE]);
    }
    let path = dir.0.join("g.png");
    assert_eq!(save(&meta, &pixels, &path).unwrap(), FileKind::Png16);
    let image = image::open(&path).unwrap().into_luma16();
    assert_eq!(image.into_raw(), values);
}

#[test]
fn grayf32_saves_as_an_exact_float_tiff() {
    let dir = scratch("tiff");
    let values = [0.0f32, -1.5, 3.25e-7, f32::MAX, f32::NAN, 42.0];
    let meta = FrameMeta::packed(3, 2, PixelFormat::GrayF32);
    let pixels: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = dir.0.join("f.tiff");
    assert_eq!(file_kind(PixelFormat::GrayF32), FileKind::TiffF32);
    assert!(FileKind::TiffF32.suits(&path) && !FileKind::TiffF32.suits(&dir.0.join("f.png")));
    save(&meta, &pixels, &path).unwrap();
    let mut decoder = tiff::decoder::Decoder::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(decoder.dimensions().unwrap(), (3, 2));
    match decoder.read_image().unwrap() {
        tiff::decoder::DecodingResult::F32(read) => {
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&read), bits(&values));
        }
        other => panic!("not float samples: {:?}", std::mem::discriminant(&other)),
    }
}

#[test]
fn yuv_saves_as_rgb_png_and_bgr_as_rgb() {
    let dir = scratch("png8");
    let path = dir.0.join("y.png");
    let meta = FrameMeta::packed(2, 2, PixelFormat::I420);
    save(&meta, &[235, 235, 235, 235, 128, 128], &path).unwrap();
    let image = image::open(&path).unwrap();
    assert_eq!(image.color(), image::ColorType::Rgb8);
    assert_eq!(image.as_bytes(), [255; 12]);
    let meta = FrameMeta::packed(1, 1, PixelFormat::Bgr8);
    save(&meta, &[1, 2, 3], &path).unwrap();
    assert_eq!(image::open(&path).unwrap().as_bytes(), [3, 2, 1]);
}
