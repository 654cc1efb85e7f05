//! `/snapshot/NAME.png` (exact, as `shmframe snapshot` saves it),
//! `/snapshot/NAME.tiff` (float gray), `/snapshot/NAME.jpg`.

use crate::context::Context;
use crate::encode::Variant;
use crate::http::{HttpError, Request, Response};
use crate::options::{picture, quality};
use crate::stream_errors::{stream_error, stream_name};
use shmframe::PixelFormat;
use std::time::Duration;

/// How long a snapshot waits for a stream's first frame.
const FIRST_FRAME: Duration = Duration::from_secs(2);

/// Answers `/snapshot/FILE`.
pub fn serve(request: &Request, file: &str, context: &Context) -> Result<Response, HttpError> {
    let (name, extension) = file
        .rsplit_once('.')
        .ok_or_else(|| HttpError::new(404, "ask for /snapshot/NAME.png, .jpg or .tiff"))?;
    let name = stream_name(name)?;
    let watch = context.hub.watch(name).map_err(stream_error)?;
    let frame = watch
        .latest()
        .or_else(|| watch.newer_than(0, FIRST_FRAME))
        .ok_or_else(|| match watch.error() {
            Some(reason) => HttpError::new(500, format!("reading stream `{name}`: {reason}")),
            None => HttpError::new(404, format!("stream `{name}` has no frame yet")),
        })?;
    let float = frame.info.meta.format == PixelFormat::GrayF32;
    let variant = match extension {
        "png" if float => {
            return Err(HttpError::new(
                409,
                format!("grayf32le frames keep their exact values only in a float TIFF: ask for /snapshot/{name}.tiff (or .jpg for a picture)"),
            ))
        }
        "tiff" | "tif" if !float => {
            return Err(HttpError::new(
                409,
                format!("only grayf32le frames are served as TIFF: ask for /snapshot/{name}.png"),
            ))
        }
        "png" | "tiff" | "tif" => Variant::File,
        "jpg" | "jpeg" => Variant::Jpeg {
            picture: picture(request)?,
            quality: quality(request, context.config.quality)?,
        },
        other => {
            return Err(HttpError::new(
                404,
                format!("no snapshot as .{other}: ask for .png, .jpg or .tiff"),
            ))
        }
    };
    let encoding = frame
        .encoded(&variant)
        .map_err(|e| HttpError::new(500, format!("encoding frame {}: {e}", frame.info.number)))?;
    let mut response = Response::ok(encoding.mime, encoding.bytes.clone());
    response
        .headers
        .push(format!("X-Frame-Number: {}", frame.info.number));
    Ok(response)
}
