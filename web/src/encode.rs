//! A frame as each client wants it: RGBA or JPEG for the pages (at most some
//! width, gray over a chosen window), PNG/TIFF with exact values, ROS 2 images.

use crate::ros_image;
use shmframe::{FrameInfo, FrameMeta, PixelFormat};
use shmframe_convert::{FrameView, GrayRange};
use std::sync::atomic::{AtomicU64, Ordering};

/// Encodings made by this process (for `/api/stats` and the benchmark).
static ENCODINGS: AtomicU64 = AtomicU64::new(0);

/// How many frames this process has encoded (any variant).
pub fn encodings_made() -> u64 {
    ENCODINGS.load(Ordering::Relaxed)
}

/// One kind of output; a frame is encoded once per variant asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// RGBA, 4 bytes a pixel, alpha 255 (lossless below `max_width`).
    Rgba(Picture),
    /// Baseline JPEG of the RGB picture.
    Jpeg { picture: Picture, quality: u8 },
    /// The file `shmframe snapshot` writes: PNG, or TIFF for float gray.
    File,
    /// ROS 2 `sensor_msgs/msg/Image` in CDR.
    RosImage,
    /// ROS 2 `sensor_msgs/msg/CompressedImage` (JPEG) in CDR.
    RosJpeg { quality: u8 },
}

/// How a frame becomes an RGB picture for a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Picture {
    /// Scale down (nearest pixel) to at most this width.
    pub max_width: Option<u32>,
    /// Show Gray16/GrayF32 over this window instead of the frame's range.
    pub gray: Option<GrayWindow>,
}

/// A gray window `min..max`, hashable (by the bits of its ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GrayWindow {
    min_bits: u64,
    max_bits: u64,
}

impl GrayWindow {
    /// The window `min..max`; `None` unless both ends are finite and `min < max`.
    pub fn new(min: f64, max: f64) -> Option<GrayWindow> {
        (min.is_finite() && max.is_finite() && min < max).then(|| GrayWindow {
            min_bits: min.to_bits(),
            max_bits: max.to_bits(),
        })
    }

    fn range(self) -> GrayRange {
        GrayRange {
            min: f64::from_bits(self.min_bits),
            max: f64::from_bits(self.max_bits),
        }
    }
}

/// An encoded frame.
#[derive(Debug)]
pub struct Encoding {
    pub bytes: Vec<u8>,
    /// The picture's size (smaller than the frame's when scaled).
    pub width: u32,
    pub height: u32,
    /// For Gray16/GrayF32 pictures: the values shown black and white.
    pub gray: Option<GrayRange>,
    /// The MIME type of `bytes`.
    pub mime: &'static str,
}

/// Encodes a frame (metadata and bytes from a stream: checked here first).
pub fn encode(info: &FrameInfo, pixels: &[u8], variant: &Variant) -> Result<Encoding, String> {
    ENCODINGS.fetch_add(1, Ordering::Relaxed);
    let meta = &info.meta;
    let view = FrameView::new(meta, pixels).map_err(|e| e.to_string())?;
    match variant {
        Variant::Rgba(picture) => {
            let (rgb, width, height, gray) = picture_rgb(view, *picture);
            let mut bytes = Vec::with_capacity(rgb.len() / 3 * 4);
            for px in rgb.chunks_exact(3) {
                bytes.extend_from_slice(&[px[0], px[1], px[2], 255]);
            }
            Ok(Encoding {
                bytes,
                width,
                height,
                gray,
                mime: "application/octet-stream",
            })
        }
        Variant::Jpeg { picture, quality } => {
            // 8-bit RGB-like and gray frames shown whole go to the encoder as
            // they are: one pass over the pixels fewer.
            let whole = scaled_size(meta, picture.max_width).0 == meta.width;
            if let (Some(colour), true) = (jpeg_input(meta.format), whole) {
                let bytes = jpeg_of(
                    &view.packed_plane0(),
                    meta.width,
                    meta.height,
                    colour,
                    *quality,
                )?;
                return Ok(Encoding {
                    bytes,
                    width: meta.width,
                    height: meta.height,
                    gray: None,
                    mime: "image/jpeg",
                });
            }
            let (rgb, width, height, gray) = picture_rgb(view, *picture);
            let bytes = jpeg(&rgb, width, height, *quality)?;
            Ok(Encoding {
                bytes,
                width,
                height,
                gray,
                mime: "image/jpeg",
            })
        }
        Variant::File => {
            let mut out = std::io::Cursor::new(Vec::new());
            let kind = shmframe_convert::write(&view, &mut out)?;
            let mime = match kind {
                shmframe_convert::FileKind::TiffF32 => "image/tiff",
                _ => "image/png",
            };
            Ok(Encoding {
                bytes: out.into_inner(),
                width: meta.width,
                height: meta.height,
                gray: None,
                mime,
            })
        }
        Variant::RosImage => Ok(Encoding {
            bytes: ros_image::image(info, &view),
            width: meta.width,
            height: meta.height,
            gray: None,
            mime: "application/octet-stream",
        }),
        Variant::RosJpeg { quality } => {
            let (rgb, width, height, _) = picture_rgb(view, Picture::default());
            let bytes = ros_image::compressed(info, &jpeg(&rgb, width, height, *quality)?);
            Ok(Encoding {
                bytes,
                width,
                height,
                gray: None,
                mime: "application/octet-stream",
            })
        }
    }
}

