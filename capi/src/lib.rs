//! The C library of shmframe: `libshmframe.so` / `libshmframe.a` and
//! `include/shmframe.h` (generated from this crate by cbindgen).
//!
//! Every entry point checks its pointers (NULL gives `SHMFRAME_E_INVALID`),
//! catches panics (`SHMFRAME_E_INTERNAL`) and leaves a message for
//! `shmframe_last_error` when it fails. The functions are `unsafe` for Rust:
//! each pointer must be NULL or valid as its doc says, and a handle is used by
//! one thread at a time and not after it is closed; the header documents
//! those contracts for C.

// The C names are the API (`shmframe_writer`, not `ShmframeWriter`).
#![allow(non_camel_case_types)]
// Each function's doc states its pointer contract; the C header carries it.
#![allow(clippy::missing_safety_doc)]

mod entry;
mod hold;
mod last_error;
mod name;
mod reader;
mod status;
mod types;
mod writer;

pub use hold::*;
pub use reader::*;
pub use status::*;
pub use types::*;
pub use writer::*;

use std::ffi::{c_char, c_int};

/// A frame `width` x `height` of `format` with rows packed (no padding),
/// BT.601 limited range. An unknown format gives stride 0, refused by publish.
#[no_mangle]
pub extern "C" fn shmframe_frame_meta_packed(
    width: u32,
    height: u32,
    format: shmframe_pixel_format,
) -> shmframe_frame_meta {
    let meta = |stride| shmframe_frame_meta {
        width,
        height,
        stride,
        format,
        matrix: SHMFRAME_MATRIX_BT601,
        range: SHMFRAME_RANGE_LIMITED,
    };
    entry::value_entry(meta(0), || {
        meta(
            engine::PixelFormat::from_code(format)
                .map_or(0, |f| engine::FrameMeta::packed(width, height, f).stride),
        )
    })
}

/// The byte length of a frame described by `meta` (all planes) in `*len`;
/// `SHMFRAME_E_INVALID` if `meta` is inconsistent.
#[no_mangle]
pub unsafe extern "C" fn shmframe_frame_meta_len(
    meta: *const shmframe_frame_meta,
    len: *mut usize,
) -> c_int {
    entry::status_entry(|| {
        entry::non_null(meta, "meta")?;
        entry::non_null(len, "len")?;
        // SAFETY: not NULL and valid for a read by the caller's contract.
        let frame_len = unsafe { meta.read() }.to_engine()?.checked_len()?;
        // SAFETY: not NULL and valid for a write by the caller's contract.
        unsafe { len.write(frame_len) };
        Ok(SHMFRAME_OK)
    })
}

/// The short name of a pixel format (`"rgba8"`, `"nv12"`, ...), or NULL if unknown.
#[no_mangle]
pub extern "C" fn shmframe_format_name(format: shmframe_pixel_format) -> *const c_char {
    // One NUL-terminated copy of each name, made once.
    static NAMES: std::sync::OnceLock<Vec<std::ffi::CString>> = std::sync::OnceLock::new();
    entry::value_entry(std::ptr::null(), || {
        let names = NAMES.get_or_init(|| {
            engine::PixelFormat::ALL
                .iter()
                .map(|f| std::ffi::CString::new(f.name()).unwrap_or_default())
                .collect()
        });
        engine::PixelFormat::ALL
            .iter()
            .position(|f| f.code() == format)
            .map_or(std::ptr::null(), |i| names[i].as_ptr())
    })
}

/// The library's version, `"MAJOR.MINOR.PATCH"`.
#[no_mangle]
pub extern "C" fn shmframe_version() -> *const c_char {
    // A constant: nothing here can panic.
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Copies the message of this thread's last failed call into `buf` (at most
/// `cap - 1` bytes and a terminating NUL, like `snprintf`) and returns its full
/// length. `buf` may be NULL when `cap` is 0, to learn the length. A call that
/// succeeds leaves the message as it was; "" before any failure.
#[no_mangle]
pub unsafe extern "C" fn shmframe_last_error(buf: *mut c_char, cap: usize) -> usize {
    // SAFETY: `buf` is NULL or valid for `cap` bytes by the caller's contract.
    entry::value_entry(0, || unsafe { last_error::copy_last_error(buf, cap) })
}
