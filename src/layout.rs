//! The segment format: header fields, slot geometry and frame metadata.
//!
//! Every multi-byte field is little-endian and every field lives inside one
//! naturally aligned 64-bit word, so the whole segment can be read and written
//! as an array of `u64` words. `docs/layout.md` describes the same format byte
//! by byte for readers written in other languages.

use crate::error::{Error, Result};

/// `b"SHMFRAME"` read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SHMFRAME");
/// Layout version; bumped on any incompatible change (2: the wake file; 3: a
/// frame's number and timestamp apart from its index in the ring, and the time
/// it was published here; 4: slots placed by the writer, found through the
/// placement table, and holds).
pub const VERSION: u32 = 4;
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
/// Most holds a segment may honour (`WriterOptions::holds`).
pub const MAX_HOLDS: usize = 64;
/// Frame indexes stay below this: placement and hold words keep the slot in
/// their low 16 bits (2^48 frames: 8.9 years at a million frames a second).
pub const MAX_INDEX: u64 = (1 << 48) - 1;
/// Largest width or height a frame may claim.
pub const MAX_DIMENSION: u32 = 1 << 16;

/// Word indexes of the header fields (byte offset = index * 8).
pub mod header {
    /// `MAGIC`.
    pub const MAGIC: usize = 0;
    /// `VERSION` (low half) and `HEADER_SIZE` (high half).
    pub const VERSION_AND_HEADER_SIZE: usize = 1;
    /// Slot count (bits 0..32), `SLOT_HEADER_SIZE` (bits 32..48) and the
    /// number of holds the writer honours (bits 48..64).
    pub const SLOTS_AND_SLOT_HEADER_SIZE: usize = 2;
    /// Payload capacity of each slot, in bytes.
    pub const SLOT_CAPACITY: usize = 3;
    /// Distance between the starts of two slots, in bytes.
    pub const SLOT_STRIDE: usize = 4;
    /// Writer's process id (low half); high half reserved, zero.
    pub const WRITER_PID: usize = 5;
    /// CLOCK_MONOTONIC nanoseconds at which the segment was created.
    pub const CREATED_NS: usize = 6;
    /// Token naming the stream's wake file, `.shmframe-wake.TOKEN` (16 lower-case
    /// hex digits) in the segment's directory; 0 if there is none. Words 0..8
    /// fill the first cache line and are written once, before the segment is
    /// visible under its name.
    pub const WAKE_TOKEN: usize = 7;

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

/// The wake file: where readers about to sleep tell the writer to wake them.
///
/// Readers may write it (the segment stays read-only for them); the writer
/// only reads it, so nothing written there can change a frame. 128 bytes:
pub mod wake {
    /// `b"SHMFWAKE"` read as a little-endian `u64`, at byte 0.
    pub const MAGIC: u64 = u64::from_le_bytes(*b"SHMFWAKE");
    /// Bytes of the wake file.
    pub const FILE_SIZE: usize = 128;
    /// Word index of `asleep_after`, on its own cache line (byte 64): 1 + the
    /// latest frame number any reader saw before it went to sleep on the
    /// futex (0: none). Sleepers raise it (an atomic maximum) before they
    /// sleep; the writer calls `FUTEX_WAKE` after publishing frame `n` only if
    /// it is at least `n`.
    pub const ASLEEP_AFTER: usize = 8;
    /// Word a reader adds 1 to when it wants the writer to look for new hold
    /// files (a hint: the writer also looks on its own, and never waits).
    pub const RESCAN: usize = 9;
    /// File name prefix; the token from header word 7 follows in hex.
    pub const FILE_PREFIX: &str = ".shmframe-wake.";
}

/// The writer is (or was, if it died) publishing into this segment.
/// The tail: words after the last slot (at `Geometry::tail_word`).
///
/// First the placement table, one word per slot: entry `k % slots` says
/// where frame `k` went, as `place_word(k, slot)`. Then one ticket word per
/// hold: 0 while free, else `ticket_word(inode, entry)`, the hold file and
/// entry the writer honours. Only the writer stores either.
pub mod tail {
    /// Bits of a placement or hold word that name the slot.
    pub const SLOT_BITS: u32 = 16;
    /// Bits of a ticket word that name the entry in its hold file.
    pub const ENTRY_BITS: u32 = 8;
}

/// A placement (or hold) word: frame `index` is in `slot`.
#[inline]
pub const fn place_word(index: u64, slot: usize) -> u64 {
    index << tail::SLOT_BITS | slot as u64
}

/// The frame index and slot of a placement (or hold) word.
#[inline]
pub const fn split_place(word: u64) -> (u64, usize) {
    (
        word >> tail::SLOT_BITS,
        (word & ((1 << tail::SLOT_BITS) - 1)) as usize,
    )
}

/// A ticket word: entry `entry` of the hold file with inode number `inode`;
/// `None` if the inode does not fit (such a file gets no ticket).
#[inline]
pub const fn ticket_word(inode: u64, entry: usize) -> Option<u64> {
    if inode == 0 || inode >= 1 << (64 - tail::ENTRY_BITS) || entry >= 1 << tail::ENTRY_BITS {
        return None;
    }
    Some(inode << tail::ENTRY_BITS | entry as u64)
}

/// The hold file a reader writes its holds into (see `hold_file.rs`).
pub mod hold {
    /// `b"SHMFHOLD"` read as a little-endian `u64`, word 0.
    pub const MAGIC: u64 = u64::from_le_bytes(*b"SHMFHOLD");
    /// Word 1: how many entries the reader asks for (the writer grants at
    /// most `MAX_ENTRIES`, and never more than its free tickets).
    pub const WANTED: usize = 1;
    /// Word 2: the reader's pid, for reports only (`shmframe info`).
    pub const PID: usize = 2;
    /// Word of entry 0; entry `e` is word `FIRST_ENTRY + e`, 0 or a hold word.
    pub const FIRST_ENTRY: usize = 8;
    /// Entries a hold file has.
    pub const MAX_ENTRIES: usize = 16;
    /// Bytes of a hold file.
    pub const FILE_SIZE: usize = (FIRST_ENTRY + MAX_ENTRIES) * 8;
    /// Hold files of a segment are `.shmframe-hold.TOKEN.` followed by
    /// anything, TOKEN as in the wake file's name.
    pub const FILE_PREFIX: &str = ".shmframe-hold.";
}

pub const STATE_LIVE: u64 = 0;
/// The writer exited cleanly; no more frames will come to this segment.
pub const STATE_CLOSED: u64 = 1;
/// The writer moved to a new segment under the same name.
pub const STATE_REPLACED: u64 = 2;

/// Word indexes inside a slot header, relative to the slot's first word.
pub mod slot {
    /// Sequence word: odd while the writer is changing the slot.
    pub const SEQ: usize = 0;
    /// The frame's index in this segment: 1, 2, 3, ... without gaps (0 marks a
    /// slot with no valid frame). Frame index `i` lives in slot `i % slots`.
    pub const INDEX: usize = 1;
    /// The frame's timestamp: CLOCK_MONOTONIC nanoseconds at publish, unless
    /// the writer gave its own (an importer gives the sender's).
    pub const TIMESTAMP_NS: usize = 2;
    /// Width (low half), height (high half), in pixels.
    pub const WIDTH_HEIGHT: usize = 3;
    /// Stride in bytes (bits 0..32), pixel format code (bits 32..48), and for
    /// YUV frames the colour matrix code (bits 48..56) and range code (56..64).
    pub const STRIDE_FORMAT: usize = 4;
    /// Length of the pixel data in bytes.
    pub const LEN: usize = 5;
    /// CLOCK_MONOTONIC nanoseconds at which this segment's writer committed the
    /// frame (for an imported frame: when it arrived on this machine).
    pub const PUBLISHED_NS: usize = 6;
    /// The frame's number: its index unless the writer gave another (an
    /// importer gives the sender's).
    pub const FRAME_NUMBER: usize = 7;
    /// Number of metadata words the reader copies under the seqlock (words 1..=7).
    pub const META_WORDS: usize = 7;
}

/// How the bytes of a frame encode its pixels.
///
/// Names give the byte order in memory (`Bgra8` is blue, green, red, alpha at
/// increasing addresses); alpha is straight, not premultiplied. Planar YUV
/// formats place their planes one after another (see [`FrameMeta::planes`]).
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
    /// Blue, green, red; one byte each (OpenCV's order).
    Bgr8 = 5,
    /// 8-bit Y plane, then one plane of interleaved U, V at half width and half height.
    Nv12 = 6,
    /// 8-bit Y plane, then a U plane and a V plane at half width and half height (ffmpeg's yuv420p).
    I420 = 7,
    /// Packed 4:2:2: Y0 U Y1 V for each pair of pixels (ffmpeg's yuyv422, GStreamer's YUY2).
    Yuyv = 8,
    /// 16-bit little-endian luminance.
    Gray16 = 9,
    /// 32-bit little-endian IEEE-754 float, one per pixel (depth, masks, model outputs).
    GrayF32 = 10,
}

