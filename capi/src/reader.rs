//! The reader's entry points: open a stream, copy frames out (latest or in
//! order, at once or waiting), close.

use crate::entry::{
    non_null, object_size, options_default_entry, status_entry, void_entry, Failure,
};
use crate::name::name_arg;
use crate::status::{SHMFRAME_CLOSED, SHMFRAME_NO_FRAME, SHMFRAME_OK};
use crate::types::{shmframe_frame_info, shmframe_reader_options};
use engine::{Error, Reader};
use std::ffi::{c_char, c_int, c_void};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Longest wait between two looks at whether the writer closed, so a wait
/// with a long timeout returns `SHMFRAME_CLOSED` soon after the writer goes.
const CLOSED_POLL: Duration = Duration::from_millis(100);

/// A read-only view of one stream (opaque). Not thread-safe: one thread at a time.
pub struct shmframe_reader {
    pub(crate) reader: Reader,
}

/// Which frame a read is for.
#[derive(Clone, Copy)]
pub(crate) enum Want {
    Latest,
    Next,
}

/// Fills `opts` with the defaults: trust only our own uid, 100 ms liveness
/// interval, 2 holds.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_options_default(opts: *mut shmframe_reader_options) {
    // SAFETY: the caller's contract is this function's.
    unsafe { options_default_entry(opts, shmframe_reader_options::defaults) }
}

/// Opens stream `name`; `*out` is the new reader. `opts` may be NULL (defaults).
/// `SHMFRAME_E_NOT_FOUND` if no writer has created it.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_open(
    name: *const c_char,
    opts: *const shmframe_reader_options,
    out: *mut *mut shmframe_reader,
) -> c_int {
    status_entry(|| {
        non_null(out, "out")?;
        // SAFETY: `name` is NULL or a NUL-terminated string, by the caller's contract.
        let name = unsafe { name_arg(name) }?;
        let options = if opts.is_null() {
            engine::ReaderOptions::default()
        } else {
            // SAFETY: not NULL, valid for a read, and its uid array valid as it says.
            unsafe { opts.read().to_engine() }?
        };
        let reader = Reader::open_with(name, &options)?;
        // SAFETY: `out` is not NULL and valid for a write by the caller's contract.
        unsafe { out.write(Box::into_raw(Box::new(shmframe_reader { reader }))) };
        Ok(SHMFRAME_OK)
    })
}

/// Copies the latest frame into `buf` (`cap` bytes) and describes it in `*info`.
/// `SHMFRAME_NO_FRAME` if nothing was published yet, `SHMFRAME_CLOSED` if
/// nothing was and the writer is gone, `SHMFRAME_E_BUFFER_TOO_SMALL` with
/// `info->len` set to the size needed (`buf` may be NULL when `cap` is 0).
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_latest(
    r: *mut shmframe_reader,
    buf: *mut c_void,
    cap: usize,
    info: *mut shmframe_frame_info,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { read(r, buf, cap, info, Want::Latest, None) }
}

/// Copies the next frame in order (the first is the one latest at open);
/// `info->missed` counts frames the writer overwrote before they were read.
/// `SHMFRAME_NO_FRAME` when caught up, `SHMFRAME_CLOSED` when caught up and the
/// writer is gone. A frame too large for `buf` stays next.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_next(
    r: *mut shmframe_reader,
    buf: *mut c_void,
    cap: usize,
    info: *mut shmframe_frame_info,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { read(r, buf, cap, info, Want::Next, None) }
}

/// Waits up to `timeout_ns` (negative: no limit, 0: no wait) for a frame newer
/// than the last one returned and copies the latest. `SHMFRAME_NO_FRAME` on
/// timeout, `SHMFRAME_CLOSED` soon after the writer goes.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_wait_latest(
    r: *mut shmframe_reader,
    buf: *mut c_void,
    cap: usize,
    timeout_ns: i64,
    info: *mut shmframe_frame_info,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { read(r, buf, cap, info, Want::Latest, Some(timeout_ns)) }
}

/// Waits up to `timeout_ns` (negative: no limit, 0: no wait) for the next
/// frame in order. `SHMFRAME_NO_FRAME` on timeout, `SHMFRAME_CLOSED` once the
/// writer is gone and every frame it left was read.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_wait_next(
    r: *mut shmframe_reader,
    buf: *mut c_void,
    cap: usize,
    timeout_ns: i64,
    info: *mut shmframe_frame_info,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { read(r, buf, cap, info, Want::Next, Some(timeout_ns)) }
}

/// 1 if the writer is running and publishing into this stream, 0 if not,
/// `SHMFRAME_E_INVALID` for NULL.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_writer_alive(r: *const shmframe_reader) -> c_int {
    status_entry(|| {
        // SAFETY: `r` is NULL or a live reader of this library.
        let r = unsafe { r.as_ref() }.ok_or_else(|| Failure::invalid("the reader is NULL"))?;
        Ok(c_int::from(r.reader.writer_alive()))
    })
}

