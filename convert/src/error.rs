//! The crate's one error.

use std::path::PathBuf;

/// Why a frame could not be converted or saved.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The metadata is inconsistent, or the bytes are fewer than it needs.
    #[error("bad frame: {0}")]
    BadFrame(String),

    /// The file could not be written.
    #[error("writing {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}
