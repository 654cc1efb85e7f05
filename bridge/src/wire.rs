//! The bridge's wire format: a fixed little-endian header, then the payload.
//!
//! `docs/bridge.md` describes it byte by byte. Every field of a received
//! message is untrusted: [`WireHeader::parse`] checks each one before anything
//! is allocated or decoded, and [`crate::decode_message`] checks the payload
//! against the header.

use crate::error::{Error, Result};
use shmframe::{Colorimetry, FrameMeta, PixelFormat};

/// The first four bytes of every message.
pub const MAGIC: [u8; 4] = *b"SFBR";
/// Wire format version; a different major meaning gets a new number.
pub const VERSION: u16 = 1;
/// Bytes of the version 1 header. A longer `header_len` is allowed (fields a
/// later sender appends); this version skips the extra bytes.
pub const HEADER_LEN: usize = 96;
/// Longest header accepted.
pub const MAX_HEADER_LEN: usize = 4096;

/// How the payload encodes the frame's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CodecId {
    /// The frame's bytes as they are.
    Raw = 0,
    /// An LZ4 block of the frame's bytes.
    Lz4 = 1,
    /// A QOI image of the packed 3- or 4-byte pixels.
    Qoi = 2,
    /// A baseline JPEG image (lossy).
    Jpeg = 3,
}

impl CodecId {
    /// The codec with this code, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Raw, Self::Lz4, Self::Qoi, Self::Jpeg]
            .into_iter()
            .find(|c| *c as u8 == code)
    }

    /// Short lower-case name, as `--codec` spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Lz4 => "lz4",
            Self::Qoi => "qoi",
            Self::Jpeg => "jpeg",
        }
    }
}

/// Byte offsets of the header fields.
mod offset {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 4;
    pub const HEADER_LEN: usize = 6;
    pub const CODEC: usize = 8;
    pub const FLAGS: usize = 9;
    pub const FORMAT: usize = 12;
    pub const WIDTH: usize = 16;
    pub const HEIGHT: usize = 20;
    pub const STRIDE: usize = 24;
    pub const COLOUR: usize = 28;
    pub const FRAME_LEN: usize = 32;
    pub const PAYLOAD_LEN: usize = 40;
    pub const SOURCE_ID: usize = 48;
    pub const SEQ: usize = 56;
    pub const FRAME_NUMBER: usize = 64;
    pub const TIMESTAMP_NS: usize = 72;
    pub const SENT_UNIX_NS: usize = 80;
}

/// Everything the header of one message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireHeader {
    /// How the payload is encoded.
    pub codec: CodecId,
    /// The frame's pixel format code (`shmframe::PixelFormat::code`).
    pub format_code: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row stride in bytes of the reconstructed frame.
    pub stride: u32,
    /// Colour description of a YUV frame: matrix code in the low byte, range
    /// code in the next (`shmframe::Colorimetry::word`); 0 = BT.601 limited
    /// range, what untagged video means, and always 0 for other formats.
    pub colour: u32,
    /// Bytes of the reconstructed frame (`stride * height`).
    pub frame_len: u64,
    /// Bytes of payload after the header.
    pub payload_len: u64,
    /// Random number chosen by each exporter run: frame numbers restart with it.
    pub source_id: u64,
    /// Message number from this source, 1 for the first: a gap is a message the network lost.
    pub seq: u64,
    /// The frame's number in the sender's local stream.
    pub frame_number: u64,
    /// The sender's CLOCK_MONOTONIC nanoseconds at which the frame was published locally.
    pub timestamp_ns: u64,
    /// The sender's CLOCK_REALTIME nanoseconds (since the Unix epoch) at which it was sent.
    pub sent_unix_ns: u64,
}

/// What a receiver accepts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest reconstructed frame, in bytes; larger claims are refused before any allocation.
    pub max_frame_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // An 8K RGBA frame is 133 MB.
        Limits {
            max_frame_bytes: 256 << 20,
        }
    }
}

