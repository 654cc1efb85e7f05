//! Image files to frames, with limits on what a file may make us allocate.
//!
//! `probe` reads only a file's header, so every input can be checked, and
//! the writer sized for the largest frame, before anything is published.
//! `frames` then decodes lazily: an animated GIF is streamed frame by frame,
//! never held in memory whole.

use crate::fail::{CliError, CliResult};
use image::codecs::gif::GifDecoder;
use image::{
    AnimationDecoder, ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits,
};
use shmframe::{FrameMeta, PixelFormat};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest width or height of an input image.
pub const MAX_SIDE: u32 = 16384;
/// Most bytes a decoder may allocate for one image.
pub const MAX_ALLOC: u64 = 512 << 20;
/// Delay of a GIF frame that asks for none (or for 10 ms): what browsers use.
const GIF_DEFAULT_DELAY: Duration = Duration::from_millis(100);

/// What kind of source a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One picture.
    Still,
    /// A GIF: one or more frames with their own delays.
    Animation,
}

/// A file whose header has been read and accepted.
#[derive(Clone, Debug)]
pub struct Probe {
    pub path: PathBuf,
    pub kind: Kind,
    /// Bytes of its largest frame once decoded.
    pub frame_len: usize,
}

/// One decoded frame, ready to publish.
pub struct Frame {
    pub meta: FrameMeta,
    pub pixels: Vec<u8>,
    /// How long the file asks for the frame to be shown (GIF frames only).
    pub delay: Option<Duration>,
}

/// Frames of one file, decoded on demand.
pub type Frames = Box<dyn Iterator<Item = CliResult<Frame>>>;

fn limits() -> Limits {
    // `Limits` is non-exhaustive: start from the defaults and tighten.
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// An error about `path`, with the reason.
fn file_error(path: &Path, reason: impl std::fmt::Display) -> CliError {
    CliError::new(format!("{}: {reason}", path.display()))
}

/// A decoding error about `path`, which was recognised as a `format` file.
fn decode_error(path: &Path, format: ImageFormat, err: image::ImageError) -> CliError {
    match err {
        image::ImageError::Limits(_) => file_error(
            path,
            format!(
                "refused: the image is larger than the decoding limits ({MAX_SIDE} pixels a side, {} MiB): {err}",
                MAX_ALLOC >> 20
            ),
        ),
        err => file_error(path, format!("not a valid {format:?} image: {err}")),
    }
}

/// Opens `path` and recognises its format from its content.
fn open(path: &Path) -> CliResult<(ImageReader<BufReader<File>>, ImageFormat)> {
    let file = File::open(path).map_err(|e| file_error(path, e))?;
    if file.metadata().is_ok_and(|m| m.len() == 0) {
        return Err(file_error(path, "not an image: the file is empty"));
    }
    let reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| file_error(path, e))?;
    match reader.format() {
        Some(
            format @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::Bmp),
        ) => Ok((reader, format)),
        Some(other) => Err(file_error(
            path,
            format!("{other:?} images are not supported (use PNG, JPEG, GIF or BMP)"),
        )),
        None => Err(file_error(
            path,
            "not an image: the content is not PNG, JPEG, GIF or BMP",
        )),
    }
}

fn gif_decoder(
    path: &Path,
    reader: ImageReader<BufReader<File>>,
) -> CliResult<GifDecoder<BufReader<File>>> {
    let mut decoder = GifDecoder::new(reader.into_inner())
        .map_err(|e| decode_error(path, ImageFormat::Gif, e))?;
    decoder
        .set_limits(limits())
        .map_err(|e| decode_error(path, ImageFormat::Gif, e))?;
    Ok(decoder)
}

/// Reads `path`'s header and checks its dimensions against the limits.
pub fn probe(path: &Path) -> CliResult<Probe> {
    let (mut reader, format) = open(path)?;
    let (kind, (width, height), format_out) = if format == ImageFormat::Gif {
        let decoder = gif_decoder(path, reader)?;
        (Kind::Animation, decoder.dimensions(), PixelFormat::Rgba8)
    } else {
        reader.limits(limits());
        let decoder = reader
            .into_decoder()
            .map_err(|e| decode_error(path, format, e))?;
        let published = published_format(decoder.color_type());
        (Kind::Still, decoder.dimensions(), published)
    };
    let frame_len = FrameMeta::packed(width, height, format_out)
        .checked_len()
        .map_err(|e| file_error(path, e))?;
    Ok(Probe {
        path: path.to_path_buf(),
        kind,
        frame_len,
    })
}

/// The pixel format a decoded image of `color` is published in.
fn published_format(color: ColorType) -> PixelFormat {
    match color {
        ColorType::L8 => PixelFormat::Gray8,
        ColorType::Rgb8 => PixelFormat::Rgb8,
        // Everything else (alpha, 16-bit, float) is converted to 8-bit RGBA.
        _ => PixelFormat::Rgba8,
    }
}

/// Decodes the frames of a probed file, lazily.
pub fn frames(probe: &Probe) -> CliResult<Frames> {
    let path = probe.path.clone();
    let (mut reader, format) = open(&path)?;
    if format == ImageFormat::Gif {
        let frames = gif_decoder(&path, reader)?.into_frames();
        return Ok(Box::new(frames.map(move |frame| {
            let frame = frame.map_err(|e| decode_error(&path, ImageFormat::Gif, e))?;
            let (numer, denom) = frame.delay().numer_denom_ms();
            let ms = numer.checked_div(denom).unwrap_or(0);
            let delay = match ms {
                0..=10 => GIF_DEFAULT_DELAY,
                ms => Duration::from_millis(u64::from(ms)),
            };
            let buffer = frame.into_buffer();
            let meta = FrameMeta::packed(buffer.width(), buffer.height(), PixelFormat::Rgba8);
            Ok(Frame {
                meta,
                pixels: buffer.into_raw(),
                delay: Some(delay),
            })
        })));
    }
    reader.limits(limits());
    let image = reader
        .decode()
        .map_err(|e| decode_error(&path, format, e))?;
    Ok(Box::new(std::iter::once(Ok(still_frame(image)))))
}

/// A decoded still image as a frame, converted only when the stream has no matching format.
fn still_frame(image: DynamicImage) -> Frame {
    let (width, height) = (image.width(), image.height());
    let (format, pixels) = match image {
        DynamicImage::ImageLuma8(buffer) => (PixelFormat::Gray8, buffer.into_raw()),
        DynamicImage::ImageRgb8(buffer) => (PixelFormat::Rgb8, buffer.into_raw()),
        DynamicImage::ImageRgba8(buffer) => (PixelFormat::Rgba8, buffer.into_raw()),
        other => (PixelFormat::Rgba8, other.to_rgba8().into_raw()),
    };
    Frame {
        meta: FrameMeta::packed(width, height, format),
        pixels,
        delay: None,
    }
}
