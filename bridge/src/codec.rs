//! The payload codecs: raw, LZ4, QOI (lossless) and JPEG (lossy).
//!
//! A codec that cannot carry a frame exactly as it is (QOI and JPEG need
//! packed rows of a known layout) falls back to LZ4 for that frame, so every
//! pixel format, including ones added after this build, crosses the link; the
//! codec actually used travels in each message.

use crate::error::{Error, Result};
use crate::wire::CodecId;
use shmframe::{FrameMeta, PixelFormat};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// A codec as chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// The bytes as they are.
    Raw,
    /// LZ4 block compression of the bytes (lossless, any format).
    Lz4,
    /// QOI (lossless) for packed 3- and 4-byte pixels.
    Qoi,
    /// JPEG at a quality of 1..=100 (lossy; alpha becomes 255).
    Jpeg {
        /// 1 (smallest) ..= 100 (best).
        quality: u8,
    },
}

/// The default codec: the lossless one picked from the measurements in docs/benchmarks.md.
pub const DEFAULT_LOSSLESS: Codec = Codec::Qoi;

impl Codec {
    /// The codec's wire code.
    pub fn id(self) -> CodecId {
        match self {
            Codec::Raw => CodecId::Raw,
            Codec::Lz4 => CodecId::Lz4,
            Codec::Qoi => CodecId::Qoi,
            Codec::Jpeg { .. } => CodecId::Jpeg,
        }
    }

    /// The codec that carries this frame: `self`, or LZ4 where `self` cannot.
    pub fn for_frame(self, meta: &FrameMeta) -> Codec {
        let usable = match self {
            Codec::Raw | Codec::Lz4 => true,
            Codec::Qoi => qoi_channels(meta).is_some(),
            Codec::Jpeg { .. } => jpeg_colour(meta).is_some(),
        };
        if usable {
            self
        } else {
            Codec::Lz4
        }
    }

    /// Parses `raw`, `lz4`, `qoi`, `lossless` or `jpeg[:QUALITY]` (default quality 85).
    pub fn parse(text: &str) -> Result<Codec> {
        let bad = || {
            Error::Usage(format!(
                "unknown codec `{text}`: use raw, lossless, lz4, qoi, jpeg or jpeg:QUALITY (1-100)"
            ))
        };
        Ok(match text {
            "raw" => Codec::Raw,
            "lz4" => Codec::Lz4,
            "qoi" => Codec::Qoi,
            "lossless" => DEFAULT_LOSSLESS,
            "jpeg" => Codec::Jpeg { quality: 85 },
            _ => {
                let quality = text.strip_prefix("jpeg:").ok_or_else(bad)?;
                match quality.parse::<u8>() {
                    Ok(q @ 1..=100) => Codec::Jpeg { quality: q },
                    _ => return Err(bad()),
                }
            }
        })
    }
}

/// QOI channels for a frame whose rows are packed 3- or 4-byte pixels.
fn qoi_channels(meta: &FrameMeta) -> Option<u8> {
    let bpp = meta.format.bytes_per_pixel();
    let packed = u64::from(meta.stride) == u64::from(meta.width) * u64::from(bpp);
    match bpp {
        3 | 4 if packed => Some(bpp as u8),
        _ => None,
    }
}

/// JPEG's encoder input and decoder output layout for a packed frame of a known format.
fn jpeg_colour(meta: &FrameMeta) -> Option<(jpeg_encoder::ColorType, ColorSpace)> {
    use jpeg_encoder::ColorType;
    const TABLE: [(PixelFormat, ColorType, ColorSpace); 5] = [
        (PixelFormat::Rgba8, ColorType::Rgba, ColorSpace::RGBA),
        (PixelFormat::Bgra8, ColorType::Bgra, ColorSpace::BGRA),
        (PixelFormat::Rgb8, ColorType::Rgb, ColorSpace::RGB),
        (PixelFormat::Bgr8, ColorType::Bgr, ColorSpace::BGR),
        (PixelFormat::Gray8, ColorType::Luma, ColorSpace::Luma),
    ];
    let bpp = meta.format.bytes_per_pixel();
    let packed = u64::from(meta.stride) == u64::from(meta.width) * u64::from(bpp);
    let fits = meta.width <= u32::from(u16::MAX) && meta.height <= u32::from(u16::MAX);
    TABLE
        .into_iter()
        .find(|(format, _, _)| *format == meta.format)
        .filter(|_| packed && fits)
        .map(|(_, encode, decode)| (encode, decode))
}

