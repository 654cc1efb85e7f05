//! Ctrl-C and SIGTERM as a flag that sleeping code wakes up for.
//!
//! Publishers must return normally on a signal so that dropping the `Writer`
//! removes the stream's name; dying on the default signal action would leave
//! a stale segment behind.

use crate::fail::{CliError, CliResult};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Set once SIGINT, SIGTERM or SIGHUP arrives. Clones share the flag.
#[derive(Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    /// Routes the termination signals to a new flag. Call once per process.
    pub fn install() -> CliResult<Stop> {
        let stop = Stop::default();
        let handler = stop.clone();
        ctrlc::set_handler(move || handler.set())
            .map_err(|e| CliError::new(format!("cannot install the Ctrl-C handler: {e}")))?;
        Ok(stop)
    }

    /// Raises the flag and wakes every waiter.
    pub fn set(&self) {
        *self.lock() = true;
        self.0 .1.notify_all();
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        *self.lock()
    }

    /// Sleeps until `deadline` or a stop, whichever is first; `true` if stopped.
    pub fn wait_until(&self, deadline: Instant) -> bool {
        let mut stopped = self.lock();
        loop {
            if *stopped {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            stopped = match self.0 .1.wait_timeout(stopped, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Sleeps for `duration` or until a stop; `true` if stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        self.wait_until(Instant::now() + duration)
    }

    /// Sleeps until a stop.
    pub fn wait(&self) {
        let mut stopped = self.lock();
        while !*stopped {
            stopped = match self.0 .1.wait(stopped) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        // The flag is a plain bool: a panic elsewhere cannot leave it inconsistent.
        self.0
             .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_returns_at_deadline_or_stop() {
        let stop = Stop::default();
        assert!(!stop.sleep(Duration::from_millis(1)));
        let other = stop.clone();
        let waker = std::thread::spawn(move || other.set());
        stop.wait();
        waker.join().unwrap();
        assert!(stop.is_set());
        assert!(
            stop.sleep(Duration::from_secs(60)),
            "returns at once once stopped"
        );
    }
}
