//! Scaling: any frame into minifb's 0RGB `u32` window buffer, scaled to fit
//! with the aspect ratio kept (letterboxed).
//!
//! The pixels are read as RGB by `shmframe-convert` (YUV with the frame's
//! matrix and range, Gray16 and GrayF32 over the frame's own range), the same
//! conversion `shmframe snapshot` uses. Scaling is nearest-neighbour, sampling
//! each window pixel's centre, so a frame shown at its own size, or at a whole
//! multiple of it, is exact. Alpha is ignored: every frame is shown opaque.

use shmframe::FrameMeta;
use shmframe_convert::{FrameView, GrayRange};

/// Where the frame lands in the window, in window pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width (at least 1).
    pub width: usize,
    /// Height (at least 1).
    pub height: usize,
}

/// The largest rectangle with the source's aspect ratio that fits in the
/// destination, centred; `None` if either has no pixels.
pub fn letterbox(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Option<Rect> {
    if src_w == 0 || src_h == 0 || dst_w == 0 || dst_h == 0 {
        return None;
    }
    // Compare src_w / src_h with dst_w / dst_h without division (u128: no overflow).
    let (sw, sh, dw, dh) = (src_w as u128, src_h as u128, dst_w as u128, dst_h as u128);
    let (width, height) = if sw * dh >= dw * sh {
        // Wider than the window: full width, bars above and below.
        (dst_w, ((sh * dw + sw / 2) / sw) as usize)
    } else {
        // Taller: full height, bars left and right.
        (((sw * dh + sh / 2) / sh) as usize, dst_h)
    };
    let (width, height) = (width.clamp(1, dst_w), height.clamp(1, dst_h));
    Some(Rect {
        x: (dst_w - width) / 2,
        y: (dst_h - height) / 2,
        width,
        height,
    })
}

/// The source index sampled by destination index `d` of `dst_len` when
/// `src_len` pixels are scaled to `dst_len` (nearest to the pixel's centre).
fn sample(d: usize, src_len: usize, dst_len: usize) -> usize {
    let s = ((2 * d as u128 + 1) * src_len as u128) / (2 * dst_len as u128);
    (s as usize).min(src_len - 1)
}

/// Why a frame could not be drawn.
#[derive(Debug, PartialEq, Eq)]
pub struct BadFrame(pub String);

impl std::fmt::Display for BadFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Draws frames into a window buffer, keeping its per-column lookup table
/// and row buffer between frames so that showing a frame allocates nothing.
#[derive(Default)]
pub struct Scaler {
    /// Source column of each destination column.
    columns: Vec<usize>,
    /// (source width, destination width) the table was built for.
    built_for: (usize, usize),
    /// One source row as packed RGB.
    row: Vec<u8>,
}

impl Scaler {
    /// Draws `pixels`, described by `meta`, letterboxed into `dst` (`dst_w`
    /// pixels per row), filling the bars with `background`. Returns the range
    /// mapped to black..white for Gray16 and GrayF32 frames.
    ///
    /// The frame comes from another process: its metadata is checked against
    /// the bytes before any is read.
    pub fn render(
        &mut self,
        meta: &FrameMeta,
        pixels: &[u8],
        dst: &mut [u32],
        dst_w: usize,
        background: u32,
    ) -> Result<Option<GrayRange>, BadFrame> {
        let frame = FrameView::new(meta, pixels).map_err(|e| BadFrame(e.to_string()))?;
        let dst_h = dst.len().checked_div(dst_w).unwrap_or(0);
        let (src_w, src_h) = (meta.width as usize, meta.height as usize);
        let Some(rect) = letterbox(src_w, src_h, dst_w, dst_h) else {
            dst.fill(background);
            return Ok(frame.gray_range());
        };
        if self.built_for != (src_w, rect.width) || self.columns.len() != rect.width {
            self.columns.clear();
            self.columns
                .extend((0..rect.width).map(|dx| sample(dx, src_w, rect.width)));
            self.built_for = (src_w, rect.width);
        }
        self.row.resize(3 * src_w, 0);

        dst[..rect.y * dst_w].fill(background);
        dst[(rect.y + rect.height) * dst_w..].fill(background);
        let mut converted = None;
        for dy in 0..rect.height {
            let sy = sample(dy, src_h, rect.height);
            // Upscaled rows repeat: convert each source row once.
            if converted != Some(sy) {
                frame.rgb_row(sy, &mut self.row);
                converted = Some(sy);
            }
            let line = &mut dst[(rect.y + dy) * dst_w..(rect.y + dy + 1) * dst_w];
            let (left, rest) = line.split_at_mut(rect.x);
            let (shown, right) = rest.split_at_mut(rect.width);
            left.fill(background);
            right.fill(background);
            for (o, &c) in shown.iter_mut().zip(&self.columns) {
                let px = &self.row[3 * c..3 * c + 3];
                *o = (u32::from(px[0]) << 16) | (u32::from(px[1]) << 8) | u32::from(px[2]);
            }
        }
        Ok(frame.gray_range())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::PixelFormat;

    /// The 8-bit formats the tests build frames of by colour.
    const RGB_FORMATS: [PixelFormat; 5] = [
        PixelFormat::Rgba8,
        PixelFormat::Bgra8,
        PixelFormat::Rgb8,
        PixelFormat::Bgr8,
        PixelFormat::Gray8,
    ];

    const BG: u32 = 0x00AB_CDEF;

    /// A frame of `w`x`h` whose pixel (x, y) has the 0RGB colour `color(x, y)`,
    /// encoded in `format` with `pad` junk bytes after each row.
    fn frame(
        w: u32,
        h: u32,
        format: PixelFormat,
        pad: u32,
        color: impl Fn(u32, u32) -> u32,
    ) -> (FrameMeta, Vec<u8>) {
        let bpp = format.bytes_per_pixel();
        let stride = w * bpp + pad;
        let mut bytes = vec![0xEE; (stride * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let [_, r, g, b] = color(x, y).to_be_bytes();
                let encoded: Vec<u8> = match format {
                    PixelFormat::Rgba8 => vec![r, g, b, 0x55],
                    PixelFormat::Bgra8 => vec![b, g, r, 0x55],
                    PixelFormat::Rgb8 => vec![r, g, b],
                    PixelFormat::Bgr8 => vec![b, g, r],
                    PixelFormat::Gray8 => vec![r],
                    other => unreachable!("{other} frames are built by hand"),
                };
                let at = (y * stride + x * bpp) as usize;
                bytes[at..at + encoded.len()].copy_from_slice(&encoded);
            }
        }
        let meta = FrameMeta::packed(w, h, format).with_stride(stride);
        (meta, bytes)
    }

    fn render(meta: &FrameMeta, pixels: &[u8], dst_w: usize, dst_h: usize) -> Vec<u32> {
        let mut dst = vec![0x0012_3456; dst_w * dst_h];
        Scaler::default()
            .render(meta, pixels, &mut dst, dst_w, BG)
            .expect("renders");
        dst
    }

    #[test]
    fn every_format_renders_pixel_for_pixel_at_its_own_size() {
        // Distinct colours; grey for Gray8, which carries one channel.
        for format in RGB_FORMATS {
            let color = |x: u32, y: u32| match format {
                PixelFormat::Gray8 => (x * 40 + y * 7) * 0x01_0101,
                _ => ((x * 40) << 16) | ((y * 50) << 8) | (x + y * 5),
            };
            for pad in [0, 1, 3, 8] {
                let (meta, bytes) = frame(5, 4, format, pad, color);
                let shown = render(&meta, &bytes, 5, 4);
                for y in 0..4 {
                    for x in 0..5 {
                        assert_eq!(
                            shown[(y * 5 + x) as usize],
                            color(x, y),
                            "{format} pad {pad} at ({x}, {y})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn stride_padding_is_never_shown() {
        // Padding bytes are 0xEE; a frame of pure colours must show none of it.
        for format in RGB_FORMATS {
            let (meta, bytes) = frame(3, 3, format, 5, |_, _| 0);
            assert!(
                render(&meta, &bytes, 7, 7)
                    .iter()
                    .all(|&p| p == 0 || p == BG),
                "{format}"
            );
        }
    }

    #[test]
    fn the_last_row_needs_no_padding() {
        let (mut meta, mut bytes) = frame(2, 2, PixelFormat::Rgb8, 2, |_, _| 0x00FF_0000);
        bytes.truncate(bytes.len() - 2);
        assert_eq!(render(&meta, &bytes, 2, 2), vec![0x00FF_0000; 4]);
        bytes.pop();
        let err = Scaler::default()
            .render(&meta, &bytes, &mut [0; 4], 2, BG)
            .unwrap_err();
        assert!(err.0.contains("needs 14 bytes, got 13"), "{err}");
        meta.stride = 1;
        assert!(Scaler::default()
            .render(&meta, &bytes, &mut [0; 4], 2, BG)
            .is_err());
    }

    #[test]
    fn letterbox_keeps_the_aspect_ratio_and_centres() {
        // 4:3 into a wide window: pillarbox.
        assert_eq!(
            letterbox(320, 240, 800, 300),
            Some(Rect {
                x: 200,
                y: 0,
                width: 400,
                height: 300
            })
        );
        // 16:9 into a square: bars above and below.
        assert_eq!(
            letterbox(1920, 1080, 640, 640),
            Some(Rect {
                x: 0,
                y: 140,
                width: 640,
                height: 360
            })
        );
        // Same ratio: fills the window exactly.
        assert_eq!(
            letterbox(320, 240, 640, 480),
            Some(Rect {
                x: 0,
                y: 0,
                width: 640,
                height: 480
            })
        );
        assert_eq!(
            letterbox(7, 5, 7, 5),
            Some(Rect {
                x: 0,
                y: 0,
                width: 7,
                height: 5
            })
        );
        // Extreme ratios still get at least one pixel.
        assert_eq!(
            letterbox(65536, 1, 100, 100),
            Some(Rect {
                x: 0,
                y: 49,
                width: 100,
                height: 1
            })
        );
        assert_eq!(
            letterbox(1, 65536, 100, 100),
            Some(Rect {
                x: 49,
                y: 0,
                width: 1,
                height: 100
            })
        );
        assert_eq!(letterbox(0, 5, 10, 10), None);
        assert_eq!(letterbox(5, 5, 10, 0), None);
    }

    #[test]
    fn a_scaled_frame_is_letterboxed_with_background_bars() {
        // Left half red, right half blue, 4x2, into a 12x12 window: 12x6 at y = 3.
        let (meta, bytes) = frame(4, 2, PixelFormat::Rgba8, 0, |x, _| {
            if x < 2 {
                0x00FF_0000
            } else {
                0x0000_00FF
            }
        });
        let shown = render(&meta, &bytes, 12, 12);
        for y in 0..12 {
            for x in 0..12 {
                let expected = match (y, x) {
                    (3..=8, 0..=5) => 0x00FF_0000,
                    (3..=8, _) => 0x0000_00FF,
                    _ => BG,
                };
                assert_eq!(shown[y * 12 + x], expected, "({x}, {y})");
            }
        }
        // Pillarbox: 2x4 into 8x4 -> 2x4 at x = 3.
        let (meta, bytes) = frame(2, 4, PixelFormat::Gray8, 1, |_, y| y * 0x10_1010);
        let shown = render(&meta, &bytes, 8, 4);
        for y in 0..4 {
            let row: Vec<u32> = shown[y * 8..y * 8 + 8].to_vec();
            let c = y as u32 * 0x10_1010;
            assert_eq!(row, vec![BG, BG, BG, c, c, BG, BG, BG], "row {y}");
        }
    }

    #[test]
    fn downscaling_samples_pixel_centres() {
        // 4x1 -> 2x1 samples source columns 1 and 3.
        let (meta, bytes) = frame(4, 1, PixelFormat::Rgb8, 0, |x, _| x);
        assert_eq!(render(&meta, &bytes, 2, 1), vec![1, 3]);
        // Integer upscaling repeats each pixel exactly.
        assert_eq!(
            render(&meta, &bytes, 8, 2),
            vec![0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3]
        );
    }

    #[test]
    fn yuv_and_wide_gray_frames_are_shown_in_colour_and_over_their_range() {
        // NV12, 2x2: white luma, then BT.601 limited red (Y 81, U 90, V 240).
        let meta = FrameMeta::packed(4, 2, PixelFormat::Nv12);
        let nv12 = [235, 235, 81, 81, 235, 235, 81, 81, 128, 128, 90, 240];
        let mut dst = vec![0; 8];
        let range = Scaler::default()
            .render(&meta, &nv12, &mut dst, 4, BG)
            .unwrap();
        assert_eq!(range, None);
        assert_eq!(dst[0], 0x00FF_FFFF);
        let [_, r, g, b] = dst[3].to_be_bytes();
        assert!(r >= 253 && g <= 2 && b <= 2, "{:06x}", dst[3]);

        let meta = FrameMeta::packed(2, 1, PixelFormat::Gray16);
        let gray16: Vec<u8> = [1000u16, 3000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut dst = vec![0; 2];
        let range = Scaler::default()
            .render(&meta, &gray16, &mut dst, 2, BG)
            .unwrap();
        assert_eq!(range.map(|r| r.to_string()).as_deref(), Some("1000..3000"));
        assert_eq!(dst, [0, 0x00FF_FFFF]);
    }

    #[test]
    fn the_scaler_follows_size_and_format_changes() {
        let mut scaler = Scaler::default();
        let mut dst = vec![0; 16];
        let (meta, bytes) = frame(4, 4, PixelFormat::Rgba8, 0, |x, _| x);
        scaler.render(&meta, &bytes, &mut dst, 4, BG).unwrap();
        assert_eq!(&dst[..4], &[0, 1, 2, 3]);
        let (meta, bytes) = frame(2, 2, PixelFormat::Gray8, 0, |x, _| x * 0x01_0101);
        scaler.render(&meta, &bytes, &mut dst, 4, BG).unwrap();
        assert_eq!(&dst[..4], &[0, 0, 0x01_0101, 0x01_0101]);
        let mut wide = vec![0; 8 * 4];
        scaler.render(&meta, &bytes, &mut wide, 8, BG).unwrap();
        assert_eq!(&wide[..8], &[BG, BG, 0, 0, 0x01_0101, 0x01_0101, BG, BG]);
    }

    #[test]
    fn an_empty_window_is_just_cleared() {
        let (meta, bytes) = frame(2, 2, PixelFormat::Rgb8, 0, |_, _| 1);
        let mut none: [u32; 0] = [];
        Scaler::default()
            .render(&meta, &bytes, &mut none, 0, BG)
            .unwrap();
        Scaler::default()
            .render(&meta, &bytes, &mut none, 5, BG)
            .unwrap();
    }
}
