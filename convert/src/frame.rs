//! A frame checked against its metadata, read as 8-bit RGB row by row.

use crate::gray::GrayRange;
use crate::yuv::YuvToRgb;
use crate::ConvertError;
use shmframe::{FrameMeta, PixelFormat, Plane};

/// A frame's bytes, checked to hold every plane its metadata describes.
///
/// Frames come from other processes: nothing is read before the metadata
/// has been checked against the bytes, and every later read stays inside them.
pub struct FrameView<'a> {
    meta: FrameMeta,
    pixels: &'a [u8],
    planes: [Plane; 3],
    plane_count: usize,
    yuv: YuvToRgb,
    gray: Option<GrayRange>,
}

impl<'a> FrameView<'a> {
    /// Checks `pixels` against `meta` (and, for Gray16 and GrayF32, finds the range shown).
    pub fn new(meta: &FrameMeta, pixels: &'a [u8]) -> Result<FrameView<'a>, ConvertError> {
        let layout = meta
            .planes()
            .map_err(|e| ConvertError::BadFrame(e.to_string()))?;
        // The last row of the last plane needs no padding after it.
        let needed = layout
            .as_slice()
            .iter()
            .map(|p| p.offset + p.stride * (p.rows - 1) + p.row_bytes)
            .max()
            .unwrap_or(0);
        if pixels.len() < needed {
            return Err(ConvertError::BadFrame(format!(
                "{}x{} {} with stride {} needs {needed} bytes, got {}",
                meta.width,
                meta.height,
                meta.format,
                meta.stride,
                pixels.len()
            )));
        }
        let mut planes = [layout.as_slice()[0]; 3];
        for (slot, plane) in planes.iter_mut().zip(layout.as_slice()) {
            *slot = *plane;
        }
        let mut view = FrameView {
            meta: *meta,
            pixels,
            planes,
            plane_count: layout.as_slice().len(),
            yuv: YuvToRgb::new(meta.color),
            gray: None,
        };
        view.gray = match meta.format {
            PixelFormat::Gray16 | PixelFormat::GrayF32 => Some(
                GrayRange::of(view.wide_gray_values()).unwrap_or(GrayRange { min: 0.0, max: 0.0 }),
            ),
            _ => None,
        };
        Ok(view)
    }

    /// The frame's metadata.
    pub fn meta(&self) -> &FrameMeta {
        &self.meta
    }

    /// Shows Gray16 and GrayF32 over `range` instead of the frame's own
    /// (a window a person chose); other formats ignore it.
    pub fn with_gray_range(mut self, range: GrayRange) -> Self {
        if self.gray.is_some() {
            self.gray = Some(range);
        }
        self
    }

    /// For Gray16 and GrayF32: the values shown black and white.
    pub fn gray_range(&self) -> Option<GrayRange> {
        self.gray
    }

    /// Row `y` of plane `p`, without padding.
    fn row(&self, p: usize, y: usize) -> &'a [u8] {
        let plane = self.planes[p];
        let start = plane.offset + y * plane.stride;
        &self.pixels[start..start + plane.row_bytes]
    }

