//! Status codes: 0 is success, positive values are normal outcomes, negative
//! values are errors, so `rc < 0` catches every error.

use engine::Error;
use std::ffi::{c_char, c_int};

/// Success.
pub const SHMFRAME_OK: c_int = 0;
/// Nothing new yet, or a wait timed out.
pub const SHMFRAME_NO_FRAME: c_int = 1;
/// The writer closed the stream (or died) and every frame it left was read.
pub const SHMFRAME_CLOSED: c_int = 2;
/// A NULL or otherwise invalid argument: name, options, frame metadata or pixel length.
pub const SHMFRAME_E_INVALID: c_int = -1;
/// No stream of that name: is a writer running?
pub const SHMFRAME_E_NOT_FOUND: c_int = -2;
/// The stream already has a live writer.
pub const SHMFRAME_E_EXISTS: c_int = -3;
/// The frame is larger than the buffer; `info->len` says the size needed.
pub const SHMFRAME_E_BUFFER_TOO_SMALL: c_int = -4;
/// The segment is not a valid shmframe segment, holds a corrupt frame or was truncated.
pub const SHMFRAME_E_CORRUPT: c_int = -5;
/// An operating-system call failed.
pub const SHMFRAME_E_IO: c_int = -6;
/// The segment belongs to another user or is not a regular file: refused.
pub const SHMFRAME_E_PERMISSION: c_int = -7;
/// The frame does not fit the writer's slot capacity.
pub const SHMFRAME_E_TOO_LARGE: c_int = -8;
/// No consistent copy after many attempts: the writer kept overwriting the frame.
pub const SHMFRAME_E_STARVED: c_int = -9;
/// The frame's pixel format is unknown to this version (a newer writer).
pub const SHMFRAME_E_UNSUPPORTED: c_int = -10;
/// The call does not fit the writer's state (commit with nothing begun,
/// begin or publish while a frame is begun).
pub const SHMFRAME_E_STATE: c_int = -11;
/// A bug inside shmframe (a caught panic); the message says where.
pub const SHMFRAME_E_INTERNAL: c_int = -12;
/// No hold is free (all taken, this reader's not granted yet, or the writer
/// honours none): nothing was read; copy the frame instead.
pub const SHMFRAME_E_NO_HOLD_FREE: c_int = -13;

/// The status code of an engine error.
pub(crate) fn status_of(error: &Error) -> c_int {
    match error {
        Error::InvalidName { .. }
        | Error::BadFrame { .. }
        | Error::LengthMismatch { .. }
        | Error::InvalidOptions(_)
        | Error::InvalidEnvironment(_) => SHMFRAME_E_INVALID,
        Error::NoStream { .. } => SHMFRAME_E_NOT_FOUND,
        Error::WriterExists { .. } => SHMFRAME_E_EXISTS,
        Error::BufferTooSmall { .. } => SHMFRAME_E_BUFFER_TOO_SMALL,
        Error::BadSegment { .. } | Error::CorruptFrame { .. } | Error::Truncated { .. } => {
            SHMFRAME_E_CORRUPT
        }
        Error::ForeignOwner { .. } | Error::NotRegularFile { .. } => SHMFRAME_E_PERMISSION,
        Error::FrameTooLarge { .. } => SHMFRAME_E_TOO_LARGE,
        Error::Starved { .. } => SHMFRAME_E_STARVED,
        Error::UnknownFormat { .. } => SHMFRAME_E_UNSUPPORTED,
        Error::Io { .. } => SHMFRAME_E_IO,
        Error::NoHoldFree => SHMFRAME_E_NO_HOLD_FREE,
        _ => SHMFRAME_E_INTERNAL,
    }
}

/// The name of a status code (`"SHMFRAME_E_NOT_FOUND"`), or
/// `"SHMFRAME_UNKNOWN_STATUS"`; a static string, never NULL.
#[no_mangle]
pub extern "C" fn shmframe_status_str(status: c_int) -> *const c_char {
    // A match of constants cannot panic: no unwinding guard needed.
    let name: &'static std::ffi::CStr = match status {
        SHMFRAME_OK => c"SHMFRAME_OK",
        SHMFRAME_NO_FRAME => c"SHMFRAME_NO_FRAME",
        SHMFRAME_CLOSED => c"SHMFRAME_CLOSED",
        SHMFRAME_E_INVALID => c"SHMFRAME_E_INVALID",
        SHMFRAME_E_NOT_FOUND => c"SHMFRAME_E_NOT_FOUND",
        SHMFRAME_E_EXISTS => c"SHMFRAME_E_EXISTS",
        SHMFRAME_E_BUFFER_TOO_SMALL => c"SHMFRAME_E_BUFFER_TOO_SMALL",
        SHMFRAME_E_CORRUPT => c"SHMFRAME_E_CORRUPT",
        SHMFRAME_E_IO => c"SHMFRAME_E_IO",
        SHMFRAME_E_PERMISSION => c"SHMFRAME_E_PERMISSION",
        SHMFRAME_E_TOO_LARGE => c"SHMFRAME_E_TOO_LARGE",
        SHMFRAME_E_STARVED => c"SHMFRAME_E_STARVED",
        SHMFRAME_E_UNSUPPORTED => c"SHMFRAME_E_UNSUPPORTED",
        SHMFRAME_E_STATE => c"SHMFRAME_E_STATE",
        SHMFRAME_E_INTERNAL => c"SHMFRAME_E_INTERNAL",
        SHMFRAME_E_NO_HOLD_FREE => c"SHMFRAME_E_NO_HOLD_FREE",
        _ => c"SHMFRAME_UNKNOWN_STATUS",
    };
    name.as_ptr()
}
