//! Sleeping until the writer publishes, across processes.
//!
//! The wait word is the 32-bit futex word in the segment header. The futex is
//! *shared* (no `FUTEX_PRIVATE_FLAG`): the kernel keys it by the mapped page,
//! so a wake from the writer reaches waiters in other processes. Under loom the
//! kernel is modelled by one mutex and condition variable, which is what the
//! kernel's futex hash bucket lock provides: the value check in `wait` and the
//! queueing of the waiter are atomic with respect to `wake_all`.

use crate::sync::AtomicU32;

/// Sleeps while `*word == expected`, until CLOCK_MONOTONIC reaches `deadline_ns`
/// at the latest. May return early (a wake, a signal, or the value already
/// changed); callers re-check.
///
/// The deadline is absolute (`FUTEX_WAIT_BITSET` measures it on
/// CLOCK_MONOTONIC), so however late a sleeper gets to sleep, it wakes by the
/// moment its caller chose.
#[cfg(not(loom))]
pub(crate) fn wait_until(word: &AtomicU32, expected: u32, deadline_ns: u64) {
    use rustix::thread::futex;
    let deadline = futex::Timespec {
        tv_sec: (deadline_ns / 1_000_000_000).min(i64::MAX as u64) as i64,
        tv_nsec: (deadline_ns % 1_000_000_000) as i64,
    };
    let any = std::num::NonZeroU32::MAX;
    // EAGAIN (value changed), EINTR and ETIMEDOUT all mean "look again".
    let _ = futex::wait_bitset(word, futex::Flags::empty(), expected, Some(&deadline), any);
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

/// Loom model of the kernel futex; loom has no time, so the deadline is ignored
/// and a lost wake-up shows up as a deadlock.
#[cfg(loom)]
pub(crate) fn wait_until(word: &AtomicU32, expected: u32, _deadline_ns: u64) {
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
