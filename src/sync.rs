//! The only place that chooses between std and loom atomics.
//!
//! The protocol is written against these names so that the same code runs on
//! the real mapping, on a heap region (unit tests, Miri) and under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Most attempts a reader makes at one consistent copy. Loom, Miri and the
/// fuzzers have no writer that could finish a slot: a few attempts suffice.
pub(crate) const MAX_ATTEMPTS: u32 = if cfg!(any(loom, miri, fuzzing)) {
    64
} else {
    10_000
};

/// Longest a reader keeps retrying a slot the writer keeps changing, once
/// spinning did not help (not under loom, which has no time).
#[cfg(not(loom))]
const GIVE_UP_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Paces a reader's retries of a slot the writer is changing: spins for the
/// first few (a lapping writer is gone within nanoseconds), then sleeps until
/// the writer's next publish (the moment a copy has the longest time before
/// the writer comes back to that slot), and gives up after `MAX_ATTEMPTS` or
/// `GIVE_UP_AFTER`, so that a slot that stays busy costs a bounded time.
#[derive(Default)]
pub(crate) struct Patience {
    attempts: u32,
    #[cfg(not(loom))]
    yielding_since: Option<std::time::Instant>,
    /// An earlier moment to give up at, set by a caller with its own deadline.
    #[cfg(not(loom))]
    give_up_at: Option<std::time::Instant>,
}

impl Patience {
    /// Patience that also gives up at `deadline`.
    #[cfg(not(loom))]
    pub(crate) fn until(deadline: std::time::Instant) -> Patience {
        Patience {
            give_up_at: Some(deadline),
            ..Patience::default()
        }
    }

    /// Attempts made so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Pauses before another attempt; `false` when it is time to give up.
    /// `until_next_publish` sleeps until the writer publishes again (briefly).
    pub(crate) fn pause(&mut self, until_next_publish: impl FnOnce()) -> bool {
        self.attempts += 1;
        if self.attempts >= MAX_ATTEMPTS {
            return false;
        }
        #[cfg(loom)]
        {
            // Loom has no timeouts: a sleep with no publish to come would deadlock.
            let _ = until_next_publish;
            loom::thread::yield_now();
        }
        #[cfg(not(loom))]
        if self.attempts < 16 {
            std::hint::spin_loop();
        } else if cfg!(any(miri, fuzzing)) {
            // No writer there will publish: sleeping would only slow the run.
            std::thread::yield_now();
        } else {
            let since = *self
                .yielding_since
                .get_or_insert_with(std::time::Instant::now);
            if since.elapsed() > GIVE_UP_AFTER
                || self
                    .give_up_at
                    .is_some_and(|at| std::time::Instant::now() >= at)
            {
                return false;
            }
            until_next_publish();
        }
        true
    }
}