impl WireHeader {
    /// The header as bytes, for a payload of `payload_len` bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[offset::MAGIC..offset::MAGIC + 4].copy_from_slice(&MAGIC);
        put16(&mut b, offset::VERSION, VERSION);
        put16(&mut b, offset::HEADER_LEN, HEADER_LEN as u16);
        b[offset::CODEC] = self.codec as u8;
        b[offset::FLAGS] = 0;
        put32(&mut b, offset::FORMAT, self.format_code);
        put32(&mut b, offset::WIDTH, self.width);
        put32(&mut b, offset::HEIGHT, self.height);
        put32(&mut b, offset::STRIDE, self.stride);
        put32(&mut b, offset::COLOUR, self.colour);
        put64(&mut b, offset::FRAME_LEN, self.frame_len);
        put64(&mut b, offset::PAYLOAD_LEN, self.payload_len);
        put64(&mut b, offset::SOURCE_ID, self.source_id);
        put64(&mut b, offset::SEQ, self.seq);
        put64(&mut b, offset::FRAME_NUMBER, self.frame_number);
        put64(&mut b, offset::TIMESTAMP_NS, self.timestamp_ns);
        put64(&mut b, offset::SENT_UNIX_NS, self.sent_unix_ns);
        b
    }

    /// Parses and checks the header of `message`; returns it with the payload.
    ///
    /// Checks the magic, version, header and payload lengths against the
    /// message's real length, the codec, the pixel format, and the frame's
    /// geometry and length against `limits`.
    pub fn parse<'m>(message: &'m [u8], limits: &Limits) -> Result<(WireHeader, &'m [u8])> {
        if message.len() < HEADER_LEN {
            return Err(Error::refused(format!(
                "{} bytes is shorter than the {HEADER_LEN}-byte header",
                message.len()
            )));
        }
        if message[..4] != MAGIC {
            return Err(Error::refused("it does not start with the bridge magic"));
        }
        let version = get16(message, offset::VERSION);
        if version != VERSION {
            return Err(Error::refused(format!(
                "wire version {version}, but this build reads version {VERSION}"
            )));
        }
        let header_len = usize::from(get16(message, offset::HEADER_LEN));
        if !(HEADER_LEN..=MAX_HEADER_LEN).contains(&header_len) || header_len > message.len() {
            return Err(Error::refused(format!(
                "header length {header_len} is outside {HEADER_LEN}..={MAX_HEADER_LEN} or longer than the message ({} bytes)",
                message.len()
            )));
        }
        let code = message[offset::CODEC];
        let codec = CodecId::from_code(code)
            .ok_or_else(|| Error::refused(format!("unknown codec {code}")))?;
        let flags = message[offset::FLAGS];
        if flags != 0 {
            return Err(Error::refused(format!("unknown flags {flags:#04x}")));
        }
        let header = WireHeader {
            codec,
            format_code: get32(message, offset::FORMAT),
            width: get32(message, offset::WIDTH),
            height: get32(message, offset::HEIGHT),
            stride: get32(message, offset::STRIDE),
            colour: get32(message, offset::COLOUR),
            frame_len: get64(message, offset::FRAME_LEN),
            payload_len: get64(message, offset::PAYLOAD_LEN),
            source_id: get64(message, offset::SOURCE_ID),
            seq: get64(message, offset::SEQ),
            frame_number: get64(message, offset::FRAME_NUMBER),
            timestamp_ns: get64(message, offset::TIMESTAMP_NS),
            sent_unix_ns: get64(message, offset::SENT_UNIX_NS),
        };
        let payload = &message[header_len..];
        if header.payload_len != payload.len() as u64 {
            return Err(Error::refused(format!(
                "header claims {} payload bytes, the message carries {}",
                header.payload_len,
                payload.len()
            )));
        }
        let meta = header.meta()?;
        let len = meta
            .checked_len()
            .map_err(|e| Error::refused(e.to_string()))?;
        if header.frame_len != len as u64 {
            return Err(Error::refused(format!(
                "frame length {} does not match stride {} x height {}",
                header.frame_len, header.stride, header.height
            )));
        }
        if len > limits.max_frame_bytes {
            return Err(Error::refused(format!(
                "a frame of {len} bytes exceeds the limit of {} bytes",
                limits.max_frame_bytes
            )));
        }
        Ok((header, payload))
    }

    /// The frame metadata the header describes (its geometry unchecked beyond the format code).
    pub fn meta(&self) -> Result<FrameMeta> {
        let format = PixelFormat::from_code(self.format_code).ok_or_else(|| {
            Error::refused(format!(
                "unknown pixel format code {} (a newer sender?)",
                self.format_code
            ))
        })?;
        let color = Colorimetry::from_word(u64::from(self.colour)).ok_or_else(|| {
            Error::refused(format!(
                "unknown colour description {:#x} (a newer sender?)",
                self.colour
            ))
        })?;
        // Built from `packed` so that fields the engine adds keep their defaults.
        Ok(FrameMeta {
            stride: self.stride,
            ..FrameMeta::packed(self.width, self.height, format).with_color(color)
        })
    }
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