impl PixelFormat {
    /// Every format, in code order.
    pub const ALL: [PixelFormat; 10] = [
        Self::Rgba8,
        Self::Bgra8,
        Self::Rgb8,
        Self::Gray8,
        Self::Bgr8,
        Self::Nv12,
        Self::I420,
        Self::Yuyv,
        Self::Gray16,
        Self::GrayF32,
    ];

    /// Bytes per pixel of the first plane (the luma plane of `Nv12` and `I420`,
    /// two bytes per pixel for `Yuyv`).
    pub const fn bytes_per_pixel(self) -> u32 {
        match self {
            Self::Rgba8 | Self::Bgra8 | Self::GrayF32 => 4,
            Self::Rgb8 | Self::Bgr8 => 3,
            Self::Gray16 | Self::Yuyv => 2,
            Self::Gray8 | Self::Nv12 | Self::I420 => 1,
        }
    }

    /// Whether the frame is YUV, so that its [`Colorimetry`] matters.
    pub const fn is_yuv(self) -> bool {
        matches!(self, Self::Nv12 | Self::I420 | Self::Yuyv)
    }

    /// The format's code in the segment.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The format with this code, if any.
    #[inline]
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Short lower-case name (`rgba8`, `bgr8`, `nv12`, `i420`, `yuyv`, `gray16`, `grayf32`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rgba8 => "rgba8",
            Self::Bgra8 => "bgra8",
            Self::Rgb8 => "rgb8",
            Self::Gray8 => "gray8",
            Self::Bgr8 => "bgr8",
            Self::Nv12 => "nv12",
            Self::I420 => "i420",
            Self::Yuyv => "yuyv",
            Self::Gray16 => "gray16",
            Self::GrayF32 => "grayf32",
        }
    }

    /// ffmpeg's `-pix_fmt` name for the same memory layout.
    pub const fn ffmpeg_name(self) -> &'static str {
        match self {
            Self::Rgba8 => "rgba",
            Self::Bgra8 => "bgra",
            Self::Rgb8 => "rgb24",
            Self::Gray8 => "gray",
            Self::Bgr8 => "bgr24",
            Self::Nv12 => "nv12",
            Self::I420 => "yuv420p",
            Self::Yuyv => "yuyv422",
            Self::Gray16 => "gray16le",
            Self::GrayF32 => "grayf32le",
        }
    }

    /// The format called `name`, by shmframe's name or by ffmpeg's `-pix_fmt` name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name || f.ffmpeg_name() == name)
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PixelFormat {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        PixelFormat::from_name(name).ok_or_else(|| {
            let known: Vec<_> = PixelFormat::ALL.iter().map(|f| f.ffmpeg_name()).collect();
            Error::BadFrame {
                reason: format!("unknown pixel format `{name}`; known: {}", known.join(", ")),
            }
        })
    }
}

