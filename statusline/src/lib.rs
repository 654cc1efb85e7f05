//! One live status line on stderr, redrawn in place (`\r`, then clear to the
//! end of the line), only when stderr is a terminal: the publisher's and the
//! bridge's "NAME: N frames, F fps, ..." lines. The tools choose what the line
//! says; this crate decides when to redraw and measures the rates between
//! redraws.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The rates over the window since the previous redraw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    /// Frames per second; 0 before the first full window.
    pub fps: f64,
    /// Bytes per second; 0 before the first full window.
    pub bytes_per_second: f64,
}

/// A line redrawn at most every `refresh`, silent unless stderr is a terminal.
pub struct StatusLine {
    enabled: bool,
    drawn: bool,
    refresh: Duration,
    window_start: Instant,
    window_frames: u64,
    window_bytes: u64,
    rates: Rates,
}

impl StatusLine {
    /// A line redrawn every `refresh`; silent if `quiet` or stderr is not a terminal.
    pub fn new(refresh: Duration, quiet: bool) -> StatusLine {
        StatusLine::with_output(refresh, !quiet && std::io::stderr().is_terminal())
    }

    /// A line that draws only if `enabled` (tests use it to draw into nothing).
    fn with_output(refresh: Duration, enabled: bool) -> StatusLine {
        StatusLine {
            enabled,
            drawn: false,
            refresh,
            window_start: Instant::now(),
            window_frames: 0,
            window_bytes: 0,
            rates: Rates::default(),
        }
    }

    /// Counts `frames` and `bytes` done since the last call; returns the
    /// current rates when the line is due to be redrawn (the first time at
    /// once, then every `refresh`), `None` otherwise or when silent.
    pub fn tick(&mut self, frames: u64, bytes: u64) -> Option<Rates> {
        self.window_frames += frames;
        self.window_bytes += bytes;
        if !self.enabled {
            return None;
        }
        let elapsed = self.window_start.elapsed();
        if elapsed >= self.refresh {
            let secs = elapsed.as_secs_f64();
            self.rates = Rates {
                fps: self.window_frames as f64 / secs,
                bytes_per_second: self.window_bytes as f64 / secs,
            };
            self.window_start = Instant::now();
            self.window_frames = 0;
            self.window_bytes = 0;
        } else if self.drawn {
            return None;
        }
        Some(self.rates)
    }

    /// Replaces the line with `text` (for example "waiting for stream cam0").
    pub fn draw(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        // Leave the cursor on a fresh line for whatever is printed next.
        if self.drawn {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_lines_never_ask_for_a_redraw() {
        let mut line = StatusLine::with_output(Duration::ZERO, false);
        assert_eq!(line.tick(1, 100), None);
    }

    #[test]
    fn the_first_tick_draws_then_waits_for_the_refresh() {
        let mut line = StatusLine::with_output(Duration::from_secs(3600), true);
        assert_eq!(line.tick(1, 10), Some(Rates::default()));
        line.drawn = true; // as `draw` would, without writing to the test's stderr
        assert_eq!(line.tick(1, 10), None);
    }

    #[test]
    fn rates_cover_the_window_since_the_last_redraw() {
        let mut line = StatusLine::with_output(Duration::from_millis(20), true);
        line.drawn = true;
        line.tick(3, 300);
        std::thread::sleep(Duration::from_millis(25));
        let rates = line.tick(2, 200).expect("due after the refresh");
        // 5 frames and 500 bytes over at least 25 ms: at most 200 fps and 20 kB/s.
        assert!(rates.fps > 0.0 && rates.fps <= 200.0, "{rates:?}");
        assert!(
            (rates.bytes_per_second / rates.fps - 100.0).abs() < 1e-6,
            "{rates:?}"
        );
        assert_eq!(line.window_frames, 0);
    }
}
