//! Frames as image files: PNG where PNG holds the values, float TIFF where it cannot.
//!
//! - 8-bit RGB, BGR, RGBA, BGRA and gray: an 8-bit PNG of the same pixels
//!   (BGR orders become RGB; alpha is kept).
//! - NV12, I420, YUYV: an 8-bit RGB PNG, converted with the frame's matrix and range.
//! - Gray16: a 16-bit gray PNG with the exact values.
//! - GrayF32: a 32-bit float gray TIFF with the exact values.

use crate::{ConvertError, FrameView};
use image::{ExtendedColorType, ImageEncoder};
use shmframe::{FrameMeta, PixelFormat};
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;

/// The kind of file a frame of some format is saved as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// 8-bit PNG (RGB, RGBA or gray).
    Png,
    /// 16-bit gray PNG.
    Png16,
    /// 32-bit float gray TIFF.
    TiffF32,
}

impl FileKind {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Png | FileKind::Png16 => "png",
            FileKind::TiffF32 => "tiff",
        }
    }

    /// Whether `path`'s extension suits this kind (`png`; `tif` or `tiff`).
    pub fn suits(self, path: &Path) -> bool {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match self {
            FileKind::Png | FileKind::Png16 => ext.as_deref() == Some("png"),
            FileKind::TiffF32 => matches!(ext.as_deref(), Some("tif" | "tiff")),
        }
    }
}

/// The kind of file frames of `format` are saved as.
pub fn file_kind(format: PixelFormat) -> FileKind {
    match format {
        PixelFormat::Gray16 => FileKind::Png16,
        PixelFormat::GrayF32 => FileKind::TiffF32,
        _ => FileKind::Png,
    }
}

/// Saves the frame at `path` (replacing a file there) as [`file_kind`] says;
/// a file left half-written by an error is removed.
pub fn save(meta: &FrameMeta, pixels: &[u8], path: &Path) -> Result<FileKind, ConvertError> {
    let view = FrameView::new(meta, pixels)?;
    let failed = |reason: String| ConvertError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::create(path).map_err(|e| failed(e.to_string()))?;
    write(&view, file).map_err(|reason| {
        let _ = std::fs::remove_file(path);
        failed(reason)
    })
}

/// Encodes the frame into `out` as [`file_kind`] says.
pub fn write(view: &FrameView<'_>, out: impl Write + Seek) -> Result<FileKind, String> {
    let meta = view.meta();
    let kind = file_kind(meta.format);
    let mut out = BufWriter::new(out);
    match kind {
        FileKind::TiffF32 => {
            let mut encoder =
                tiff::encoder::TiffEncoder::new(&mut out).map_err(|e| e.to_string())?;
            let samples: Vec<f32> = view
                .packed_plane0()
                .chunks_exact(4)
                .map(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
                .collect();
            encoder
                .write_image::<tiff::encoder::colortype::Gray32Float>(
                    meta.width,
                    meta.height,
                    &samples,
                )
                .map_err(|e| e.to_string())?;
        }
        FileKind::Png | FileKind::Png16 => {
            let (bytes, color) = png_pixels(view);
            image::codecs::png::PngEncoder::new(&mut out)
                .write_image(&bytes, meta.width, meta.height, color)
                .map_err(|e| e.to_string())?;
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(kind)
}

/// The packed pixels and colour type a PNG of the frame stores.
fn png_pixels(view: &FrameView<'_>) -> (Vec<u8>, ExtendedColorType) {
    match view.meta().format {
        PixelFormat::Rgba8 => (view.packed_plane0(), ExtendedColorType::Rgba8),
        PixelFormat::Bgra8 => {
            let mut rgba = view.packed_plane0();
            rgba.chunks_exact_mut(4).for_each(|px| px.swap(0, 2));
            (rgba, ExtendedColorType::Rgba8)
        }
        PixelFormat::Rgb8 => (view.packed_plane0(), ExtendedColorType::Rgb8),
        PixelFormat::Gray8 => (view.packed_plane0(), ExtendedColorType::L8),
        // Native-endian u16 samples: the encoder writes them big-endian, as PNG stores them.
        PixelFormat::Gray16 => {
            let mut samples = view.packed_plane0();
            if cfg!(target_endian = "big") {
                samples.chunks_exact_mut(2).for_each(|s| s.swap(0, 1));
            }
            (samples, ExtendedColorType::L16)
        }
        PixelFormat::Bgr8
        | PixelFormat::Nv12
        | PixelFormat::I420
        | PixelFormat::Yuyv
        | PixelFormat::GrayF32 => (view.to_rgb8(), ExtendedColorType::Rgb8),
    }
}