    /// Every sample of a Gray16 or GrayF32 frame, as f64.
    fn wide_gray_values(&self) -> impl Iterator<Item = f64> + '_ {
        let format = self.meta.format;
        (0..self.meta.height as usize).flat_map(move |y| {
            let row = self.row(0, y);
            let width = match format {
                PixelFormat::GrayF32 => 4,
                _ => 2,
            };
            row.chunks_exact(width).map(move |s| wide_sample(format, s))
        })
    }

    /// Writes row `y` as packed 8-bit RGB into `out` (`3 * width` bytes).
    ///
    /// YUV is converted with the frame's matrix and range, each chroma sample
    /// used for every pixel it covers; Gray16 and GrayF32 are mapped over
    /// [`FrameView::gray_range`]; alpha is dropped.
    ///
    /// # Panics
    /// If `y >= height` or `out` is not `3 * width` bytes (caller errors, not frame errors).
    pub fn rgb_row(&self, y: usize, out: &mut [u8]) {
        let width = self.meta.width as usize;
        assert!(y < self.meta.height as usize, "row {y} out of the frame");
        assert_eq!(
            out.len(),
            3 * width,
            "the output row holds 3 bytes per pixel"
        );
        let row = self.row(0, y);
        let pixels = out.chunks_exact_mut(3);
        match self.meta.format {
            PixelFormat::Rgb8 => pixels.zip(row.chunks_exact(3)).for_each(|(o, p)| {
                o.copy_from_slice(p);
            }),
            PixelFormat::Rgba8 => pixels.zip(row.chunks_exact(4)).for_each(|(o, p)| {
                o.copy_from_slice(&p[..3]);
            }),
            PixelFormat::Bgr8 => pixels.zip(row.chunks_exact(3)).for_each(|(o, p)| {
                o.copy_from_slice(&[p[2], p[1], p[0]]);
            }),
            PixelFormat::Bgra8 => pixels.zip(row.chunks_exact(4)).for_each(|(o, p)| {
                o.copy_from_slice(&[p[2], p[1], p[0]]);
            }),
            PixelFormat::Gray8 => pixels.zip(row).for_each(|(o, &g)| o.fill(g)),
            PixelFormat::Gray16 | PixelFormat::GrayF32 => {
                let range = self.gray.unwrap_or(GrayRange { min: 0.0, max: 0.0 });
                let width = self.meta.format.bytes_per_pixel() as usize;
                let format = self.meta.format;
                pixels
                    .zip(row.chunks_exact(width))
                    .for_each(|(o, s)| o.fill(range.map(wide_sample(format, s))));
            }
            // Two pixels share each chroma sample: its offsets are computed once.
            PixelFormat::Nv12 => {
                let uv = self.row(1, y / 2);
                self.yuv_pairs(row, out, |pair| [uv[2 * pair], uv[2 * pair + 1]]);
            }
            PixelFormat::I420 => {
                let (u, v) = (self.row(1, y / 2), self.row(2, y / 2));
                self.yuv_pairs(row, out, |pair| [u[pair], v[pair]]);
            }
            PixelFormat::Yuyv => {
                // Y0 U Y1 V for each pair of pixels (the width is even).
                for (o, px) in out.chunks_exact_mut(6).zip(row.chunks_exact(4)) {
                    let c = self.yuv.chroma(px[1], px[3]);
                    o[..3].copy_from_slice(&self.yuv.rgb_with(px[0], c));
                    o[3..].copy_from_slice(&self.yuv.rgb_with(px[2], c));
                }
            }
        }
    }

    /// Converts a row of 4:2:0 luma into `out`, pixel pair `p` using the
    /// chroma sample `chroma_of(p)` (an odd width ends with a lone pixel).
    fn yuv_pairs(&self, luma: &[u8], out: &mut [u8], chroma_of: impl Fn(usize) -> [u8; 2]) {
        for (pair, (o, l)) in out.chunks_mut(6).zip(luma.chunks(2)).enumerate() {
            let [u, v] = chroma_of(pair);
            let c = self.yuv.chroma(u, v);
            o[..3].copy_from_slice(&self.yuv.rgb_with(l[0], c));
            if let (Some(second), Some(&y)) = (o.get_mut(3..6), l.get(1)) {
                second.copy_from_slice(&self.yuv.rgb_with(y, c));
            }
        }
    }

    /// The whole frame as packed 8-bit RGB (`3 * width * height` bytes).
    pub fn to_rgb8(&self) -> Vec<u8> {
        let row = 3 * self.meta.width as usize;
        let mut out = vec![0; row * self.meta.height as usize];
        for (y, line) in out.chunks_exact_mut(row).enumerate() {
            self.rgb_row(y, line);
        }
        out
    }

    /// The first plane's rows without padding (the frame's own samples, packed).
    pub fn packed_plane0(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.planes[0].row_bytes * self.meta.height as usize);
        for y in 0..self.meta.height as usize {
            out.extend_from_slice(self.row(0, y));
        }
        out
    }

    /// Every plane's rows without padding, one plane after the other: the
    /// frame exactly as `ffmpeg -f rawvideo -pix_fmt` lays it out.
    pub fn packed(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for p in 0..self.plane_count {
            for y in 0..self.planes[p].rows {
                out.extend_from_slice(self.row(p, y));
            }
        }
        out
    }
}

/// One little-endian Gray16 (2 bytes) or GrayF32 (4 bytes) sample.
#[inline]
fn wide_sample(format: PixelFormat, bytes: &[u8]) -> f64 {
    match (format, bytes) {
        (PixelFormat::GrayF32, &[a, b, c, d]) => f64::from(f32::from_le_bytes([a, b, c, d])),
        (_, &[a, b, ..]) => f64::from(u16::from_le_bytes([a, b])),
        _ => 0.0,
    }
}
