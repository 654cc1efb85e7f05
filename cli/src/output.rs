//! Lines on stdout that never panic.
//!
//! `println!` panics when stdout is a closed pipe (`shmframe list | head -1`):
//! Rust ignores SIGPIPE, so the write fails with EPIPE. Output here is
//! informational, so a reader that has gone away just gets no more of it.

use std::fmt;
use std::io::Write;

/// Writes one line to stdout, ignoring a closed or failing stdout.
pub fn line(args: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

/// `println!` that does not panic on a closed stdout.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
