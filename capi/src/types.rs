//! The plain C structs and constants, and their conversion to the engine's types.
//!
//! The pixel format, matrix and range are `uint32_t` with named constants, not C
//! enums: a C caller may store any value in an enum variable, and an
//! out-of-range value read as a Rust enum would be undefined behaviour. Every
//! value is checked on the way in.

use crate::entry::{object_size, Failure};
use engine::{ColorMatrix, ColorRange, Colorimetry, FrameInfo, FrameMeta, PixelFormat};
use std::time::Duration;

/// A pixel format: one of the `SHMFRAME_FORMAT_*` codes (the segment's format codes).
pub type shmframe_pixel_format = u32;

/// Red, green, blue, alpha; one byte each.
pub const SHMFRAME_FORMAT_RGBA8: shmframe_pixel_format = 1;
/// Blue, green, red, alpha; one byte each.
pub const SHMFRAME_FORMAT_BGRA8: shmframe_pixel_format = 2;
/// Red, green, blue; one byte each.
pub const SHMFRAME_FORMAT_RGB8: shmframe_pixel_format = 3;
/// One byte of luminance.
pub const SHMFRAME_FORMAT_GRAY8: shmframe_pixel_format = 4;
/// Blue, green, red; one byte each (OpenCV's order).
pub const SHMFRAME_FORMAT_BGR8: shmframe_pixel_format = 5;
/// 8-bit Y plane, then interleaved U, V at half width and height.
pub const SHMFRAME_FORMAT_NV12: shmframe_pixel_format = 6;
/// 8-bit Y plane, then U and V planes at half width and height.
pub const SHMFRAME_FORMAT_I420: shmframe_pixel_format = 7;
/// Packed 4:2:2: Y0 U Y1 V for each pair of pixels.
pub const SHMFRAME_FORMAT_YUYV: shmframe_pixel_format = 8;
/// 16-bit little-endian luminance.
pub const SHMFRAME_FORMAT_GRAY16: shmframe_pixel_format = 9;
/// 32-bit little-endian float per pixel.
pub const SHMFRAME_FORMAT_GRAYF32: shmframe_pixel_format = 10;

/// YUV to RGB matrix ITU-R BT.601 (the default).
pub const SHMFRAME_MATRIX_BT601: u32 = 0;
/// YUV to RGB matrix ITU-R BT.709.
pub const SHMFRAME_MATRIX_BT709: u32 = 1;
/// Limited ("TV") range YUV values (the default).
pub const SHMFRAME_RANGE_LIMITED: u32 = 0;
/// Full range YUV values.
pub const SHMFRAME_RANGE_FULL: u32 = 1;

// The constants are literals so that cbindgen can write them into the header;
// these make the build fail if they ever differ from the engine's codes.
const _: () = assert!(SHMFRAME_FORMAT_RGBA8 == PixelFormat::Rgba8.code());
const _: () = assert!(SHMFRAME_FORMAT_BGRA8 == PixelFormat::Bgra8.code());
const _: () = assert!(SHMFRAME_FORMAT_RGB8 == PixelFormat::Rgb8.code());
const _: () = assert!(SHMFRAME_FORMAT_GRAY8 == PixelFormat::Gray8.code());
const _: () = assert!(SHMFRAME_FORMAT_BGR8 == PixelFormat::Bgr8.code());
const _: () = assert!(SHMFRAME_FORMAT_NV12 == PixelFormat::Nv12.code());
const _: () = assert!(SHMFRAME_FORMAT_I420 == PixelFormat::I420.code());
const _: () = assert!(SHMFRAME_FORMAT_YUYV == PixelFormat::Yuyv.code());
const _: () = assert!(SHMFRAME_FORMAT_GRAY16 == PixelFormat::Gray16.code());
const _: () = assert!(SHMFRAME_FORMAT_GRAYF32 == PixelFormat::GrayF32.code());
const _: () = assert!(SHMFRAME_MATRIX_BT601 == ColorMatrix::Bt601 as u32);
const _: () = assert!(SHMFRAME_MATRIX_BT709 == ColorMatrix::Bt709 as u32);
const _: () = assert!(SHMFRAME_RANGE_LIMITED == ColorRange::Limited as u32);
const _: () = assert!(SHMFRAME_RANGE_FULL == ColorRange::Full as u32);

/// A frame's size, row stride in bytes (of the first plane), format and YUV colorimetry.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct shmframe_frame_meta {
    pub width: u32,
    pub height: u32,
    pub stride: u32,
    pub format: shmframe_pixel_format,
    /// `SHMFRAME_MATRIX_BT601` or `SHMFRAME_MATRIX_BT709` (YUV formats only).
    pub matrix: u32,
    /// `SHMFRAME_RANGE_LIMITED` or `SHMFRAME_RANGE_FULL` (YUV formats only).
    pub range: u32,
}

/// What a read returns besides the pixels.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct shmframe_frame_info {
    pub meta: shmframe_frame_meta,
    /// Bytes of pixel data; on `SHMFRAME_E_BUFFER_TOO_SMALL`, the size needed.
    pub len: usize,
    /// The frame's place in the segment: 1, 2, 3, ...
    pub index: u64,
    /// The frame's number (equal to `index` unless the writer gave its own).
    pub number: u64,
    /// CLOCK_MONOTONIC nanoseconds when published, unless the writer gave its own.
    pub timestamp_ns: u64,
    /// CLOCK_MONOTONIC nanoseconds at which the frame was published into this segment.
    pub published_ns: u64,
    /// Frames skipped since the previous in-order read (0 for latest-frame reads).
    pub missed: u64,
}

