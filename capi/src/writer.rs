//! The writer's entry points: create a stream, publish frames (copied, or
//! filled in place between begin and commit), close.

use crate::entry::{
    non_null, object_size, options_default_entry, status_entry, value_entry, void_entry, Failure,
};
use crate::name::name_arg;
use crate::status::SHMFRAME_OK;
use crate::types::{shmframe_frame_meta, shmframe_writer_options};
use engine::{BegunFrame, Writer};
use std::ffi::{c_char, c_int, c_void};

/// The one writer of a stream (opaque). Not thread-safe: one thread at a time.
pub struct shmframe_writer {
    writer: Writer,
    /// The frame handed out by `shmframe_writer_begin`, until commit or abort.
    begun: Option<BegunFrame>,
}

/// Fills `opts` with the defaults: 2 slots of 1920 * 1080 * 4 bytes, mode 0600,
/// 4 holds (so the ring gets 6 slots).
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_options_default(opts: *mut shmframe_writer_options) {
    // SAFETY: the caller's contract is this function's.
    unsafe { options_default_entry(opts, shmframe_writer_options::defaults) }
}

/// Creates stream `name` and becomes its writer; `*out` is the new writer.
/// `opts` may be NULL (defaults). `SHMFRAME_E_EXISTS` if a live process writes it already.
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_create(
    name: *const c_char,
    opts: *const shmframe_writer_options,
    out: *mut *mut shmframe_writer,
) -> c_int {
    status_entry(|| {
        non_null(out, "out")?;
        // SAFETY: `name` is NULL or a NUL-terminated string, by the caller's contract.
        let name = unsafe { name_arg(name) }?;
        let options = if opts.is_null() {
            shmframe_writer_options::defaults()
        } else {
            // SAFETY: not NULL, and valid for a read by the caller's contract.
            unsafe { opts.read() }
        };
        let writer = Writer::create(name, &options.to_engine())?;
        let handle = Box::new(shmframe_writer {
            writer,
            begun: None,
        });
        // SAFETY: `out` is not NULL and valid for a write by the caller's contract.
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(SHMFRAME_OK)
    })
}

/// Publishes a frame copied from `pixels`, exactly `len` bytes (the frame's length).
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_publish(
    w: *mut shmframe_writer,
    meta: *const shmframe_frame_meta,
    pixels: *const c_void,
    len: usize,
) -> c_int {
    status_entry(|| {
        // SAFETY: `w` is NULL or a live writer of this library, used by one thread.
        let w = unsafe { writer_arg(w) }?;
        // SAFETY: `meta` is NULL or valid for a read.
        let meta = unsafe { meta_arg(meta) }?;
        non_null(pixels, "pixels")?;
        let len = object_size(len, "len")?;
        no_frame_begun(w)?;
        // SAFETY: not NULL, at most isize::MAX bytes, and valid for reads of
        // `len` bytes by the caller's contract.
        let pixels = unsafe { std::slice::from_raw_parts(pixels.cast::<u8>(), len) };
        w.writer.publish(&meta, pixels)?;
        Ok(SHMFRAME_OK)
    })
}

/// Reserves the next frame's slot for `meta`: `*slot` is where its bytes go,
/// `*capacity` how many (the frame's length). Readers skip the frame until
/// `shmframe_writer_commit`; `shmframe_writer_abort` drops it. The pointer is
/// valid until then. Bytes not written keep the slot's old contents.
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_begin(
    w: *mut shmframe_writer,
    meta: *const shmframe_frame_meta,
    slot: *mut *mut c_void,
    capacity: *mut usize,
) -> c_int {
    status_entry(|| {
        // SAFETY: `w` is NULL or a live writer of this library, used by one thread.
        let w = unsafe { writer_arg(w) }?;
        // SAFETY: `meta` is NULL or valid for a read.
        let meta = unsafe { meta_arg(meta) }?;
        non_null(slot, "slot")?;
        non_null(capacity, "capacity")?;
        no_frame_begun(w)?;
        let frame = w.writer.begin(&meta)?;
        // SAFETY: both are not NULL and valid for a write by the caller's contract.
        unsafe {
            slot.write(frame.as_mut_ptr().cast());
            capacity.write(frame.len());
        }
        w.begun = Some(frame);
        Ok(SHMFRAME_OK)
    })
}

/// Publishes the frame `shmframe_writer_begin` handed out.
/// `SHMFRAME_E_STATE` if no frame is begun.
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_commit(w: *mut shmframe_writer) -> c_int {
    status_entry(|| {
        // SAFETY: `w` is NULL or a live writer of this library, used by one thread.
        let w = unsafe { writer_arg(w) }?;
        let frame = w.begun.take().ok_or_else(|| {
            Failure::state("no frame to commit: call shmframe_writer_begin first")
        })?;
        w.writer.commit(frame)?;
        Ok(SHMFRAME_OK)
    })
}

/// Publishes nothing for the frame `shmframe_writer_begin` handed out (if any).
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_abort(w: *mut shmframe_writer) {
    void_entry(|| {
        // SAFETY: `w` is NULL or a live writer of this library, used by one thread.
        if let Ok(w) = unsafe { writer_arg(w) } {
            if let Some(frame) = w.begun.take() {
                w.writer.abort(frame);
            }
        }
    });
}

/// Frames published so far into the current segment (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_frames_published(w: *const shmframe_writer) -> u64 {
    value_entry(0, || {
        // SAFETY: `w` is NULL or a live writer of this library.
        unsafe { w.as_ref() }.map_or(0, |w| w.writer.frames_published())
    })
}

/// Closes the stream (readers see `SHMFRAME_CLOSED` once they have read what
/// is left) and frees the writer. NULL is allowed.
#[no_mangle]
pub unsafe extern "C" fn shmframe_writer_close(w: *mut shmframe_writer) {
    void_entry(|| {
        if !w.is_null() {
            // SAFETY: a writer from `shmframe_writer_create`, not used after
            // this call: the Box made there is dropped once.
            drop(unsafe { Box::from_raw(w) });
        }
    });
}

/// The writer behind `w`.
///
/// # Safety
///
/// `w` is NULL or a live writer from `shmframe_writer_create`, not used by another thread.
unsafe fn writer_arg<'a>(w: *mut shmframe_writer) -> Result<&'a mut shmframe_writer, Failure> {
    // SAFETY: by the function's contract.
    unsafe { w.as_mut() }.ok_or_else(|| Failure::invalid("the writer is NULL"))
}

/// The frame metadata behind `meta`, checked.
///
/// # Safety
///
/// `meta` is NULL or valid for a read.
unsafe fn meta_arg(meta: *const shmframe_frame_meta) -> Result<engine::FrameMeta, Failure> {
    non_null(meta, "meta")?;
    // SAFETY: not NULL, valid for a read by the contract; every bit pattern is a valid struct.
    unsafe { meta.read() }.to_engine()
}

fn no_frame_begun(w: &shmframe_writer) -> Result<(), Failure> {
    if w.begun.is_some() {
        return Err(Failure::state(
            "a frame is begun: shmframe_writer_commit or shmframe_writer_abort it first",
        ));
    }
    Ok(())
}
