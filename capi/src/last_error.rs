//! The message of this thread's last failed call.

use crate::entry::value_entry;
use std::cell::RefCell;
use std::ffi::c_char;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keeps `message` as this thread's last error.
pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// Copies the message of this thread's last failed call into `buf` (at most
/// `cap - 1` bytes and a terminating NUL, like `snprintf`) and returns its full
/// length. `buf` may be NULL when `cap` is 0, to learn the length. A call that
/// succeeds leaves the message as it was; "" before any failure.
#[no_mangle]
pub unsafe extern "C" fn shmframe_last_error(buf: *mut c_char, cap: usize) -> usize {
    value_entry(0, || {
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
    })
}