/// How to create a stream (`shmframe_writer_options_default` fills in the defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct shmframe_writer_options {
    /// Slots in the ring (at least 2; default 2). Not called `slots`: Qt
    /// defines `slots` as a macro, which would empty the field for Qt users.
    pub slot_count: u32,
    /// Largest frame in bytes (default 1920 * 1080 * 4).
    pub slot_capacity: usize,
    /// File mode of the segment: 0600 (default), 0640 or 0644.
    pub mode: u32,
    /// Frames readers may hold in place at once (default 4; 0: readers
    /// always copy); the ring gets at least holds + 2 slots.
    pub holds: u32,
}

/// How to open a stream (`shmframe_reader_options_default` fills in the defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct shmframe_reader_options {
    /// Users (uids) besides ourselves whose segments we agree to read; may be
    /// NULL when `trusted_uid_count` is 0.
    pub trusted_uids: *const u32,
    pub trusted_uid_count: usize,
    /// Longest single sleep of a wait: how soon a waiting reader notices that
    /// its writer died or was replaced (default 100 ms).
    pub liveness_interval_ns: u64,
    /// Frames this reader asks to hold in place at once (default 2; the
    /// writer grants what is free of its own holds). A reader that never
    /// calls `shmframe_reader_hold_*` costs nothing for them; 0: holds refused.
    pub holds: u32,
}

impl shmframe_frame_meta {
    /// The C struct of an engine frame meta.
    pub(crate) fn from_engine(meta: &FrameMeta) -> Self {
        shmframe_frame_meta {
            width: meta.width,
            height: meta.height,
            stride: meta.stride,
            format: meta.format.code(),
            matrix: meta.color.matrix as u32,
            range: meta.color.range as u32,
        }
    }

    /// The engine's frame meta, if every field holds a known value.
    pub(crate) fn to_engine(self) -> Result<FrameMeta, Failure> {
        let format = PixelFormat::from_code(self.format).ok_or_else(|| {
            Failure::invalid(format!(
                "unknown pixel format code {} (SHMFRAME_FORMAT_* are 1 to 10)",
                self.format
            ))
        })?;
        let color = Colorimetry::from_word(u64::from(self.matrix) | u64::from(self.range) << 8)
            .filter(|_| self.matrix <= 0xff && self.range <= 0xff)
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "unknown matrix {} or range {} (SHMFRAME_MATRIX_*, SHMFRAME_RANGE_*)",
                    self.matrix, self.range
                ))
            })?;
        Ok(FrameMeta {
            width: self.width,
            height: self.height,
            stride: self.stride,
            format,
            color,
        })
    }
}

impl shmframe_frame_info {
    /// The C struct of an engine frame info.
    pub(crate) fn from_engine(info: &FrameInfo) -> Self {
        shmframe_frame_info {
            meta: shmframe_frame_meta::from_engine(&info.meta),
            len: info.len,
            index: info.index,
            number: info.number,
            timestamp_ns: info.timestamp_ns,
            published_ns: info.published_ns,
            missed: info.missed,
        }
    }

    /// An info that says only how many bytes a frame needs.
    pub(crate) fn needing(len: usize) -> Self {
        shmframe_frame_info {
            meta: shmframe_frame_meta {
                width: 0,
                height: 0,
                stride: 0,
                format: 0,
                matrix: 0,
                range: 0,
            },
            len,
            index: 0,
            number: 0,
            timestamp_ns: 0,
            published_ns: 0,
            missed: 0,
        }
    }
}

impl shmframe_writer_options {
    /// The engine's defaults.
    pub(crate) fn defaults() -> Self {
        let defaults = engine::WriterOptions::default();
        shmframe_writer_options {
            slot_count: defaults.slots as u32,
            slot_capacity: defaults.slot_capacity,
            mode: defaults.mode,
            holds: defaults.holds as u32,
        }
    }

    pub(crate) fn to_engine(self) -> engine::WriterOptions {
        engine::WriterOptions {
            slots: self.slot_count as usize,
            slot_capacity: self.slot_capacity,
            mode: self.mode,
            holds: self.holds as usize,
        }
    }
}

impl shmframe_reader_options {
    /// The engine's defaults.
    pub(crate) fn defaults() -> Self {
        let defaults = engine::ReaderOptions::default();
        shmframe_reader_options {
            trusted_uids: std::ptr::null(),
            trusted_uid_count: 0,
            liveness_interval_ns: duration_ns(defaults.liveness_interval),
            holds: defaults.holds as u32,
        }
    }

    /// The engine's options.
    ///
    /// # Safety
    ///
    /// `trusted_uids` is NULL or valid for reads of `trusted_uid_count` values.
    pub(crate) unsafe fn to_engine(self) -> Result<engine::ReaderOptions, Failure> {
        let trusted_uids = match (self.trusted_uids.is_null(), self.trusted_uid_count) {
            (_, 0) => Vec::new(),
            (true, _) => {
                return Err(Failure::invalid(
                    "trusted_uids is NULL but trusted_uid_count is not 0",
                ))
            }
            (false, count) => {
                object_size(count.saturating_mul(4), "trusted_uids")?;
                // SAFETY: not NULL, within isize::MAX bytes, and valid for
                // `trusted_uid_count` reads by the caller's contract.
                unsafe { std::slice::from_raw_parts(self.trusted_uids, count) }.to_vec()
            }
        };
        if self.liveness_interval_ns == 0 {
            return Err(Failure::invalid("liveness_interval_ns must be above 0"));
        }
        Ok(engine::ReaderOptions {
            trusted_uids,
            liveness_interval: Duration::from_nanos(self.liveness_interval_ns),
            holds: self.holds as usize,
        })
    }
}

fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
