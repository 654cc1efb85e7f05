//! The frame of every entry point: no panic unwinds into C (Rust would abort
//! the caller's process), and every failure leaves a message for
//! `shmframe_last_error`.

use crate::last_error::set_last_error;
use crate::status::{status_of, SHMFRAME_E_INTERNAL, SHMFRAME_E_INVALID, SHMFRAME_E_STATE};
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why a call failed: its status code and a message a user can act on.
pub(crate) struct Failure {
    pub status: c_int,
    pub message: String,
}

impl Failure {
    /// A bad argument (NULL pointer, out-of-range value).
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure {
            status: SHMFRAME_E_INVALID,
            message: message.into(),
        }
    }

    /// A call that does not fit the handle's state.
    pub fn state(message: impl Into<String>) -> Self {
        Failure {
            status: SHMFRAME_E_STATE,
            message: message.into(),
        }
    }
}

impl From<engine::Error> for Failure {
    fn from(error: engine::Error) -> Self {
        Failure {
            status: status_of(&error),
            message: error.to_string(),
        }
    }
}

/// Runs the body of an entry point that returns a status.
pub(crate) fn status_entry(body: impl FnOnce() -> Result<c_int, Failure>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(failure.message);
            failure.status
        }
        Err(panic) => {
            set_last_error(panic_message(&*panic));
            SHMFRAME_E_INTERNAL
        }
    }
}

/// Runs the body of an entry point that returns nothing; a panic leaves only its message.
pub(crate) fn void_entry(body: impl FnOnce()) {
    value_entry((), body);
}

/// Runs the body of an entry point that returns a value; `on_panic` if it
/// panics (the message is kept for `shmframe_last_error`).
pub(crate) fn value_entry<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        set_last_error(panic_message(&*panic));
        on_panic
    })
}

/// The body of the `*_options_default` entry points: writes `defaults()` to
/// `opts` unless it is NULL.
///
/// # Safety
///
/// `opts` is NULL or valid for a write of a `T`.
pub(crate) unsafe fn options_default_entry<T>(opts: *mut T, defaults: impl FnOnce() -> T) {
    void_entry(|| {
        if !opts.is_null() {
            // SAFETY: not NULL, and valid for a write by the caller's contract.
            unsafe { opts.write(defaults()) };
        }
    });
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("internal error in shmframe (a bug, please report it): {what}")
}

/// Checks that a byte count can describe one object (at most `isize::MAX`
/// bytes, which a slice needs); a larger one is a caller's mistake.
pub(crate) fn object_size(len: usize, what: &str) -> Result<usize, Failure> {
    if isize::try_from(len).is_err() {
        return Err(Failure::invalid(format!(
            "{what} of {len} bytes is larger than any object"
        )));
    }
    Ok(len)
}

/// Checks that a pointer argument is not NULL.
pub(crate) fn non_null<T>(pointer: *const T, what: &str) -> Result<(), Failure> {
    if pointer.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    Ok(())
}
