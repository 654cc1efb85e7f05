//! The segment format: header fields, slot geometry and frame metadata.
//!
//! Every multi-byte field is little-endian and every field lives inside one
//! naturally aligned 64-bit word, so the whole segment can be read and written
//! as an array of `u64` words. `docs/layout.md` describes the same format byte
//! by byte for readers written in other languages.

use crate::error::{Error, Result};

/// `b"SHMFRAME"` read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SHMFRAME");
/// Layout version; bumped on any incompatible change.
pub const VERSION: u32 = 1;
/// Bytes of the segment header, before the first slot.
pub const HEADER_SIZE: usize = 128;
/// Bytes of each slot's header, before its pixels.
pub const SLOT_HEADER_SIZE: usize = 64;
/// Slots are placed at multiples of a cache line.
pub const SLOT_ALIGN: usize = 64;
/// Most slots a segment may have; a larger count in a header is corrupt.
pub const MAX_SLOTS: usize = 1024;
/// Largest slot capacity accepted (16 GiB): bounds what a hostile header can claim.
pub const MAX_SLOT_CAPACITY: usize = 1 << 34;
/// Largest width or height a frame may claim.
pub const MAX_DIMENSION: u32 = 1 << 16;

/// Word indexes of the header fields (byte offset = index * 8).
pub mod header {
    /// `MAGIC`.
    pub const MAGIC: usize = 0;
    /// `VERSION` (low half) and `HEADER_SIZE` (high half).
    pub const VERSION_AND_HEADER_SIZE: usize = 1;
    /// Slot count (low half) and `SLOT_HEADER_SIZE` (high half).
    pub const SLOTS_AND_SLOT_HEADER_SIZE: usize = 2;
    /// Payload capacity of each slot, in bytes.
    pub const SLOT_CAPACITY: usize = 3;
    /// Distance between the starts of two slots, in bytes.
    pub const SLOT_STRIDE: usize = 4;
    /// Writer's process id (low half); high half reserved, zero.
    pub const WRITER_PID: usize = 5;
    /// CLOCK_MONOTONIC nanoseconds at which the segment was created.
    pub const CREATED_NS: usize = 6;
    // Word 7 is reserved (zero). Words 0..8 fill the first cache line and are
    // written once, before the segment is visible under its name.

    // The second cache line holds what the writer changes on every publish,
    // apart from the static words that readers copy once at attach time.
    /// Number of the latest published frame; 0 while none has been published.
    pub const LATEST: usize = 8;
    /// Writer state: `STATE_LIVE`, `STATE_CLOSED` or `STATE_REPLACED`.
    pub const STATE: usize = 9;
    /// Byte offset of the 32-bit futex word (low half of word 10), bumped after each publish.
    pub const FUTEX_BYTE_OFFSET: usize = 80;
    /// Token of the writer replacing this segment once its writer is dead; 0
    /// until then. Only writers touch it (readers ignore it).
    pub const REPLACER: usize = 11;
}

/// The writer is (or was, if it died) publishing into this segment.
pub const STATE_LIVE: u64 = 0;
/// The writer exited cleanly; no more frames will come to this segment.
pub const STATE_CLOSED: u64 = 1;
/// The writer moved to a new segment under the same name.
pub const STATE_REPLACED: u64 = 2;

/// Word indexes inside a slot header, relative to the slot's first word.
pub mod slot {
    /// Sequence word: odd while the writer is changing the slot.
    pub const SEQ: usize = 0;
    /// Frame number (first frame is 1; 0 marks a slot with no valid frame).
    pub const FRAME_NUMBER: usize = 1;
    /// CLOCK_MONOTONIC nanoseconds at publish.
    pub const TIMESTAMP_NS: usize = 2;
    /// Width (low half), height (high half), in pixels.
    pub const WIDTH_HEIGHT: usize = 3;
    /// Stride in bytes (low half), pixel format code (high half).
    pub const STRIDE_FORMAT: usize = 4;
    /// Length of the pixel data in bytes.
    pub const LEN: usize = 5;
    /// Number of metadata words the reader copies under the seqlock.
    pub const META_WORDS: usize = 5;
}