/// How YUV values map to RGB: the matrix (ITU-R BT.601 or BT.709).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ColorMatrix {
    /// ITU-R BT.601, what ffmpeg assumes for untagged video.
    #[default]
    Bt601 = 0,
    /// ITU-R BT.709 (HD video).
    Bt709 = 1,
}

/// How YUV values map to RGB: the range of the stored values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ColorRange {
    /// Y in 16..=235, U and V in 16..=240 ("TV" or "MPEG" range), what ffmpeg assumes for untagged video.
    #[default]
    Limited = 0,
    /// Every value in 0..=255 ("PC" or "JPEG" range).
    Full = 1,
}

/// The colour matrix and range of a YUV frame; the default is what ffmpeg
/// assumes for untagged video (BT.601, limited range). Ignored for RGB and gray formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Colorimetry {
    /// The YUV to RGB matrix.
    pub matrix: ColorMatrix,
    /// The range of the stored values.
    pub range: ColorRange,
}

impl Colorimetry {
    /// The 16 bits that store this colorimetry: matrix in the low byte, range in the high one.
    pub const fn word(self) -> u64 {
        self.matrix as u64 | (self.range as u64) << 8
    }

    /// The colorimetry stored in `word` (see [`word`](Self::word)), if every code in it is known.
    #[inline]
    pub fn from_word(word: u64) -> Option<Self> {
        let matrix = match word & 0xff {
            0 => ColorMatrix::Bt601,
            1 => ColorMatrix::Bt709,
            _ => return None,
        };
        let range = match (word >> 8) & 0xff {
            0 => ColorRange::Limited,
            1 => ColorRange::Full,
            _ => return None,
        };
        (word >> 16 == 0).then_some(Colorimetry { matrix, range })
    }
}

