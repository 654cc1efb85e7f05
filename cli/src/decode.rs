//! Image files to frames, with limits on what a file may make us allocate.
//!
//! `probe` reads only a file's header, so every input can be checked, and
//! the writer sized for the largest frame, before anything is published.
//! `frames` then decodes lazily: an animated GIF is streamed frame by frame,
//! never held in memory whole. `probe_source` and `frames_source` do the same
//! on any seekable reader (the `decode` fuzz target feeds them memory).
//!
//! Codecs are third-party code fed hostile bytes: a panic inside one (the
//! fuzzer found a JPEG that makes zune-jpeg's AVX2 IDCT unwrap `None`) is
//! caught and reported as an invalid file, never a crash.

use crate::fail::{CliError, CliResult};
use image::codecs::gif::GifDecoder;
use image::{
    AnimationDecoder, ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits,
};
use shmframe::{FrameMeta, PixelFormat};
use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
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

/// Runs `decode` (codec calls on `path`, a `format` file) and turns a panic
/// inside it into an error naming the file (see `shmframe_contain`).
fn contained<T>(
    path: &Path,
    format: ImageFormat,
    decode: impl FnOnce() -> CliResult<T>,
) -> CliResult<T> {
    shmframe_contain::contained(decode).unwrap_or_else(|reason| {
        Err(file_error(
            path,
            format!("not a valid {format:?} image: its decoder failed on it ({reason})"),
        ))
    })
}

/// Opens `path`, refusing an empty file.
fn open_file(path: &Path) -> CliResult<BufReader<File>> {
    let file = File::open(path).map_err(|e| file_error(path, e))?;
    if file.metadata().is_ok_and(|m| m.len() == 0) {
        return Err(file_error(path, "not an image: the file is empty"));
    }
    Ok(BufReader::new(file))
}

/// Recognises the format of `source` (the content of `path`) from its content.
fn open<R: BufRead + Seek>(path: &Path, source: R) -> CliResult<(ImageReader<R>, ImageFormat)> {
    let reader = ImageReader::new(source)
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

fn gif_decoder<R: BufRead + Seek>(path: &Path, reader: ImageReader<R>) -> CliResult<GifDecoder<R>> {
    let mut decoder = GifDecoder::new(reader.into_inner())
        .map_err(|e| decode_error(path, ImageFormat::Gif, e))?;
    decoder
        .set_limits(limits())
        .map_err(|e| decode_error(path, ImageFormat::Gif, e))?;
    Ok(decoder)
}

/// Whether `path`'s content starts like an image format the decoders know
/// (supported or not); files that do not are candidates for ffmpeg.
pub fn looks_like_image(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .is_ok_and(|reader| reader.format().is_some())
}

/// Reads `path`'s header and checks its dimensions against the limits.
pub fn probe(path: &Path) -> CliResult<Probe> {
    probe_source(path, open_file(path)?)
}

/// `probe` of `source`, the content of `path` (named in errors).
pub fn probe_source<R: BufRead + Seek>(path: &Path, source: R) -> CliResult<Probe> {
    let (reader, format) = open(path, source)?;
    contained(path, format, || probe_header(path, reader, format))
}

/// `probe` of a file recognised as `format`.
fn probe_header<R: BufRead + Seek>(
    path: &Path,
    mut reader: ImageReader<R>,
    format: ImageFormat,
) -> CliResult<Probe> {
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
    frames_source(&probe.path, open_file(&probe.path)?)
}

/// `frames` of `source`, the content of `path` (named in errors).
pub fn frames_source<R: BufRead + Seek + 'static>(path: &Path, source: R) -> CliResult<Frames> {
    let path = path.to_path_buf();
    let (mut reader, format) = open(&path, source)?;
    if format == ImageFormat::Gif {
        let mut frames = contained(&path, format, || {
            Ok(gif_decoder(&path, reader)?.into_frames())
        })?;
        let mut failed = false;
        // Stops after the first error: a decoder that failed is not asked again.
        let decoded = std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let frame = contained(&path, format, || {
                frames
                    .next()
                    .transpose()
                    .map_err(|e| decode_error(&path, ImageFormat::Gif, e))
            });
            failed = frame.is_err();
            frame.transpose()
        });
        return Ok(Box::new(decoded.map(|frame: CliResult<image::Frame>| {
            let frame = frame?;
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
    let image = contained(&path, format, || {
        reader.decode().map_err(|e| decode_error(&path, format, e))
    })?;
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
