//! Whole messages: a frame to header + payload on the sending side, and a
//! received message checked and decoded into a frame on the receiving side.

use crate::codec::{self, Codec};
use crate::error::{Error, Result};
use crate::wire::{CodecId, Limits, WireHeader, HEADER_LEN};
use shmframe::{FrameInfo, FrameMeta};

/// Who sent a message, and when: the fields the exporter adds to each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Random per exporter run.
    pub source_id: u64,
    /// Message number from this source, from 1.
    pub seq: u64,
    /// CLOCK_REALTIME nanoseconds at sending.
    pub sent_unix_ns: u64,
}

/// A message in two parts, so a raw frame's pixels are handed over without a copy.
#[derive(Debug)]
pub struct Outgoing {
    /// The encoded header.
    pub header: [u8; HEADER_LEN],
    /// The payload that follows it.
    pub payload: Vec<u8>,
    /// The codec that encoded the payload.
    pub codec: Codec,
}

impl Outgoing {
    /// Encodes `pixels`, the frame `info` read from the local stream, with
    /// `codec` (or its fallback for this frame). A raw frame's buffer is taken
    /// (left empty) rather than copied; otherwise `pixels` is left as it is.
    pub fn encode(
        codec: Codec,
        info: &FrameInfo,
        pixels: &mut Vec<u8>,
        stamp: Stamp,
    ) -> Result<Self> {
        if pixels.len() != info.len {
            return Err(Error::Encode {
                reason: format!("{} bytes for a frame of {}", pixels.len(), info.len),
            });
        }
        let used = codec.for_frame(&info.meta);
        let payload = if used == Codec::Raw {
            std::mem::take(pixels)
        } else {
            let mut out = Vec::new();
            codec::encode(used, &info.meta, pixels, &mut out)?;
            out
        };
        let header = WireHeader {
            codec: used.id(),
            format_code: info.meta.format.code(),
            width: info.meta.width,
            height: info.meta.height,
            stride: info.meta.stride,
            // The engine stores 0 for formats other than YUV.
            colour: info.meta.color.word() as u32,
            frame_len: info.len as u64,
            payload_len: payload.len() as u64,
            source_id: stamp.source_id,
            seq: stamp.seq,
            frame_number: info.number,
            timestamp_ns: info.timestamp_ns,
            sent_unix_ns: stamp.sent_unix_ns,
        };
        Ok(Outgoing {
            header: header.encode(),
            payload,
            codec: used,
        })
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Never true: a message has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The message as one contiguous buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        v.extend_from_slice(&self.header);
        v.extend_from_slice(&self.payload);
        v
    }
}

/// A received message that passed every check.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    /// Its header.
    pub header: WireHeader,
    /// The frame's metadata, for publishing it locally.
    pub meta: FrameMeta,
}

/// Checks `message` (untrusted) and decodes its frame into `out` (resized to
/// the frame's length, reusing its allocation).
///
/// Any inconsistency is an [`Error::Refused`]; nothing larger than
/// `limits.max_frame_bytes` is allocated, and a compressed payload must be
/// large enough for the frame it claims before the frame is allocated.
pub fn decode_message(message: &[u8], limits: &Limits, out: &mut Vec<u8>) -> Result<Received> {
    let (received, payload) = check_message(message, limits)?;
    out.resize(received.header.frame_len as usize, 0);
    codec::decode(received.header.codec, &received.meta, payload, out)?;
    Ok(received)
}

/// As [`decode_message`], but returns the frame's bytes: a raw payload as it
/// lies in `message` (no copy), anything else decoded into `out`.
pub fn decode_frame<'a>(
    message: &'a [u8],
    limits: &Limits,
    out: &'a mut Vec<u8>,
) -> Result<(Received, &'a [u8])> {
    let (received, payload) = check_message(message, limits)?;
    if received.header.codec == CodecId::Raw {
        // `check_message` checked its length is the frame's.
        return Ok((received, payload));
    }
    out.resize(received.header.frame_len as usize, 0);
    codec::decode(received.header.codec, &received.meta, payload, out)?;
    Ok((received, out.as_slice()))
}