/// Appends `pixels` (a frame described by `meta`) to `out`, encoded with
/// `codec.for_frame(meta)`; returns the codec used.
pub fn encode(codec: Codec, meta: &FrameMeta, pixels: &[u8], out: &mut Vec<u8>) -> Result<Codec> {
    let codec = codec.for_frame(meta);
    let encode_error = |e: &dyn std::fmt::Display| Error::Encode {
        reason: format!("{}: {e}", codec.id().name()),
    };
    match codec {
        Codec::Raw => out.extend_from_slice(pixels),
        Codec::Lz4 => {
            let start = out.len();
            out.resize(
                start + lz4_flex::block::get_maximum_output_size(pixels.len()),
                0,
            );
            let n = lz4_flex::block::compress_into(pixels, &mut out[start..])
                .map_err(|e| encode_error(&e))?;
            out.truncate(start + n);
        }
        Codec::Qoi => {
            let encoder =
                qoi::Encoder::new(pixels, meta.width, meta.height).map_err(|e| encode_error(&e))?;
            let start = out.len();
            out.resize(start + encoder.required_buf_len(), 0);
            let n = encoder
                .encode_to_buf(&mut out[start..])
                .map_err(|e| encode_error(&e))?;
            out.truncate(start + n);
        }
        Codec::Jpeg { quality } => {
            let (colour, _) = jpeg_colour(meta).ok_or_else(|| encode_error(&"unsupported"))?;
            // `jpeg_colour` checked both sides fit in u16.
            let encoder = jpeg_encoder::Encoder::new(&mut *out, quality);
            encoder
                .encode(pixels, meta.width as u16, meta.height as u16, colour)
                .map_err(|e| encode_error(&e))?;
        }
    }
    Ok(codec)
}

/// Decodes `payload` (untrusted) into `out`, which must be exactly the length
/// of the frame `meta` describes; the payload must reconstruct exactly that.
///
/// A decoder that panics on a crafted payload (zune-jpeg has asserts that
/// some JPEGs trip) refuses it like any other bad payload; `out` then holds
/// garbage, as after any error.
pub fn decode(codec: CodecId, meta: &FrameMeta, payload: &[u8], out: &mut [u8]) -> Result<()> {
    shmframe_contain::contained(|| decode_payload(codec, meta, payload, out)).unwrap_or_else(
        |reason| {
            Err(Error::refused(format!(
                "bad {} payload: its decoder failed on it ({reason})",
                codec.name()
            )))
        },
    )
}