/// Baseline JPEG of packed RGB.
pub fn jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, String> {
    jpeg_of(rgb, width, height, jpeg_encoder::ColorType::Rgb, quality)
}

/// The encoder's name for packed frames of `format` it takes as they are.
fn jpeg_input(format: PixelFormat) -> Option<jpeg_encoder::ColorType> {
    use jpeg_encoder::ColorType;
    match format {
        PixelFormat::Rgb8 => Some(ColorType::Rgb),
        PixelFormat::Bgr8 => Some(ColorType::Bgr),
        PixelFormat::Rgba8 => Some(ColorType::Rgba),
        PixelFormat::Bgra8 => Some(ColorType::Bgra),
        PixelFormat::Gray8 => Some(ColorType::Luma),
        _ => None,
    }
}

/// Baseline JPEG of packed pixels of `colour`.
fn jpeg_of(
    pixels: &[u8],
    width: u32,
    height: u32,
    colour: jpeg_encoder::ColorType,
    quality: u8,
) -> Result<Vec<u8>, String> {
    let too_big = || format!("{width}x{height} is too large for JPEG (65535 at most each way)");
    let w = u16::try_from(width).map_err(|_| too_big())?;
    let h = u16::try_from(height).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(pixels.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(pixels, w, h, colour)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The frame as packed RGB for a person, scaled to the picture's width.
fn picture_rgb(view: FrameView<'_>, picture: Picture) -> (Vec<u8>, u32, u32, Option<GrayRange>) {
    let view = match picture.gray {
        Some(window) => view.with_gray_range(window.range()),
        None => view,
    };
    let gray = view.gray_range();
    let meta: FrameMeta = *view.meta();
    let (width, height) = scaled_size(&meta, picture.max_width);
    if width == meta.width {
        return (view.to_rgb8(), width, height, gray);
    }
    let (src_w, src_h) = (meta.width as usize, meta.height as usize);
    let (w, h) = (width as usize, height as usize);
    let mut row = vec![0; 3 * src_w];
    let mut out = Vec::with_capacity(3 * w * h);
    for y in 0..h {
        view.rgb_row(y * src_h / h, &mut row);
        for x in 0..w {
            let sx = x * src_w / w;
            out.extend_from_slice(&row[3 * sx..3 * sx + 3]);
        }
    }
    (out, width, height, gray)
}

/// The frame's size scaled down to `max_width` (aspect kept, at least 1x1).
fn scaled_size(meta: &FrameMeta, max_width: Option<u32>) -> (u32, u32) {
    match max_width {
        Some(max) if max >= 1 && max < meta.width => {
            let height = (u64::from(meta.height) * u64::from(max) / u64::from(meta.width)).max(1);
            (max, height as u32)
        }
        _ => (meta.width, meta.height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_keeps_the_aspect_and_never_grows() {
        let meta = FrameMeta::packed(1920, 1080, PixelFormat::Rgb8);
        assert_eq!(scaled_size(&meta, Some(320)), (320, 180));
        assert_eq!(scaled_size(&meta, Some(4000)), (1920, 1080));
        assert_eq!(scaled_size(&meta, Some(0)), (1920, 1080));
        let thin = FrameMeta::packed(1000, 1, PixelFormat::Gray8);
        assert_eq!(scaled_size(&thin, Some(10)), (10, 1));
    }

    #[test]
    fn gray_windows_must_be_ordered_and_finite() {
        assert!(GrayWindow::new(0.0, 1.0).is_some());
        assert!(GrayWindow::new(1.0, 1.0).is_none());
        assert!(GrayWindow::new(f64::NAN, 1.0).is_none());
    }
}