/// How the bytes of a frame encode its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Red, green, blue, alpha; one byte each.
    Rgba8 = 1,
    /// Blue, green, red, alpha; one byte each.
    Bgra8 = 2,
    /// Red, green, blue; one byte each.
    Rgb8 = 3,
    /// One byte of luminance.
    Gray8 = 4,
}

impl PixelFormat {
    /// Every format, in code order.
    pub const ALL: [PixelFormat; 4] = [Self::Rgba8, Self::Bgra8, Self::Rgb8, Self::Gray8];

    /// Bytes per pixel.
    pub const fn bytes_per_pixel(self) -> u32 {
        match self {
            Self::Rgba8 | Self::Bgra8 => 4,
            Self::Rgb8 => 3,
            Self::Gray8 => 1,
        }
    }

    /// The format's code in the segment.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The format with this code, if any.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Short lower-case name (`rgba8`, `bgra8`, `rgb8`, `gray8`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rgba8 => "rgba8",
            Self::Bgra8 => "bgra8",
            Self::Rgb8 => "rgb8",
            Self::Gray8 => "gray8",
        }
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a frame's bytes are: size, row stride and pixel format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the next (at least `width * bytes_per_pixel`).
    pub stride: u32,
    /// Pixel format.
    pub format: PixelFormat,
}

impl FrameMeta {
    /// Metadata for rows packed with no padding.
    pub const fn packed(width: u32, height: u32, format: PixelFormat) -> Self {
        FrameMeta {
            width,
            height,
            stride: width.saturating_mul(format.bytes_per_pixel()),
            format,
        }
    }

    /// Byte length of the frame (`stride * height`), if the metadata is consistent.
    pub fn checked_len(&self) -> Result<usize> {
        let bad = |reason: String| Err(Error::BadFrame { reason });
        if self.width == 0 || self.height == 0 {
            return bad(format!("{}x{} has no pixels", self.width, self.height));
        }
        if self.width > MAX_DIMENSION || self.height > MAX_DIMENSION {
            return bad(format!(
                "{}x{} exceeds the {MAX_DIMENSION} pixel limit per side",
                self.width, self.height
            ));
        }
        let row = u64::from(self.width) * u64::from(self.format.bytes_per_pixel());
        if u64::from(self.stride) < row {
            return bad(format!(
                "stride {} is shorter than a row of {} {} pixels ({row} bytes)",
                self.stride, self.width, self.format
            ));
        }
        let len = u64::from(self.stride) * u64::from(self.height);
        usize::try_from(len).or_else(|_| bad(format!("{len} bytes do not fit in memory")))
    }
}

/// Everything a reader learns about one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Frame number: 1 for the first frame of a segment, then consecutive.
    pub number: u64,
    /// CLOCK_MONOTONIC nanoseconds at which the writer published it.
    pub timestamp_ns: u64,
    /// Size, stride and format.
    pub meta: FrameMeta,
    /// Bytes of pixel data (`stride * height`).
    pub len: usize,
    /// Frames skipped since the previous in-order read because the writer lapped the reader
    /// (always 0 for latest-frame reads).
    pub missed: u64,
}

/// The shape of a segment, checked for consistency and overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Number of slots in the ring (>= 2).
    pub slot_count: usize,
    /// Payload bytes each slot can hold.
    pub slot_capacity: usize,
    /// Bytes from one slot's start to the next.
    pub slot_stride: usize,
    /// Total bytes of the segment.
    pub total_size: usize,
}