/// Where one plane of a frame lies in its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plane {
    /// Byte offset of the plane's first row from the start of the frame.
    pub offset: usize,
    /// Bytes from the start of one row of the plane to the next.
    pub stride: usize,
    /// Rows in the plane.
    pub rows: usize,
    /// Bytes of pixels in each row (the rest of the stride is padding).
    pub row_bytes: usize,
}

/// The planes of a frame: one for packed formats, two for `Nv12`, three for `I420`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planes {
    planes: [Plane; 3],
    count: usize,
}

impl Planes {
    /// The planes, in memory order.
    pub fn as_slice(&self) -> &[Plane] {
        &self.planes[..self.count]
    }

    /// Total bytes of the frame: the end of the last plane.
    pub fn len(&self) -> usize {
        let last = self.planes[self.count - 1];
        last.offset + last.stride * last.rows
    }

    /// Always false: a frame has at least one plane.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What a frame's bytes are: size, row stride, pixel format and, for YUV, colorimetry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the next in the first plane (at
    /// least `width * bytes_per_pixel`); the strides of chroma planes follow
    /// from it (see [`FrameMeta::planes`]).
    pub stride: u32,
    /// Pixel format.
    pub format: PixelFormat,
    /// YUV matrix and range (meaningful for YUV formats only).
    pub color: Colorimetry,
}

impl FrameMeta {
    /// Metadata for rows packed with no padding (ffmpeg's `rawvideo` layout), default colorimetry.
    pub const fn packed(width: u32, height: u32, format: PixelFormat) -> Self {
        FrameMeta {
            width,
            height,
            stride: width.saturating_mul(format.bytes_per_pixel()),
            format,
            color: Colorimetry {
                matrix: ColorMatrix::Bt601,
                range: ColorRange::Limited,
            },
        }
    }