/// The header checks, and whether the payload can be large enough for the frame.
fn check_message<'m>(message: &'m [u8], limits: &Limits) -> Result<(Received, &'m [u8])> {
    let (header, payload) = WireHeader::parse(message, limits)?;
    let meta = header.meta()?;
    // `parse` checked frame_len against the geometry and the limit.
    let len = header.frame_len as usize;
    if let Some(ratio) = max_expansion(header.codec) {
        if (payload.len() as u64)
            .saturating_mul(ratio)
            .saturating_add(64)
            < len as u64
        {
            return Err(Error::refused(format!(
                "{} payload bytes cannot expand to a frame of {len} with {}",
                payload.len(),
                header.codec.name()
            )));
        }
    }
    if header.codec == CodecId::Raw && payload.len() != len {
        return Err(Error::refused(format!(
            "{} raw payload bytes for a frame of {len}",
            payload.len()
        )));
    }
    Ok((Received { header, meta }, payload))
}

/// Most output bytes one payload byte can give, where the format bounds it.
fn max_expansion(codec: CodecId) -> Option<u64> {
    match codec {
        CodecId::Raw => Some(1),
        // An LZ4 match token extends by at most 255 bytes per input byte.
        CodecId::Lz4 => Some(255),
        // A QOI run byte stands for up to 62 pixels of 4 bytes.
        CodecId::Qoi => Some(62 * 4),
        // JPEG has no useful bound (a flat image is tiny); the limit bounds it.
        CodecId::Jpeg => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::PixelFormat;

    fn frame(meta: FrameMeta) -> (FrameInfo, Vec<u8>) {
        let len = meta.checked_len().unwrap();
        let info = FrameInfo {
            number: 42,
            timestamp_ns: 1_000,
            index: 42,
            published_ns: 1_000,
            meta,
            len,
            missed: 0,
        };
        (info, (0..len).map(|i| (i * 13 % 256) as u8).collect())
    }

    const STAMP: Stamp = Stamp {
        source_id: 5,
        seq: 3,
        sent_unix_ns: 9,
    };

    #[test]
    fn messages_round_trip_with_their_metadata() {
        for codec in [Codec::Raw, Codec::Lz4, Codec::Qoi] {
            let (info, pixels) = frame(FrameMeta::packed(20, 10, PixelFormat::Bgra8));
            let msg = Outgoing::encode(codec, &info, &mut pixels.clone(), STAMP).unwrap();
            let mut out = Vec::new();
            let got = decode_message(&msg.to_vec(), &Limits::default(), &mut out).unwrap();
            assert_eq!(out, pixels);
            let bytes = msg.to_vec();
            let mut other = Vec::new();
            let (_, frame) = decode_frame(&bytes, &Limits::default(), &mut other).unwrap();
            assert_eq!(frame, pixels);
            assert_eq!(got.meta, info.meta);
            assert_eq!(
                (got.header.frame_number, got.header.timestamp_ns),
                (42, 1_000)
            );
            assert_eq!((got.header.source_id, got.header.seq), (5, 3));
        }
    }

    #[test]
    fn a_small_payload_cannot_claim_a_huge_frame() {
        let (info, mut pixels) = frame(FrameMeta::packed(4, 4, PixelFormat::Rgba8));
        let msg = Outgoing::encode(Codec::Lz4, &info, &mut pixels, STAMP).unwrap();
        let mut bytes = msg.to_vec();
        let mut header = WireHeader::parse(&bytes, &Limits::default()).unwrap().0;
        (header.width, header.height, header.stride) = (4096, 4096, 4096 * 4);
        header.frame_len = 4096 * 4096 * 4;
        bytes[..HEADER_LEN].copy_from_slice(&header.encode());
        let mut out = Vec::new();
        let err = decode_message(&bytes, &Limits::default(), &mut out).unwrap_err();
        assert!(err.to_string().contains("cannot expand"), "{err}");
        assert!(out.capacity() < 1 << 20, "allocated for the claim");
    }
}
