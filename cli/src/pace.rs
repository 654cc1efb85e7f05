//! Frame pacing by absolute deadlines.
//!
//! Each deadline is the previous deadline plus the frame's period, not "now"
//! plus the period, so the time spent decoding and publishing does not add up
//! into drift. When the publisher falls more than a whole period behind, the
//! missed deadlines are counted and skipped rather than published in a burst.

use crate::stop::Stop;
use std::time::{Duration, Instant};

/// The schedule of a paced stream.
pub struct Pacer {
    next: Instant,
    skipped: u64,
}

impl Pacer {
    /// A schedule whose first deadline is now.
    pub fn new() -> Pacer {
        Pacer::starting_at(Instant::now())
    }

    fn starting_at(start: Instant) -> Pacer {
        Pacer {
            next: start,
            skipped: 0,
        }
    }

    /// Sleeps until the current deadline; `true` if a stop came first.
    pub fn wait(&self, stop: &Stop) -> bool {
        stop.wait_until(self.next)
    }

    /// Moves the deadline one `period` on, skipping deadlines already missed.
    pub fn advance(&mut self, period: Duration) {
        self.advance_at(period, Instant::now());
    }

    fn advance_at(&mut self, period: Duration, now: Instant) {
        self.next += period;
        if period.is_zero() || now < self.next + period {
            return;
        }
        // Late by at least a whole period: keep the phase, drop the backlog.
        let late = now.duration_since(self.next).as_nanos();
        let missed = late / period.as_nanos();
        self.skipped += missed as u64;
        self.next += period * u32::try_from(missed).unwrap_or(u32::MAX);
    }

    /// Deadlines skipped so far because the publisher was too slow.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// The period of `fps` frames per second.
pub fn period_of(fps: f64) -> Duration {
    Duration::from_secs_f64(1.0 / fps)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn deadlines_are_absolute() {
        let start = Instant::now();
        let mut pacer = Pacer::starting_at(start);
        // Publishing took 7 ms of a 10 ms period: the next deadline is still start + 10 ms.
        pacer.advance_at(10 * MS, start + 7 * MS);
        assert_eq!(pacer.next, start + 10 * MS);
        pacer.advance_at(10 * MS, start + 19 * MS);
        assert_eq!(pacer.next, start + 20 * MS);
        assert_eq!(pacer.skipped(), 0);
    }

    #[test]
    fn a_late_publisher_skips_whole_periods() {
        let start = Instant::now();
        let mut pacer = Pacer::starting_at(start);
        // 35 ms late for a 10 ms period: deadlines 10 and 20 are gone, 30 too; next is 40.
        pacer.advance_at(10 * MS, start + 35 * MS);
        assert_eq!(pacer.skipped(), 2);
        assert_eq!(pacer.next, start + 30 * MS);
        pacer.advance_at(10 * MS, start + 36 * MS);
        assert_eq!(pacer.next, start + 40 * MS);
        assert_eq!(pacer.skipped(), 2);
    }
}
