//! Saving the frame on screen as a PNG file.

use image::{ExtendedColorType, ImageEncoder};
use shmframe::{FrameMeta, PixelFormat};
use std::fs::OpenOptions;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Saves the frame as `shmframe-<name>-<number>.png` in `dir`, never
/// overwriting a file (a `-2`, `-3`, ... suffix is added), and returns its path.
///
/// RGBA and BGRA frames are saved as RGBA, RGB as RGB, grey as grey; stride
/// padding is dropped.
pub fn save(
    dir: &Path,
    name: &str,
    number: u64,
    meta: &FrameMeta,
    pixels: &[u8],
) -> Result<PathBuf, String> {
    let len = meta.checked_len().map_err(|e| e.to_string())?;
    if pixels.len() < len {
        return Err(format!(
            "frame has {} bytes, its metadata says {len}",
            pixels.len()
        ));
    }
    if !crate::convert::SHOWN_FORMATS.contains(&meta.format) {
        return Err(format!("cannot save {} frames as PNG yet", meta.format));
    }
    let (packed, color) = pack(meta, pixels);
    for attempt in 1u32..=1000 {
        let file_name = match attempt {
            1 => format!("shmframe-{name}-{number}.png"),
            n => format!("shmframe-{name}-{number}-{n}.png"),
        };
        let path = dir.join(file_name);
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        };
        let encoded = image::codecs::png::PngEncoder::new(BufWriter::new(file)).write_image(
            &packed,
            meta.width,
            meta.height,
            color,
        );
        return match encoded {
            Ok(()) => Ok(path),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(format!("cannot write {}: {e}", path.display()))
            }
        };
    }
    Err(format!(
        "{} already holds 1000 snapshots of frame {number}",
        dir.display()
    ))
}

/// The rows without padding, in a colour type PNG has.
fn pack(meta: &FrameMeta, pixels: &[u8]) -> (Vec<u8>, ExtendedColorType) {
    let bpp = meta.format.bytes_per_pixel() as usize;
    let row = meta.width as usize * bpp;
    let mut packed = Vec::with_capacity(row * meta.height as usize);
    for y in 0..meta.height as usize {
        let start = y * meta.stride as usize;
        packed.extend_from_slice(&pixels[start..start + row]);
    }
    let color = match meta.format {
        PixelFormat::Rgba8 => ExtendedColorType::Rgba8,
        PixelFormat::Bgra8 => {
            for px in packed.chunks_exact_mut(4) {
                px.swap(0, 2);
            }
            ExtendedColorType::Rgba8
        }
        PixelFormat::Rgb8 => ExtendedColorType::Rgb8,
        PixelFormat::Gray8 => ExtendedColorType::L8,
        // `save` refuses the other formats before packing.
        _ => ExtendedColorType::L8,
    };
    (packed, color)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test.
    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("shmframe-viewer-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    #[test]
    fn each_format_saves_its_pixels_without_padding() {
        let dir = scratch("formats");
        // 2x2 frames with 3 bytes of padding per row.
        let cases: [(PixelFormat, Vec<u8>, Vec<u8>); 4] = [
            (
                PixelFormat::Rgba8,
                vec![
                    1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0,
                ],
                vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            ),
            (
                PixelFormat::Bgra8,
                vec![
                    3, 2, 1, 4, 7, 6, 5, 8, 0, 0, 0, 11, 10, 9, 12, 15, 14, 13, 16, 0, 0, 0,
                ],
                vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            ),
            (
                PixelFormat::Rgb8,
                vec![1, 2, 3, 4, 5, 6, 0, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0, 0],
                vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            ),
            (
                PixelFormat::Gray8,
                vec![1, 2, 0, 0, 0, 3, 4, 0, 0, 0],
                vec![1, 2, 3, 4],
            ),
        ];
        for (format, pixels, expected) in cases {
            let meta =
                FrameMeta::packed(2, 2, format).with_stride(2 * format.bytes_per_pixel() + 3);
            let path = save(&dir, "cam0", 7, &meta, &pixels).expect("saved");
            let decoded = image::open(&path).expect("a PNG");
            assert_eq!((decoded.width(), decoded.height()), (2, 2));
            assert_eq!(decoded.as_bytes(), &expected[..], "{format}");
            std::fs::remove_file(path).unwrap();
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn snapshots_never_overwrite_each_other() {
        let dir = scratch("names");
        let meta = FrameMeta::packed(1, 1, PixelFormat::Gray8);
        let first = save(&dir, "cam0", 3, &meta, &[9]).unwrap();
        let second = save(&dir, "cam0", 3, &meta, &[9]).unwrap();
        assert_eq!(first, dir.join("shmframe-cam0-3.png"));
        assert_eq!(second, dir.join("shmframe-cam0-3-2.png"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn short_frames_and_bad_directories_are_errors() {
        let meta = FrameMeta::packed(2, 2, PixelFormat::Rgb8);
        let dir = scratch("errors");
        assert!(save(&dir, "x", 1, &meta, &[0; 11])
            .unwrap_err()
            .contains("11 bytes"));
        let missing = dir.join("missing");
        assert!(save(&missing, "x", 1, &meta, &[0; 12])
            .unwrap_err()
            .contains("cannot create"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
