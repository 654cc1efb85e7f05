//! Frames read from a stream, saved as image files (through shmframe-convert,
//! which the viewer uses too, so both save a frame the same way).

use crate::fail::{CliError, CliResult};
use shmframe::FrameMeta;
use shmframe_convert::{file_kind, FileKind};
use std::path::Path;

/// Saves a frame at `path`: PNG for 8-bit and YUV frames (YUV converted to
/// RGB), 16-bit PNG for Gray16, 32-bit float TIFF for GrayF32.
///
/// A float frame needs a `.tif`/`.tiff` path: a TIFF named `.png` would mislead.
pub fn save_image(meta: &FrameMeta, pixels: &[u8], path: &Path) -> CliResult<FileKind> {
    let kind = file_kind(meta.format);
    if kind == FileKind::TiffF32 && !kind.suits(path) {
        return Err(CliError::new(format!(
            "{} frames keep their exact values only in a 32-bit float TIFF: name the output .tiff (or .tif), not {}",
            meta.format,
            path.display()
        )));
    }
    shmframe_convert::save(meta, pixels, path).map_err(|e| CliError::new(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::PixelFormat;

    #[test]
    fn float_frames_need_a_tiff_name() {
        let dir = tempfile::tempdir().unwrap();
        let meta = FrameMeta::packed(1, 1, PixelFormat::GrayF32);
        let err = save_image(&meta, &[0; 4], &dir.path().join("f.png")).unwrap_err();
        assert!(err.to_string().contains(".tiff"), "{err}");
        assert!(!dir.path().join("f.png").exists());
        let kind = save_image(&meta, &[0; 4], &dir.path().join("f.TIF")).unwrap();
        assert_eq!(kind, FileKind::TiffF32);
    }

    #[test]
    fn short_frames_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let meta = FrameMeta::packed(2, 2, PixelFormat::Bgra8);
        let err = save_image(&meta, &[0; 15], &dir.path().join("x.png")).unwrap_err();
        assert!(err.to_string().contains("needs 16 bytes, got 15"), "{err}");
    }
}
