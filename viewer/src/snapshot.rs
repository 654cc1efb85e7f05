//! Saving the frame on screen as an image file, as `shmframe snapshot` does
//! (both through shmframe-convert): PNG for 8-bit and YUV frames, 16-bit PNG
//! for Gray16, 32-bit float TIFF for GrayF32.

use shmframe::FrameMeta;
use shmframe_convert::{file_kind, FrameView};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// Saves the frame as `shmframe-<name>-<number>.png` (`.tiff` for GrayF32) in
/// `dir`, never overwriting a file (a `-2`, `-3`, ... suffix is added), and
/// returns its path.
///
/// RGBA and BGRA frames are saved as RGBA, RGB and BGR as RGB, grey as grey,
/// YUV converted to RGB with the frame's matrix and range; Gray16 and GrayF32
/// keep their exact values. Stride padding is dropped.
pub fn save(
    dir: &Path,
    name: &str,
    number: u64,
    meta: &FrameMeta,
    pixels: &[u8],
) -> Result<PathBuf, String> {
    let view = FrameView::new(meta, pixels).map_err(|e| e.to_string())?;
    let ext = file_kind(meta.format).extension();
    for attempt in 1u32..=1000 {
        let file_name = match attempt {
            1 => format!("shmframe-{name}-{number}.{ext}"),
            n => format!("shmframe-{name}-{number}-{n}.{ext}"),
        };
        let path = dir.join(file_name);
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        };
        return match shmframe_convert::write(&view, file) {
            Ok(_) => Ok(path),
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

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::PixelFormat;

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
    fn wide_gray_keeps_its_values() {
        let dir = scratch("wide");
        let meta = FrameMeta::packed(2, 1, PixelFormat::Gray16);
        let path = save(&dir, "d", 1, &meta, &[1, 2, 3, 4]).unwrap();
        let decoded = image::open(&path).unwrap().into_luma16();
        assert_eq!(decoded.into_raw(), [0x0201, 0x0403]);
        let meta = FrameMeta::packed(1, 1, PixelFormat::GrayF32);
        let path = save(&dir, "d", 2, &meta, &1.5f32.to_le_bytes()).unwrap();
        assert_eq!(path, dir.join("shmframe-d-2.tiff"));
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
            .contains("got 11"));
        let missing = dir.join("missing");
        assert!(save(&missing, "x", 1, &meta, &[0; 12])
            .unwrap_err()
            .contains("cannot create"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