impl Geometry {
    /// The geometry for `slot_count` slots of `slot_capacity` bytes each.
    pub fn new(slot_count: usize, slot_capacity: usize) -> Result<Self> {
        let invalid = |reason: String| Err(Error::InvalidOptions(reason));
        if !(2..=MAX_SLOTS).contains(&slot_count) {
            return invalid(format!(
                "slot count {slot_count} is outside 2..={MAX_SLOTS}"
            ));
        }
        if slot_capacity == 0 || slot_capacity > MAX_SLOT_CAPACITY {
            return invalid(format!(
                "slot capacity {slot_capacity} is outside 1..={MAX_SLOT_CAPACITY} bytes"
            ));
        }
        let too_big = || Error::InvalidOptions("the segment size overflows".into());
        let slot_stride = SLOT_HEADER_SIZE
            .checked_add(slot_capacity)
            .and_then(|n| n.checked_next_multiple_of(SLOT_ALIGN))
            .ok_or_else(too_big)?;
        let total_size = slot_stride
            .checked_mul(slot_count)
            .and_then(|n| n.checked_add(HEADER_SIZE))
            .ok_or_else(too_big)?;
        Ok(Geometry {
            slot_count,
            slot_capacity,
            slot_stride,
            total_size,
        })
    }

    /// Number of 64-bit words in the segment.
    pub fn total_words(&self) -> usize {
        self.total_size / 8
    }

    /// Word index of the first word of `slot`.
    pub fn slot_word(&self, slot: usize) -> usize {
        (HEADER_SIZE + slot * self.slot_stride) / 8
    }

    /// Slot that holds frame `number`.
    pub fn slot_of(&self, number: u64) -> usize {
        (number % self.slot_count as u64) as usize
    }

    /// Reads and checks the first 64 bytes of a segment (its static header,
    /// little-endian words) against the segment's real size in bytes.
    pub fn from_header_bytes(bytes: &[u8; 64], file_size: u64) -> Result<Self> {
        let words: [u64; 8] = std::array::from_fn(|i| {
            u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
        });
        Geometry::from_header(&words, file_size)
    }

    /// Reads and checks the static header words against the segment's real size in bytes.
    pub fn from_header(words: &[u64; 8], file_size: u64) -> Result<Self> {
        let bad = |reason: String| Err(Error::BadSegment { reason });
        if words[header::MAGIC] != MAGIC {
            return bad("it does not start with the shmframe magic".into());
        }
        let (version, header_size) = split(words[header::VERSION_AND_HEADER_SIZE]);
        if version != VERSION {
            return bad(format!(
                "layout version {version}, but this build reads version {VERSION}"
            ));
        }
        if header_size as usize != HEADER_SIZE {
            return bad(format!("header size {header_size}, expected {HEADER_SIZE}"));
        }
        let (slots, slot_header) = split(words[header::SLOTS_AND_SLOT_HEADER_SIZE]);
        if slot_header as usize != SLOT_HEADER_SIZE {
            return bad(format!(
                "slot header size {slot_header}, expected {SLOT_HEADER_SIZE}"
            ));
        }
        let capacity = usize::try_from(words[header::SLOT_CAPACITY]).unwrap_or(usize::MAX);
        let geometry = match Geometry::new(slots as usize, capacity) {
            Ok(g) => g,
            Err(e) => return bad(format!("impossible geometry: {e}")),
        };
        if words[header::SLOT_STRIDE] != geometry.slot_stride as u64 {
            return bad(format!(
                "slot stride {} does not match capacity {capacity}",
                words[header::SLOT_STRIDE]
            ));
        }
        if (geometry.total_size as u64) > file_size {
            return bad(format!(
                "the header describes {} bytes but the segment holds {file_size}",
                geometry.total_size
            ));
        }
        Ok(geometry)
    }

    /// The static header words for this geometry.
    pub fn header_words(&self, writer_pid: u32, created_ns: u64) -> [u64; 8] {
        let mut words = [0u64; 8];
        words[header::MAGIC] = MAGIC;
        words[header::VERSION_AND_HEADER_SIZE] = join(VERSION, HEADER_SIZE as u32);
        words[header::SLOTS_AND_SLOT_HEADER_SIZE] =
            join(self.slot_count as u32, SLOT_HEADER_SIZE as u32);
        words[header::SLOT_CAPACITY] = self.slot_capacity as u64;
        words[header::SLOT_STRIDE] = self.slot_stride as u64;
        words[header::WRITER_PID] = u64::from(writer_pid);
        words[header::CREATED_NS] = created_ns;
        words
    }
}

