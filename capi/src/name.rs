//! Stream names from C strings.

use crate::entry::{non_null, Failure};
use std::ffi::{c_char, CStr};

/// The stream name behind `name`, as UTF-8 (the engine validates the rest).
///
/// # Safety
///
/// `name` is NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn name_arg<'a>(name: *const c_char) -> Result<&'a str, Failure> {
    non_null(name, "name")?;
    // SAFETY: not NULL and NUL-terminated by the contract.
    let name = unsafe { CStr::from_ptr(name) };
    name.to_str()
        .map_err(|_| Failure::invalid(format!("invalid stream name {name:?}: not UTF-8")))
}