/// A file descriptor for event loops (`poll`, `epoll`, Qt's `QSocketNotifier`,
/// GLib), level-triggered: readable while a frame newer than the last one this
/// reader returned is there, and once after the writer closes, dies or is
/// replaced (and once when a successor appears). A read that leaves nothing
/// newer unread clears it (one returning a frame, or finding nothing new), as
/// does `shmframe_reader_clear_readiness`. The same fd on every call; the
/// reader owns it (never read, write or close it) until `shmframe_reader_close`.
/// Negative: an error status. See docs/readiness.md.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_fd(r: *const shmframe_reader) -> c_int {
    status_entry(|| {
        // SAFETY: `r` is NULL or a live reader of this library, used by one
        // thread; the handle is a Box this library owns, so it may be changed
        // through the pointer even though C holds it as const (the first call
        // starts the reader's readiness helper).
        let r = unsafe { r.cast_mut().as_mut() }
            .ok_or_else(|| Failure::invalid("the reader is NULL"))?;
        Ok(r.reader.readiness_fd()?.as_raw_fd())
    })
}

/// Makes the fd of `shmframe_reader_fd` unreadable until the next new frame
/// (or end of the writer not yet told). No effect before the first
/// `shmframe_reader_fd` or for NULL.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_clear_readiness(r: *const shmframe_reader) {
    void_entry(|| {
        // SAFETY: `r` is NULL or a live reader of this library.
        if let Some(r) = unsafe { r.as_ref() } {
            r.reader.clear_readiness();
        }
    });
}

/// Closes the reader and frees it. NULL is allowed.
#[no_mangle]
pub unsafe extern "C" fn shmframe_reader_close(r: *mut shmframe_reader) {
    void_entry(|| {
        if !r.is_null() {
            // SAFETY: a reader from `shmframe_reader_open`, not used after this
            // call: the Box made there is dropped once.
            drop(unsafe { Box::from_raw(r) });
        }
    });
}

/// One read of any kind: checks the arguments, reads, fills `*info`.
///
/// # Safety
///
/// `r` is NULL or a live reader used by one thread; `buf` is valid for writes
/// of `cap` bytes (or `cap` is 0); `info` is NULL or valid for a write.
unsafe fn read(
    r: *mut shmframe_reader,
    buf: *mut c_void,
    cap: usize,
    info: *mut shmframe_frame_info,
    want: Want,
    timeout_ns: Option<i64>,
) -> c_int {
    status_entry(|| {
        // SAFETY: by the function's contract.
        let r = unsafe { r.as_mut() }.ok_or_else(|| Failure::invalid("the reader is NULL"))?;
        non_null(info, "info")?;
        let out: &mut [u8] = if cap == 0 {
            &mut []
        } else {
            non_null(buf, "buf")?;
            let cap = object_size(cap, "cap")?;
            // SAFETY: not NULL, at most isize::MAX bytes, and valid for writes
            // of `cap` bytes by the contract; the engine only writes into it
            // (never reads).
            unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) }
        };
        let got = match (timeout_ns, want) {
            (None, Want::Latest) => read_now(&mut r.reader, |r| r.latest_into(out)),
            (None, Want::Next) => read_now(&mut r.reader, |r| r.next_into(out)),
            (Some(ns), Want::Latest) => wait(&mut r.reader, ns, |r, t| r.wait_latest_into(out, t)),
            (Some(ns), Want::Next) => wait(&mut r.reader, ns, |r, t| r.wait_next_into(out, t)),
        };
        let (status, written) = match got {
            Ok(Some(frame)) => (Ok(SHMFRAME_OK), shmframe_frame_info::from_engine(&frame)),
            Ok(None) => (
                Ok(nothing_status(&r.reader)),
                shmframe_frame_info::needing(0),
            ),
            Err(Error::BufferTooSmall { len, got }) => (
                Err(Error::BufferTooSmall { len, got }.into()),
                shmframe_frame_info::needing(len),
            ),
            Err(e) => return Err(e.into()),
        };
        // SAFETY: not NULL, and valid for a write by the contract.
        unsafe { info.write(written) };
        status
    })
}

/// Reads once without waiting (`once`); follows a successor writer if this
/// one is gone and nothing was left to read.
pub(crate) fn read_now<T>(
    reader: &mut Reader,
    mut once: impl FnMut(&mut Reader) -> Result<Option<T>, Error>,
) -> Result<Option<T>, Error> {
    match once(reader)? {
        Some(got) => Ok(Some(got)),
        None if !reader.writer_alive() && reader.follow()? => once(reader),
        None => Ok(None),
    }
}

/// Waits until `wait_for(reader, slice)` gets something, the timeout passes
/// or the writer goes, in slices of at most `CLOSED_POLL`.
pub(crate) fn wait<T>(
    reader: &mut Reader,
    timeout_ns: i64,
    mut wait_for: impl FnMut(&mut Reader, Duration) -> Result<Option<T>, Error>,
) -> Result<Option<T>, Error> {
    let deadline = u64::try_from(timeout_ns)
        .ok()
        .map(|ns| Instant::now() + Duration::from_nanos(ns));
    loop {
        // Time left, if there is a limit.
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let slice = left.map_or(CLOSED_POLL, |left| left.min(CLOSED_POLL));
        let got = wait_for(reader, slice)?;
        let timed_out = left.is_some_and(|left| left <= slice);
        if got.is_some() || !reader.writer_alive() || timed_out {
            return Ok(got);
        }
    }
}

/// The status of a read that found nothing: the writer may still publish
/// (`SHMFRAME_NO_FRAME`) or is gone (`SHMFRAME_CLOSED`).
pub(crate) fn nothing_status(reader: &Reader) -> c_int {
    if reader.writer_alive() {
        SHMFRAME_NO_FRAME
    } else {
        SHMFRAME_CLOSED
    }
}
