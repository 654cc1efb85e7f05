//! A stream name or an engine error as an HTTP error, for every handler.

use crate::http::HttpError;

/// A stream name from a path, checked: 400 for a name no stream can have.
pub fn stream_name(name: &str) -> Result<&str, HttpError> {
    shmframe::validate_name(name).map_err(|e| HttpError::new(400, e.to_string()))?;
    Ok(name)
}

/// An engine error as an HTTP error: 404 for a stream that does not exist.
pub fn stream_error(err: shmframe::Error) -> HttpError {
    let status = match err {
        shmframe::Error::InvalidName { .. } => 400,
        shmframe::Error::NoStream { .. } => 404,
        shmframe::Error::ForeignOwner { .. } => 403,
        _ => 500,
    };
    HttpError::new(status, err.to_string())
}
