//! The message of this thread's last failed call.

use std::cell::RefCell;
use std::ffi::c_char;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keeps `message` as this thread's last error.
pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// Copies this thread's last error into `buf` as `shmframe_last_error`
/// documents, and returns its full length.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `cap` bytes.
pub(crate) unsafe fn copy_last_error(buf: *mut c_char, cap: usize) -> usize {
    LAST_ERROR.with(|last| {
        let last = last.borrow();
        let length = last.len();
        if buf.is_null() || cap == 0 {
            return length;
        }
        let copied = length.min(cap - 1);
        // SAFETY: the caller gives `buf` valid for `cap` bytes; we write
        // `copied + 1 <= cap` bytes, from a String that cannot overlap it.
        unsafe {
            std::ptr::copy_nonoverlapping(last.as_ptr(), buf.cast::<u8>(), copied);
            *buf.add(copied) = 0;
        }
        length
    })
}
