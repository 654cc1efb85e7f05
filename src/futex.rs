//! Sleeping until the writer publishes, across processes.
//!
//! The wait word is the 32-bit futex word in the segment header. The futex is
//! *shared* (no `FUTEX_PRIVATE_FLAG`): the kernel keys it by the mapped page,
//! so a wake from the writer reaches waiters in other processes. Under loom the
//! kernel is modelled by one mutex and condition variable, which is what the
//! kernel's futex hash bucket lock provides: the value check in `wait` and the
//! queueing of the waiter are atomic with respect to `wake_all`.

use crate::sync::AtomicU32;
use std::time::Duration;

/// Sleeps while `*word == expected`, for at most `timeout`. May return early
/// (a wake, a signal, or the value already changed); callers re-check.
#[cfg(not(loom))]
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    use rustix::thread::futex;
    let timeout = futex::Timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    // EAGAIN (value changed), EINTR and ETIMEDOUT all mean "look again".
    let _ = futex::wait(word, futex::Flags::empty(), expected, Some(&timeout));
}

/// Wakes every process and thread sleeping on `word`.
#[cfg(not(loom))]
pub(crate) fn wake_all(word: &AtomicU32) {
    use rustix::thread::futex;
    // A wake can only fail for an invalid address, which a reference is not.
    let _ = futex::wake(word, futex::Flags::empty(), i32::MAX as u32);
}

#[cfg(loom)]
loom::lazy_static! {
    static ref BUCKET: (loom::sync::Mutex<()>, loom::sync::Condvar) = Default::default();
}

/// Loom model of the kernel futex; loom has no time, so the timeout is ignored
/// and a lost wake-up shows up as a deadlock.
#[cfg(loom)]
pub(crate) fn wait(word: &AtomicU32, expected: u32, _timeout: Duration) {
    use crate::sync::Ordering::Relaxed;
    let (lock, condvar) = &*BUCKET;
    let guard = lock.lock().unwrap();
    // The bucket lock orders this load after any wake_all that ran before it,
    // and that wake's store came before its lock: Relaxed suffices, as in the kernel.
    if word.load(Relaxed) == expected {
        drop(condvar.wait(guard).unwrap());
    }
}

/// Loom model of `FUTEX_WAKE` for all waiters.
#[cfg(loom)]
pub(crate) fn wake_all(_word: &AtomicU32) {
    let (lock, condvar) = &*BUCKET;
    let _guard = lock.lock().unwrap();
    condvar.notify_all();
}
