//! Frames read from a stream, saved as PNG files.

use crate::fail::{CliError, CliResult};
use image::{ExtendedColorType, ImageFormat};
use shmframe::{FrameMeta, PixelFormat};
use std::path::Path;

/// Saves a frame's pixels (`meta.stride * meta.height` bytes) as a PNG at `path`.
pub fn save_png(meta: &FrameMeta, pixels: &[u8], path: &Path) -> CliResult<()> {
    let (color, packed) = packed_pixels(meta, pixels)?;
    image::save_buffer_with_format(
        path,
        &packed,
        meta.width,
        meta.height,
        color,
        ImageFormat::Png,
    )
    .map_err(|e| CliError::new(format!("writing {}: {e}", path.display())))
}

/// The pixels without row padding, in a format PNG stores (BGRA becomes RGBA).
fn packed_pixels(meta: &FrameMeta, pixels: &[u8]) -> CliResult<(ExtendedColorType, Vec<u8>)> {
    let row = meta.width as usize * meta.format.bytes_per_pixel() as usize;
    let stride = meta.stride as usize;
    let expected = meta.checked_len()?;
    if meta.format.is_yuv() {
        return Err(CliError::new(format!(
            "cannot save {} frames as an image yet",
            meta.format
        )));
    }
    if pixels.len() < expected {
        return Err(CliError::new(format!(
            "the frame has {} bytes of pixels but its metadata needs {expected}",
            pixels.len()
        )));
    }
    let mut packed = Vec::with_capacity(row * meta.height as usize);
    for line in pixels.chunks(stride).take(meta.height as usize) {
        packed.extend_from_slice(&line[..row]);
    }
    let color = match meta.format {
        PixelFormat::Rgba8 => ExtendedColorType::Rgba8,
        PixelFormat::Rgb8 => ExtendedColorType::Rgb8,
        PixelFormat::Gray8 => ExtendedColorType::L8,
        PixelFormat::Bgra8 => {
            for pixel in packed.chunks_exact_mut(4) {
                pixel.swap(0, 2);
            }
            ExtendedColorType::Rgba8
        }
        other => {
            return Err(CliError::new(format!(
                "cannot save {other} frames as an image yet"
            )))
        }
    };
    Ok((color, packed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_padding_and_swaps_bgra() {
        let meta = FrameMeta::packed(1, 2, PixelFormat::Bgra8).with_stride(6);
        let pixels = [1, 2, 3, 4, 99, 99, 5, 6, 7, 8, 99, 99];
        let (color, packed) = packed_pixels(&meta, &pixels).unwrap();
        assert_eq!(color, ExtendedColorType::Rgba8);
        assert_eq!(packed, [3, 2, 1, 4, 7, 6, 5, 8]);
        assert!(packed_pixels(&meta, &pixels[..11]).is_err());
    }
}
