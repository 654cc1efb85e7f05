//! Zero-copy reads: a frame held in place in the segment, its pixels
//! unchanged until the hold is released.
//!
//! A hold owns the mapping and the reader's hold file (the engine's
//! `OwnedHeldFrame`), so it may outlive its reader and be released on any
//! thread.

use crate::entry::{non_null, status_entry, void_entry, Failure};
use crate::reader::{nothing_status, read_now, shmframe_reader, wait, Want};
use crate::status::SHMFRAME_OK;
use crate::types::shmframe_frame_info;
use engine::{Error, HeldFrame, OwnedHeldFrame, Reader};
use std::ffi::c_int;

/// A frame held in place (opaque): its pixels stay as they are until
/// `shmframe_hold_release`. May outlive its reader and move between threads.
pub struct shmframe_hold {
    frame: OwnedHeldFrame,
}

/// Holds the latest frame in place; `*out` is the hold (NULL unless
/// `SHMFRAME_OK`). `SHMFRAME_E_NO_HOLD_FREE` at once when no hold is free
/// (copy with `shmframe_reader_latest` instead), `SHMFRAME_NO_FRAME` if
/// nothing was published yet, `SHMFRAME_CLOSED` if nothing was and the writer is gone.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_hold_latest(
    r: *mut shmframe_reader,
    out: *mut *mut shmframe_hold,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { hold(r, out, Want::Latest, None) }
}

/// Holds the next frame in order (as `shmframe_reader_next`: `missed` in its
/// info counts the frames skipped). On `SHMFRAME_E_NO_HOLD_FREE` the frame stays next.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_hold_next(
    r: *mut shmframe_reader,
    out: *mut *mut shmframe_hold,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { hold(r, out, Want::Next, None) }
}

/// Waits up to `timeout_ns` (negative: no limit, 0: no wait) for a frame newer
/// than the last one returned and holds the latest. `SHMFRAME_NO_FRAME` on
/// timeout, `SHMFRAME_CLOSED` soon after the writer goes.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_wait_hold_latest(
    r: *mut shmframe_reader,
    timeout_ns: i64,
    out: *mut *mut shmframe_hold,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { hold(r, out, Want::Latest, Some(timeout_ns)) }
}

/// Waits up to `timeout_ns` (negative: no limit, 0: no wait) for the next
/// frame in order and holds it.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_wait_hold_next(
    r: *mut shmframe_reader,
    timeout_ns: i64,
    out: *mut *mut shmframe_hold,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { hold(r, out, Want::Next, Some(timeout_ns)) }
}

/// The held frame's pixels: `*data` points at its `*len` bytes in the
/// segment, valid until `shmframe_hold_release`. Read-only: the mapping is,
/// so a write faults.
#[no_mangle]
pub unsafe extern "C" fn shmframe_hold_pixels(
    h: *const shmframe_hold,
    data: *mut *const u8,
    len: *mut usize,
) -> c_int {
    status_entry(|| {
        // SAFETY: `h` is NULL or a live hold of this library.
        let h = unsafe { h.as_ref() }.ok_or_else(|| Failure::invalid("the hold is NULL"))?;
        non_null(data, "data")?;
        non_null(len, "len")?;
        let pixels = h.frame.pixels();
        // SAFETY: both are not NULL and valid for a write by the caller's contract.
        unsafe {
            data.write(pixels.as_ptr());
            len.write(pixels.len());
        }
        Ok(SHMFRAME_OK)
    })
}

/// Describes the held frame in `*info`.
#[no_mangle]
pub unsafe extern "C" fn shmframe_hold_info(
    h: *const shmframe_hold,
    info: *mut shmframe_frame_info,
) -> c_int {
    status_entry(|| {
        // SAFETY: `h` is NULL or a live hold of this library.
        let h = unsafe { h.as_ref() }.ok_or_else(|| Failure::invalid("the hold is NULL"))?;
        non_null(info, "info")?;
        // SAFETY: not NULL, and valid for a write by the caller's contract.
        unsafe { info.write(shmframe_frame_info::from_engine(h.frame.info())) };
        Ok(SHMFRAME_OK)
    })
}

/// Ends the hold (the writer may reuse its slot) and frees it. NULL is
/// allowed; so is releasing after `shmframe_reader_close` of its reader, and
/// on another thread than the reader's.
#[no_mangle]
pub unsafe extern "C" fn shmframe_hold_release(h: *mut shmframe_hold) {
    void_entry(|| {
        if !h.is_null() {
            // SAFETY: a hold from this library, not used after this call:
            // the Box made by `hold` is dropped once.
            drop(unsafe { Box::from_raw(h) });
        }
    });
}

/// One hold of any kind: checks the arguments, holds, hands out the handle.
///
/// # Safety
///
/// `r` is NULL or a live reader used by one thread; `out` is NULL or valid
/// for a write.
unsafe fn hold(
    r: *mut shmframe_reader,
    out: *mut *mut shmframe_hold,
    want: Want,
    timeout_ns: Option<i64>,
) -> c_int {
    status_entry(|| {
        non_null(out, "out")?;
        // SAFETY: not NULL and valid for a write by the contract. NULL until a
        // hold is made, so a caller may release `*out` whatever the status.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: by the function's contract.
        let r = unsafe { r.as_mut() }.ok_or_else(|| Failure::invalid("the reader is NULL"))?;
        let once = |reader: &mut Reader| hold_once(reader, want);
        let got = match timeout_ns {
            None => read_now(&mut r.reader, once),
            Some(ns) => wait(&mut r.reader, ns, |reader, slice| match want {
                Want::Latest => owned(reader.wait_hold_latest(slice)),
                Want::Next => owned(reader.wait_hold_next(slice)),
            }),
        }?;
        let Some(frame) = got else {
            return Ok(nothing_status(&r.reader));
        };
        let handle = Box::into_raw(Box::new(shmframe_hold { frame }));
        // SAFETY: as above.
        unsafe { out.write(handle) };
        Ok(SHMFRAME_OK)
    })
}

fn hold_once(reader: &mut Reader, want: Want) -> Result<Option<OwnedHeldFrame>, Error> {
    owned(match want {
        Want::Latest => reader.hold_latest(),
        Want::Next => reader.hold_next(),
    })
}

/// The hold, owning what it needs: it outlives this call's borrow of the reader.
fn owned(held: Result<Option<HeldFrame<'_>>, Error>) -> Result<Option<OwnedHeldFrame>, Error> {
    held.map(|frame| frame.map(HeldFrame::into_owned))
}
