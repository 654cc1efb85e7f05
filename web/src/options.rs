//! What a client asks for in the query: codec, quality, frame rate and width
//! caps, a gray window.

use crate::encode::{GrayWindow, Picture, Variant};
use crate::http::{HttpError, Request};
use std::time::Duration;

/// A client's wishes for the frames it is sent.
#[derive(Clone, Debug)]
pub struct Wishes {
    pub variant: Variant,
    /// Least time between two frames (`max_fps`).
    pub min_interval: Duration,
}

/// Reads `codec` (`jpeg` or `raw`), `quality`, `max_width`, `max_fps`,
/// `gray_min` and `gray_max`; `default_quality` when none is given.
pub fn wishes(request: &Request, default_quality: u8) -> Result<Wishes, HttpError> {
    let picture = picture(request)?;
    let variant = match request.param("codec").unwrap_or("jpeg") {
        "jpeg" => Variant::Jpeg {
            picture,
            quality: quality(request, default_quality)?,
        },
        "raw" => Variant::Rgba(picture),
        other => {
            return Err(HttpError::new(
                400,
                format!("unknown codec `{other}`: use jpeg (the default) or raw"),
            ))
        }
    };
    let min_interval = match request.number::<f64>("max_fps")? {
        None => Duration::ZERO,
        Some(fps) if fps > 0.0 && fps.is_finite() => Duration::from_secs_f64(1.0 / fps),
        Some(fps) => {
            return Err(HttpError::new(
                400,
                format!("max_fps must be above 0, not {fps}"),
            ))
        }
    };
    Ok(Wishes {
        variant,
        min_interval,
    })
}

/// `quality` (1-100) or `default`.
pub fn quality(request: &Request, default: u8) -> Result<u8, HttpError> {
    match request.number::<u8>("quality")? {
        None => Ok(default),
        Some(q) if (1..=100).contains(&q) => Ok(q),
        Some(q) => Err(HttpError::new(
            400,
            format!("quality {q} is not in 1..=100"),
        )),
    }
}

/// `max_width` and the gray window.
pub fn picture(request: &Request) -> Result<Picture, HttpError> {
    let max_width = request.number::<u32>("max_width")?;
    if max_width == Some(0) {
        return Err(HttpError::new(400, "max_width must be at least 1"));
    }
    let gray = match (
        request.number::<f64>("gray_min")?,
        request.number::<f64>("gray_max")?,
    ) {
        (None, None) => None,
        (Some(min), Some(max)) => Some(GrayWindow::new(min, max).ok_or_else(|| {
            HttpError::new(
                400,
                format!("gray window {min}..{max} must be finite with min < max"),
            )
        })?),
        _ => {
            return Err(HttpError::new(
                400,
                "give both gray_min and gray_max, or neither",
            ))
        }
    };
    Ok(Picture { max_width, gray })
}