// The getters are only called at offsets inside the HEADER_LEN bytes that
// `parse` has checked are there.
fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(std::array::from_fn(|i| b[at + i]))
}

fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(std::array::from_fn(|i| b[at + i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> WireHeader {
        WireHeader {
            codec: CodecId::Raw,
            format_code: PixelFormat::Rgba8.code(),
            width: 4,
            height: 2,
            stride: 16,
            colour: 0,
            frame_len: 32,
            payload_len: 32,
            source_id: 7,
            seq: 1,
            frame_number: 9,
            timestamp_ns: 123,
            sent_unix_ns: 456,
        }
    }

    fn message(h: &WireHeader, payload_len: usize) -> Vec<u8> {
        let mut m = h.encode().to_vec();
        m.resize(HEADER_LEN + payload_len, 0xab);
        m
    }

    #[test]
    fn header_round_trips() {
        let h = header();
        let m = message(&h, 32);
        let (parsed, payload) = WireHeader::parse(&m, &Limits::default()).unwrap();
        assert_eq!(parsed, h);
        assert_eq!(payload.len(), 32);
    }

    #[test]
    fn longer_headers_are_skipped() {
        let h = header();
        let mut m = h.encode().to_vec();
        m[offset::HEADER_LEN..offset::HEADER_LEN + 2].copy_from_slice(&104u16.to_le_bytes());
        m.extend_from_slice(&[1u8; 8]);
        m.extend_from_slice(&[2u8; 32]);
        let (_, payload) = WireHeader::parse(&m, &Limits::default()).unwrap();
        assert_eq!(payload, &[2u8; 32]);
    }

    #[test]
    fn every_bad_field_is_refused() {
        let limits = Limits::default();
        let good = message(&header(), 32);
        let refuse = |m: &[u8], why: &str| {
            let err = WireHeader::parse(m, &limits).expect_err(why).to_string();
            assert!(err.contains("refused"), "{why}: {err}");
        };
        refuse(&good[..HEADER_LEN - 1], "short");
        refuse(&good[..good.len() - 1], "truncated payload");
        let mut m = good.clone();
        m[0] = b'X';
        refuse(&m, "magic");
        let mut m = good.clone();
        m[offset::VERSION] = 2;
        refuse(&m, "version");
        let mut m = good.clone();
        m[offset::HEADER_LEN..offset::HEADER_LEN + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        refuse(&m, "header length");
        let mut m = good.clone();
        m[offset::CODEC] = 99;
        refuse(&m, "codec");
        let mut m = good.clone();
        m[offset::FLAGS] = 1;
        refuse(&m, "flags");
        let mut h = header();
        h.format_code = 999;
        refuse(&message(&h, 32), "format");
        let mut h = header();
        h.stride = 3;
        refuse(&message(&h, 32), "stride");
        let mut h = header();
        h.frame_len = 33;
        refuse(&message(&h, 32), "frame length");
        let mut h = header();
        h.payload_len = u64::MAX;
        refuse(&message(&h, 32), "payload length");
        let mut h = header();
        (h.width, h.height, h.stride) = (65536, 65536, 65536 * 4);
        h.frame_len = 65536 * 65536 * 4;
        refuse(&message(&h, 32), "huge frame");
    }
}