/// Packs two 32-bit fields into a word, the first in the low half.
pub const fn join(low: u32, high: u32) -> u64 {
    low as u64 | (high as u64) << 32
}

/// Splits a word into its low and high 32-bit halves.
pub const fn split(word: u64) -> (u32, u32) {
    (word as u32, (word >> 32) as u32)
}

/// Slot metadata words as the writer stores them.
pub(crate) fn encode_meta(
    number: u64,
    timestamp_ns: u64,
    meta: &FrameMeta,
    len: usize,
) -> [u64; 5] {
    [
        number,
        timestamp_ns,
        join(meta.width, meta.height),
        join(meta.stride, meta.format.code()),
        len as u64,
    ]
}

/// Checks slot metadata words copied from the segment; the frame length is
/// also checked against the slot capacity.
pub(crate) fn decode_meta(words: &[u64; 5], capacity: usize) -> Result<FrameInfo> {
    let bad = |reason: String| Err(Error::CorruptFrame { reason });
    let (width, height) = split(words[2]);
    let (stride, code) = split(words[3]);
    let Some(format) = PixelFormat::from_code(code) else {
        return bad(format!("unknown pixel format code {code}"));
    };
    let meta = FrameMeta {
        width,
        height,
        stride,
        format,
    };
    let len = match meta.checked_len() {
        Ok(len) => len,
        Err(e) => return bad(e.to_string()),
    };
    if words[4] != len as u64 {
        return bad(format!(
            "length {} does not match stride {stride} x height {height}",
            words[4]
        ));
    }
    if len > capacity {
        return bad(format!("length {len} exceeds the slot capacity {capacity}"));
    }
    Ok(FrameInfo {
        number: words[0],
        timestamp_ns: words[1],
        meta,
        len,
        missed: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_rounds_slots_to_cache_lines() {
        let g = Geometry::new(3, 100).unwrap();
        assert_eq!(g.slot_stride, 192);
        assert_eq!(g.total_size, HEADER_SIZE + 3 * 192);
        assert_eq!(g.slot_word(1), (HEADER_SIZE + 192) / 8);
    }

    #[test]
    fn geometry_refuses_bad_counts_and_overflow() {
        assert!(Geometry::new(1, 64).is_err());
        assert!(Geometry::new(MAX_SLOTS + 1, 64).is_err());
        assert!(Geometry::new(2, 0).is_err());
        assert!(Geometry::new(2, usize::MAX).is_err());
    }

    #[test]
    fn header_round_trips_and_checks_size() {
        let g = Geometry::new(4, 4096).unwrap();
        let words = g.header_words(42, 7);
        assert_eq!(
            Geometry::from_header(&words, g.total_size as u64).unwrap(),
            g
        );
        let short = Geometry::from_header(&words, g.total_size as u64 - 1);
        assert!(matches!(short, Err(Error::BadSegment { .. })));
        let mut wrong = words;
        wrong[header::SLOT_STRIDE] += 64;
        assert!(Geometry::from_header(&wrong, u64::MAX).is_err());
        wrong = words;
        wrong[header::MAGIC] ^= 1;
        assert!(Geometry::from_header(&wrong, u64::MAX).is_err());
    }

    #[test]
    fn meta_round_trips_and_rejects_garbage() {
        let meta = FrameMeta::packed(4, 2, PixelFormat::Rgb8);
        let words = encode_meta(9, 5, &meta, 24);
        let info = decode_meta(&words, 24).unwrap();
        assert_eq!((info.number, info.meta, info.len), (9, meta, 24));
        assert!(decode_meta(&words, 23).is_err(), "over capacity");
        let mut bad = words;
        bad[3] = join(12, 99);
        assert!(decode_meta(&bad, 1 << 20).is_err(), "unknown format");
        bad = words;
        bad[4] = 25;
        assert!(decode_meta(&bad, 1 << 20).is_err(), "length mismatch");
        bad = words;
        bad[3] = join(11, PixelFormat::Rgb8.code());
        assert!(decode_meta(&bad, 1 << 20).is_err(), "stride below row");
    }
}
