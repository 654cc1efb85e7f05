//! The two pages, compiled in: `/` (every stream) and `/stream/NAME` (one).
//!
//! The pages read the stream name from their own address and pass the
//! token they were opened with on to every request they make.

use crate::http::{HttpError, Response};

const INDEX: &str = include_str!("assets/index.html");
const STREAM: &str = include_str!("assets/stream.html");

/// The page listing every stream.
pub fn index() -> Response {
    Response::ok("text/html; charset=utf-8", INDEX.as_bytes().to_vec())
}

/// The page of one stream; 404 when it does not exist.
pub fn stream_page(name: &str) -> Result<Response, HttpError> {
    shmframe::Reader::open(name).map_err(crate::stream_errors::stream_error)?;
    Ok(Response::ok(
        "text/html; charset=utf-8",
        STREAM.as_bytes().to_vec(),
    ))
}