    /// The same frame with rows `stride` bytes apart.
    pub const fn with_stride(self, stride: u32) -> Self {
        FrameMeta { stride, ..self }
    }

    /// The same frame with colorimetry `color`.
    pub const fn with_color(self, color: Colorimetry) -> Self {
        FrameMeta { color, ..self }
    }

    /// Where each plane lies, if the metadata is consistent.
    ///
    /// The first plane starts at 0 with `stride`. Chroma planes have
    /// `ceil(height / 2)` rows and follow the previous plane directly:
    /// `Nv12`'s UV plane has stride `stride` rounded up to even and
    /// `2 * ceil(width / 2)` bytes per row; `I420`'s U and V planes each have
    /// stride `ceil(stride / 2)` and `ceil(width / 2)` bytes per row. With a
    /// packed stride this is exactly ffmpeg's layout for `nv12` and `yuv420p`.
    /// `Yuyv` needs an even width.
    pub fn planes(&self) -> Result<Planes> {
        let (width, height, stride, row) = self.checked_first_plane()?;
        let half = |n: u64| n.div_ceil(2);
        let luma = [0, stride, height, row];
        let chroma_planes: &[[u64; 4]] = match self.format {
            PixelFormat::Nv12 => &[[
                stride * height,
                stride + stride % 2,
                half(height),
                2 * half(width),
            ]],
            PixelFormat::I420 => {
                let chroma = [stride * height, half(stride), half(height), half(width)];
                let v_offset = chroma[0] + chroma[1] * chroma[2];
                &[chroma, [v_offset, chroma[1], chroma[2], chroma[3]]]
            }
            _ => &[],
        };
        let last = chroma_planes.last().unwrap_or(&luma);
        let total = last[0] + last[1] * last[2];
        fits_in_memory(total)?;
        let to_plane = |p: &[u64; 4]| Plane {
            offset: p[0] as usize,
            stride: p[1] as usize,
            rows: p[2] as usize,
            row_bytes: p[3] as usize,
        };
        let mut planes = Planes {
            planes: [to_plane(&luma); 3],
            count: 1 + chroma_planes.len(),
        };
        for (slot, plane) in planes.planes[1..].iter_mut().zip(chroma_planes) {
            *slot = to_plane(plane);
        }
        Ok(planes)
    }

    /// Byte length of the frame (the end of its last plane; `stride * height`
    /// for packed formats), if the metadata is consistent.
    #[inline(always)]
    pub fn checked_len(&self) -> Result<usize> {
        match self.format {
            PixelFormat::Nv12 | PixelFormat::I420 => self.planes().map(|planes| planes.len()),
            // One plane: its end, without laying out planes (every publish checks this).
            _ => {
                let (_, height, stride, _) = self.checked_first_plane()?;
                fits_in_memory(stride * height)
            }
        }
    }

    /// Width, height, stride and row bytes of the first plane, checked (small
    /// enough that the plane sizes computed from them cannot overflow a `u64`).
    #[inline(always)]
    fn checked_first_plane(&self) -> Result<(u64, u64, u64, u64)> {
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
        if self.format == PixelFormat::Yuyv && self.width % 2 == 1 {
            return bad(format!(
                "yuyv frames need an even width (each 4 bytes hold 2 pixels), got {}",
                self.width
            ));
        }
        // Every quantity below is at most 2^16 * 2^32 * 3 < 2^50: no overflow in u64,
        // and a final length is checked against usize.
        let (width, height, stride) = (
            u64::from(self.width),
            u64::from(self.height),
            u64::from(self.stride),
        );
        let row = width * u64::from(self.format.bytes_per_pixel());
        if stride < row {
            return bad(format!(
                "stride {stride} is shorter than a row of {width} {} pixels ({row} bytes)",
                self.format
            ));
        }
        Ok((width, height, stride, row))
    }
}

