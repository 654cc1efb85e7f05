//! Turns the INPUT arguments of `publish` into an ordered list of files.

use crate::fail::{CliError, CliResult};
use std::path::{Path, PathBuf};

/// File extensions taken from a directory (compared case-insensitively).
/// Files named explicitly are taken whatever their extension; their content decides.
pub const IMAGE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "gif", "bmp"];

/// Files to publish, in order: each file as given, each directory's images by name.
pub fn expand(inputs: &[PathBuf]) -> CliResult<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .map_err(|e| CliError::new(format!("{}: {e}", input.display())))?;
        if meta.is_dir() {
            let images = directory_images(input)?;
            if images.is_empty() {
                return Err(CliError::new(format!(
                    "{}: the directory has no images ({})",
                    input.display(),
                    IMAGE_EXTENSIONS.join(", ")
                )));
            }
            files.extend(images);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// The image files directly inside `dir`, sorted by name.
fn directory_images(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let read_error = |e: std::io::Error| CliError::new(format!("{}: {e}", dir.display()));
    let mut images = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if has_image_extension(&path) && path.is_file() {
            images.push(path);
        }
    }
    images.sort();
    Ok(images)
}

fn has_image_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        IMAGE_EXTENSIONS
            .iter()
            .any(|known| e.eq_ignore_ascii_case(known))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_give_their_images_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.PNG", "a.jpg", "c.gif", "notes.txt", "d.bmp"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("e.png")).unwrap();
        let names: Vec<String> = expand(&[dir.path().to_path_buf()])
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.jpg", "b.PNG", "c.gif", "d.bmp"]);
    }

    #[test]
    fn empty_directories_and_missing_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = expand(&[dir.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("has no images"), "{err}");
        let missing = dir.path().join("missing.png");
        let err = expand(&[missing]).unwrap_err().to_string();
        assert!(err.contains("missing.png"), "{err}");
    }
}
