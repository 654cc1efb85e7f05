//! Whether a segment's writer is alive, observed without taking any lock.
//!
//! The writer holds an open-file-description (OFD) write lock on the whole
//! segment file for its whole life; the kernel drops it when the writer's last
//! descriptor of that open file closes, however the writer ends. Anyone asks
//! with `F_OFD_GETLK` for a read lock: the kernel reports a conflicting write
//! lock without granting anything. A reader cannot take a write lock (its file
//! is open read-only), and the read locks or `flock`s it may take do not
//! conflict with that question, so no reader can make a live writer look dead,
//! a dead one look alive, or a writer wait.

use nix::fcntl::{fcntl, FcntlArg};
use nix::libc;
use std::fs::File;

/// The whole file, from byte 0 to any end.
fn whole_file(kind: libc::c_int) -> libc::flock {
    libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        // Must be 0 for OFD locks.
        l_pid: 0,
    }
}

/// Takes the writer's lock on a segment file open for writing; fails if a
/// writer (or anything holding a conflicting lock) already has it.
pub(crate) fn hold_writer_lock(file: &File) -> std::io::Result<()> {
    fcntl(file, FcntlArg::F_OFD_SETLK(&whole_file(libc::F_WRLCK)))?;
    Ok(())
}

/// Whether some process holds a write lock on `file` (its writer is alive).
/// Takes no lock. If the kernel cannot answer, the writer counts as alive:
/// a live segment is never treated as stale.
pub(crate) fn writer_lock_held(file: &File) -> bool {
    let mut probe = whole_file(libc::F_RDLCK);
    match fcntl(file, FcntlArg::F_OFD_GETLK(&mut probe)) {
        Ok(_) => probe.l_type != libc::F_UNLCK as libc::c_short,
        Err(_) => true,
    }
}