/// `total` bytes as a `usize`, or an error if that many cannot be addressed.
#[inline]
fn fits_in_memory(total: u64) -> Result<usize> {
    usize::try_from(total).map_err(|_| Error::BadFrame {
        reason: format!("{total} bytes do not fit in memory"),
    })
}

/// Everything a reader learns about one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// The frame's number: equal to `index` unless the writer gave its own
    /// (a bridge's importer keeps the sender's numbers, which may skip).
    pub number: u64,
    /// The frame's place in this segment: 1 for the first frame, then
    /// consecutive. `missed` counts indexes.
    pub index: u64,
    /// The frame's timestamp, CLOCK_MONOTONIC nanoseconds: when the writer
    /// published it, unless the writer gave its own (an importer keeps the
    /// sender's, taken on the sender's clock).
    pub timestamp_ns: u64,
    /// CLOCK_MONOTONIC nanoseconds on this machine at which the frame was
    /// published into this segment (for an imported frame, when it arrived).
    pub published_ns: u64,
    /// Size, stride and format.
    pub meta: FrameMeta,
    /// Bytes of pixel data (`stride * height`).
    pub len: usize,
    /// Frames skipped since the previous in-order read because the writer lapped the reader
    /// (always 0 for latest-frame reads).
    pub missed: u64,
}

impl FrameInfo {
    /// What a read starts from before it finds a frame (index 0: none).
    pub const NONE: FrameInfo = FrameInfo {
        number: 0,
        index: 0,
        timestamp_ns: 0,
        published_ns: 0,
        meta: FrameMeta {
            width: 0,
            height: 0,
            stride: 0,
            format: PixelFormat::Rgba8,
            color: Colorimetry {
                matrix: ColorMatrix::Bt601,
                range: ColorRange::Limited,
            },
        },
        len: 0,
        missed: 0,
    };
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
    /// Holds the writer honours (0: none; then `slot_count >= holds + 2`).
    pub holds: usize,
    /// Total bytes of the segment.
    pub total_size: usize,
}

impl Geometry {
    /// The geometry for `slot_count` slots of `slot_capacity` bytes each, no holds.
    pub fn new(slot_count: usize, slot_capacity: usize) -> Result<Self> {
        Geometry::with_holds(slot_count, slot_capacity, 0)
    }

