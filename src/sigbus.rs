//! Readers survive a segment truncated under them.
//!
//! A process running as the segment's owner can shrink the file while readers
//! have it mapped; touching a page past the new end of file then raises
//! SIGBUS, which kills the process by default. As libwayland does for its
//! shared-memory pools (`wl_shm_buffer_begin_access`), readers register their
//! mapping here, and a SIGBUS handler that finds the faulting address inside a
//! registered mapping maps zero-filled anonymous memory over the whole of it
//! and marks it truncated; the access that faulted then reads zeros, and the
//! reader turns the mark into `Error::Truncated`. A SIGBUS anywhere else goes
//! to the handler the application had before (or the default action, which
//! ends the process as it would have without shmframe).
//!
//! The handler is installed once, when the first reader opens a segment. It
//! only loads atomics and calls `mmap`, `sigaction` and `raise`.

use nix::libc;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::{Once, OnceLock};

/// Most mappings protected at once; readers beyond this still work, unprotected.
const MAX_MAPPINGS: usize = 1024;

/// One registered mapping: its start and length (0 while the entry is free).
struct Entry {
    start: AtomicUsize,
    len: AtomicUsize,
    /// Whether the zero pages must be writable (a wake file's mapping).
    writable: AtomicBool,
    truncated: AtomicBool,
}

static MAPPINGS: [Entry; MAX_MAPPINGS] = [const {
    Entry {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        writable: AtomicBool::new(false),
        truncated: AtomicBool::new(false),
    }
}; MAX_MAPPINGS];

/// The SIGBUS action the application had before ours.
static PREVIOUS: OnceLock<SigAction> = OnceLock::new();
static INSTALL: Once = Once::new();

/// A reader's mapping, protected while this lives. Drop it before unmapping.
pub(crate) struct Protected {
    entry: Option<&'static Entry>,
}

impl Protected {
    /// Whether the mapping's file was truncated under it (it now reads as zeros).
    #[inline]
    pub(crate) fn truncated(&self) -> bool {
        // Pairs with the Release store in the handler.
        self.entry.is_some_and(|e| e.truncated.load(Acquire))
    }
}

impl Drop for Protected {
    fn drop(&mut self) {
        if let Some(entry) = self.entry {
            entry.len.store(0, Release);
            entry.start.store(0, Release);
        }
    }
}

/// Protects the mapping `start..start + len` against truncation; a
/// `writable` one (a wake file) gets writable zero pages.
pub(crate) fn protect(start: *const u8, len: usize, writable: bool) -> Protected {
    INSTALL.call_once(install_handler);
    let start = start as usize;
    let entry = MAPPINGS.iter().find(|entry| {
        entry.len.load(Acquire) == 0
            && entry
                .start
                .compare_exchange(0, start, AcqRel, Relaxed)
                .is_ok()
    });
    if let Some(entry) = entry {
        entry.truncated.store(false, Relaxed);
        entry.writable.store(writable, Relaxed);
        // Pairs with the handler's Acquire load: it sees the start with the length.
        entry.len.store(len, Release);
    }
    Protected { entry }
}

fn install_handler() {
    let action = SigAction::new(
        SigHandler::SigAction(on_sigbus),
        // SA_ONSTACK: a fault on a thread running on its alternate stack.
        SaFlags::SA_SIGINFO | SaFlags::SA_ONSTACK | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: `on_sigbus` only does async-signal-safe work (atomic loads and
    // stores, mmap, sigaction, raise, and calling the previous handler).
    if let Ok(previous) = unsafe { sigaction(Signal::SIGBUS, &action) } {
        let _ = PREVIOUS.set(previous);
    }
}

extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let (code, address) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // Only a fault has an address (si_code > 0); a SIGBUS sent with kill() is not ours.
    for entry in MAPPINGS.iter().filter(|_| code > 0) {
        // Pairs with the Release store of the length in `protect`.
        let len = entry.len.load(Acquire);
        let start = entry.start.load(Relaxed);
        if len == 0 || address < start || address - start >= len {
            continue;
        }
        let prot = if entry.writable.load(Relaxed) {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: `start..start + len` is a registered mapping, which stays
        // mapped while registered and which shmframe only ever accesses
        // through atomics; replacing it with private zero pages of the same
        // length and protection changes nothing but what those accesses see.
        let zeros = unsafe {
            libc::mmap(
                start as *mut libc::c_void,
                len,
                prot,
                libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            // Pairs with the Acquire load in `Protected::truncated`.
            entry.truncated.store(true, Release);
            return;
        }
        break;
    }
    chain(signal, info, context);
}

/// Hands a SIGBUS that is not ours to the application's previous handler.
fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    match PREVIOUS.get().map(SigAction::handler) {
        Some(SigHandler::SigAction(handler)) => handler(signal, info, context),
        Some(SigHandler::Handler(handler)) => handler(signal),
        // Default (or ignored, which the kernel does not honour for a fault):
        // restore the default action and raise again, which ends the process
        // once this handler returns, as it would have ended without us.
        _ => {
            let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
            // SAFETY: restoring the default disposition is always sound.
            let _ = unsafe { sigaction(Signal::SIGBUS, &default) };
            // SAFETY: raise is async-signal-safe.
            unsafe { libc::raise(libc::SIGBUS) };
        }
    }
}