/// [`decode`], unguarded.
fn decode_payload(codec: CodecId, meta: &FrameMeta, payload: &[u8], out: &mut [u8]) -> Result<()> {
    let refuse = |what: &dyn std::fmt::Display| {
        Error::refused(format!("bad {} payload: {what}", codec.name()))
    };
    match codec {
        CodecId::Raw => {
            if payload.len() != out.len() {
                return Err(refuse(&format_args!(
                    "{} bytes for a frame of {}",
                    payload.len(),
                    out.len()
                )));
            }
            out.copy_from_slice(payload);
        }
        CodecId::Lz4 => {
            let n = lz4_flex::block::decompress_into(payload, out).map_err(|e| refuse(&e))?;
            if n != out.len() {
                return Err(refuse(&format_args!(
                    "{n} bytes for a frame of {}",
                    out.len()
                )));
            }
        }
        CodecId::Qoi => {
            let channels =
                qoi_channels(meta).ok_or_else(|| refuse(&"the frame is not packed RGB or RGBA"))?;
            let header = qoi::decode_header(payload).map_err(|e| refuse(&e))?;
            if (header.width, header.height, header.channels.as_u8())
                != (meta.width, meta.height, channels)
            {
                return Err(refuse(&format_args!(
                    "a {}x{} image of {} channels for a {}x{} frame of {channels}",
                    header.width,
                    header.height,
                    header.channels.as_u8(),
                    meta.width,
                    meta.height
                )));
            }
            let mut decoder = qoi::Decoder::new(payload).map_err(|e| refuse(&e))?;
            if decoder.required_buf_len() != out.len() {
                return Err(refuse(&"image size does not match the frame"));
            }
            decoder.decode_to_buf(&mut *out).map_err(|e| refuse(&e))?;
        }
        CodecId::Jpeg => {
            let (_, colour) =
                jpeg_colour(meta).ok_or_else(|| refuse(&"the frame's format has no JPEG form"))?;
            let options = DecoderOptions::default()
                .set_max_width(meta.width as usize)
                .set_max_height(meta.height as usize)
                .jpeg_set_out_colorspace(colour);
            let mut decoder =
                zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(payload), options);
            decoder.decode_headers().map_err(|e| refuse(&e))?;
            let (w, h) = decoder
                .dimensions()
                .ok_or_else(|| refuse(&"no dimensions"))?;
            if (w as u32, h as u32) != (meta.width, meta.height)
                || decoder.output_buffer_size() != Some(out.len())
            {
                return Err(refuse(&format_args!(
                    "a {w}x{h} image for a {}x{} frame",
                    meta.width, meta.height
                )));
            }
            decoder.decode_into(out).map_err(|e| refuse(&e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(meta: &FrameMeta) -> Vec<u8> {
        let len = meta.checked_len().unwrap();
        (0..len).map(|i| ((i / 7) % 251) as u8).collect()
    }

    fn round_trip(codec: Codec, meta: &FrameMeta) -> (Codec, Vec<u8>, Vec<u8>) {
        let pixels = gradient(meta);
        let mut payload = Vec::new();
        let used = encode(codec, meta, &pixels, &mut payload).unwrap();
        let mut out = vec![0u8; pixels.len()];
        decode(used.id(), meta, &payload, &mut out).unwrap();
        (used, pixels, out)
    }

    #[test]
    fn lossless_codecs_reconstruct_every_byte() {
        for format in PixelFormat::ALL {
            let meta = FrameMeta::packed(34, 17, format);
            for codec in [Codec::Raw, Codec::Lz4, Codec::Qoi] {
                let (_, pixels, out) = round_trip(codec, &meta);
                assert_eq!(pixels, out, "{codec:?} {format}");
            }
        }
    }

    #[test]
    fn padded_rows_fall_back_to_lz4() {
        let meta = FrameMeta {
            stride: 40 * 4 + 12,
            ..FrameMeta::packed(40, 9, PixelFormat::Rgba8)
        };
        for codec in [Codec::Qoi, Codec::Jpeg { quality: 90 }] {
            let (used, pixels, out) = round_trip(codec, &meta);
            assert_eq!(used, Codec::Lz4);
            assert_eq!(pixels, out);
        }
        let gray = FrameMeta::packed(8, 8, PixelFormat::Gray8);
        assert_eq!(Codec::Qoi.for_frame(&gray), Codec::Lz4);
    }

    #[test]
    fn jpeg_stays_close() {
        // A smooth image: JPEG at quality 95 keeps every channel within a few
        // levels, and the channels come back in the frame's byte order (the
        // three channels differ, so a swap would show as a large error).
        let pixels: Vec<u8> = (0..48u32)
            .flat_map(|y| (0..64u32).flat_map(move |x| [(x * 4) as u8, (y * 5) as u8, 128]))
            .collect();
        for format in [PixelFormat::Rgb8, PixelFormat::Bgr8] {
            let meta = FrameMeta::packed(64, 48, format);
            let mut payload = Vec::new();
            let used = encode(Codec::Jpeg { quality: 95 }, &meta, &pixels, &mut payload).unwrap();
            assert_eq!(used, Codec::Jpeg { quality: 95 }, "{format}");
            let mut out = vec![0u8; pixels.len()];
            decode(CodecId::Jpeg, &meta, &payload, &mut out).unwrap();
            let worst = pixels
                .iter()
                .zip(&out)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(worst <= 12, "{format}: worst channel error {worst}");
        }
    }

    #[test]
    fn payloads_that_do_not_match_the_frame_are_refused() {
        let meta = FrameMeta::packed(16, 16, PixelFormat::Rgba8);
        let mut out = vec![0u8; 16 * 16 * 4];
        for codec in [CodecId::Raw, CodecId::Lz4, CodecId::Qoi, CodecId::Jpeg] {
            assert!(
                decode(codec, &meta, &[0xff; 100], &mut out).is_err(),
                "{codec:?}"
            );
        }
        // A valid QOI image of another size.
        let other = FrameMeta::packed(8, 8, PixelFormat::Rgba8);
        let mut payload = Vec::new();
        encode(Codec::Qoi, &other, &gradient(&other), &mut payload).unwrap();
        assert!(decode(CodecId::Qoi, &meta, &payload, &mut out).is_err());
        // An LZ4 block that expands to less than the frame.
        let mut payload = Vec::new();
        encode(Codec::Lz4, &other, &gradient(&other), &mut payload).unwrap();
        assert!(decode(CodecId::Lz4, &meta, &payload, &mut out).is_err());
    }

    #[test]
    fn codec_names_parse() {
        assert_eq!(
            Codec::parse("jpeg:70").unwrap(),
            Codec::Jpeg { quality: 70 }
        );
        assert_eq!(Codec::parse("lossless").unwrap(), DEFAULT_LOSSLESS);
        assert!(Codec::parse("jpeg:0").is_err());
        assert!(Codec::parse("png").is_err());
    }
}