    /// The geometry for `slot_count` slots of `slot_capacity` bytes each,
    /// `holds` of which readers may hold at once.
    pub fn with_holds(slot_count: usize, slot_capacity: usize, holds: usize) -> Result<Self> {
        let invalid = |reason: String| Err(Error::InvalidOptions(reason));
        if holds > MAX_HOLDS {
            return invalid(format!("{holds} holds is more than {MAX_HOLDS}"));
        }
        if slot_count < holds + 2 {
            return invalid(format!(
                "{slot_count} slots cannot honour {holds} holds: it takes at least holds + 2 = {}",
                holds + 2
            ));
        }
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
        let tail_size = ((slot_count + holds) * 8).next_multiple_of(SLOT_ALIGN);
        let total_size = slot_stride
            .checked_mul(slot_count)
            .and_then(|n| n.checked_add(HEADER_SIZE + tail_size))
            .ok_or_else(too_big)?;
        Ok(Geometry {
            slot_count,
            slot_capacity,
            slot_stride,
            holds,
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

    /// Word index of the tail: the placement table, then the tickets.
    pub fn tail_word(&self) -> usize {
        self.slot_word(self.slot_count)
    }

    /// Word index of the placement entry of frame `index`.
    pub fn place_word_of(&self, index: u64) -> usize {
        self.tail_word() + (index % self.slot_count as u64) as usize
    }

    /// Word index of ticket `ticket` (`0..holds`).
    pub fn ticket_word_of(&self, ticket: usize) -> usize {
        self.tail_word() + self.slot_count + ticket
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
        let (slots, high) = split(words[header::SLOTS_AND_SLOT_HEADER_SIZE]);
        let (slot_header, holds) = (high & 0xffff, high >> 16);
        if slot_header as usize != SLOT_HEADER_SIZE {
            return bad(format!(
                "slot header size {slot_header}, expected {SLOT_HEADER_SIZE}"
            ));
        }
        let capacity = usize::try_from(words[header::SLOT_CAPACITY]).unwrap_or(usize::MAX);
        let geometry = match Geometry::with_holds(slots as usize, capacity, holds as usize) {
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
        words[header::SLOTS_AND_SLOT_HEADER_SIZE] = join(
            self.slot_count as u32,
            SLOT_HEADER_SIZE as u32 | (self.holds as u32) << 16,
        );
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

/// Slot metadata words (1..=7) as the writer stores them before it fills the
/// pixels; the two timestamps are stored after the fill.
#[inline]
pub(crate) fn encode_meta(
    index: u64,
    number: u64,
    meta: &FrameMeta,
    len: usize,
) -> [u64; slot::META_WORDS] {
    // RGB and gray frames store zero, so the bits mean nothing for them.
    let color = if meta.format.is_yuv() {
        meta.color.word()
    } else {
        0
    };
    [
        index,
        0,
        join(meta.width, meta.height),
        join(meta.stride, meta.format.code()) | color << 48,
        len as u64,
        0,
        number,
    ]
}

/// Checks slot metadata words (1..=7) copied from the segment (the frame
/// length also against the slot capacity) and writes what they say into
/// `out`, which is left alone if they are inconsistent. (An out-parameter:
/// a reader's hot path then moves no large `Result` through its calls.)
#[inline(always)]
pub(crate) fn decode_meta(
    words: &[u64; slot::META_WORDS],
    capacity: usize,
    out: &mut FrameInfo,
) -> Result<()> {
    let bad = |reason: String| Err(Error::CorruptFrame { reason });
    let (width, height) = split(words[2]);
    let (stride, format_and_color) = split(words[3]);
    let code = format_and_color & 0xffff;
    let Some(format) = PixelFormat::from_code(code) else {
        return Err(Error::UnknownFormat { code });
    };
    let color_bits = u64::from(format_and_color >> 16);
    let color = match (format.is_yuv(), Colorimetry::from_word(color_bits)) {
        (false, _) => Colorimetry::default(),
        (true, Some(color)) => color,
        (true, None) => return bad(format!("unknown colorimetry bits {color_bits:#x}")),
    };
    let meta = FrameMeta {
        width,
        height,
        stride,
        format,
        color,
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
    // Field by field: a whole-struct store of `meta`, built byte-wise, would
    // stall the load that copies it (measured: a third of a 64 B read).
    out.number = words[6];
    out.index = words[0];
    out.timestamp_ns = words[1];
    out.published_ns = words[5];
    out.meta.width = width;
    out.meta.height = height;
    out.meta.stride = stride;
    out.meta.format = format;
    out.meta.color = color;
    out.len = len;
    out.missed = 0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(words: &[u64; slot::META_WORDS], capacity: usize) -> Result<FrameInfo> {
        let mut info = FrameInfo::NONE;
        decode_meta(words, capacity, &mut info).map(|()| info)
    }

    #[test]
    fn geometry_rounds_slots_to_cache_lines() {
        let g = Geometry::new(3, 100).unwrap();
        assert_eq!(g.slot_stride, 192);
        assert_eq!(g.total_size, HEADER_SIZE + 3 * 192 + 64);
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
    fn planar_layouts_follow_ffmpeg_for_odd_sizes() {
        // ffmpeg's av_image_get_buffer_size(fmt, 3, 7, 1) for each format.
        let sizes = [
            (PixelFormat::Nv12, 21 + 4 * 4),
            (PixelFormat::I420, 21 + 2 * 2 * 4),
            (PixelFormat::Gray16, 3 * 2 * 7),
            (PixelFormat::GrayF32, 3 * 4 * 7),
            (PixelFormat::Bgr8, 3 * 3 * 7),
        ];
        for (format, len) in sizes {
            assert_eq!(
                FrameMeta::packed(3, 7, format).checked_len().unwrap(),
                len,
                "{format}"
            );
        }
        let i420 = FrameMeta::packed(3, 7, PixelFormat::I420).planes().unwrap();
        let offsets: Vec<_> = i420
            .as_slice()
            .iter()
            .map(|p| (p.offset, p.stride, p.rows))
            .collect();
        assert_eq!(offsets, [(0, 3, 7), (21, 2, 4), (29, 2, 4)]);
        let nv12 = FrameMeta::packed(3, 7, PixelFormat::Nv12)
            .with_stride(8)
            .planes()
            .unwrap();
        let uv = nv12.as_slice()[1];
        assert_eq!((uv.offset, uv.stride, uv.rows, uv.row_bytes), (56, 8, 4, 4));
        assert_eq!(
            FrameMeta::packed(1920, 1080, PixelFormat::Nv12)
                .checked_len()
                .unwrap(),
            1920 * 1080 * 3 / 2
        );
    }

    #[test]
    fn yuyv_needs_an_even_width_and_names_round_trip() {
        assert!(FrameMeta::packed(3, 2, PixelFormat::Yuyv)
            .checked_len()
            .is_err());
        assert_eq!(
            FrameMeta::packed(4, 2, PixelFormat::Yuyv)
                .checked_len()
                .unwrap(),
            16
        );
        for format in PixelFormat::ALL {
            assert_eq!(PixelFormat::from_name(format.name()), Some(format));
            assert_eq!(format.ffmpeg_name().parse::<PixelFormat>().unwrap(), format);
            assert_eq!(PixelFormat::from_code(format.code()), Some(format));
        }
        assert!("yuv444p".parse::<PixelFormat>().is_err());
    }

    #[test]
    fn colorimetry_travels_with_yuv_frames_only() {
        let color = Colorimetry {
            matrix: ColorMatrix::Bt709,
            range: ColorRange::Full,
        };
        let nv12 = FrameMeta::packed(4, 4, PixelFormat::Nv12).with_color(color);
        let info = decoded(&encode_meta(1, 0, &nv12, 24), 24).unwrap();
        assert_eq!(info.meta.color, color);
        let rgb = FrameMeta::packed(2, 2, PixelFormat::Rgb8).with_color(color);
        let info = decoded(&encode_meta(1, 0, &rgb, 12), 12).unwrap();
        assert_eq!(info.meta.color, Colorimetry::default());
        let mut words = encode_meta(1, 1, &nv12, 24);
        words[3] |= 0x0102 << 48;
        assert!(matches!(
            decoded(&words, 24),
            Err(Error::CorruptFrame { .. })
        ));
        words = encode_meta(1, 1, &nv12, 24);
        words[2] = join(4, 4);
        words[3] = join(4, 99);
        assert!(matches!(
            decoded(&words, 24),
            Err(Error::UnknownFormat { code: 99 })
        ));
    }

    #[test]
    fn meta_round_trips_and_rejects_garbage() {
        let meta = FrameMeta::packed(4, 2, PixelFormat::Rgb8);
        let words = encode_meta(9, 5, &meta, 24);
        let info = decoded(&words, 24).unwrap();
        assert_eq!(
            (info.index, info.number, info.meta, info.len),
            (9, 5, meta, 24)
        );
        assert!(decoded(&words, 23).is_err(), "over capacity");
        let mut bad = words;
        bad[3] = join(12, 99);
        assert!(decoded(&bad, 1 << 20).is_err(), "unknown format");
        bad = words;
        bad[4] = 25;
        assert!(decoded(&bad, 1 << 20).is_err(), "length mismatch");
        bad = words;
        bad[3] = join(11, PixelFormat::Rgb8.code());
        assert!(decoded(&bad, 1 << 20).is_err(), "stride below row");
    }
}
