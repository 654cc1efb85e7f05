//! Counters of a bridge direction, its one-line live status on a terminal,
//! and latency percentiles.

use std::time::Duration;

/// How often the line is redrawn.
const REFRESH: Duration = Duration::from_millis(500);
/// Latency samples kept for the percentiles (the most recent ones).
const LATENCY_WINDOW: usize = 100_000;

/// What one direction of the bridge has done so far.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Frames sent (export) or republished locally (import).
    pub frames: u64,
    /// Message bytes sent or received.
    pub wire_bytes: u64,
    /// Frame bytes before encoding or after decoding.
    pub frame_bytes: u64,
    /// Frames the local reader skipped (export), or frame numbers that never
    /// arrived although no message was lost (import): the exporter skipped them.
    pub skipped: u64,
    /// Messages lost between exporter and importer (gaps in the message numbers).
    pub lost: u64,
    /// Received messages refused as invalid.
    pub refused: u64,
    /// Messages that could not be sent or frames that could not be published.
    pub failed: u64,
    /// Whether a subscriber matches the exporter's key (export only).
    pub subscribed: bool,
    /// The last refusal or failure, for the report.
    pub last_problem: Option<String>,
    /// Latency samples in nanoseconds (see `Latencies`).
    pub latencies: Latencies,
}

/// A bounded window of latency samples.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    samples: Vec<u64>,
    next: usize,
}

impl Latencies {
    /// Adds one sample, replacing the oldest once the window is full.
    pub fn push(&mut self, ns: u64) {
        if self.samples.len() < LATENCY_WINDOW {
            self.samples.push(ns);
        } else {
            self.samples[self.next] = ns;
            self.next = (self.next + 1) % LATENCY_WINDOW;
        }
    }

    /// The given percentiles (0..=100) of the window, in nanoseconds; `None` with no samples.
    pub fn percentiles<const N: usize>(&self, ps: [f64; N]) -> Option<[u64; N]> {
        if self.samples.is_empty() {
            return None;
        }
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let last = sorted.len() - 1;
        Some(ps.map(|p| sorted[((p / 100.0) * last as f64).round() as usize]))
    }
}

/// Redraws a status line in place on stderr, only when it is a terminal.
pub struct StatusLine {
    label: String,
    line: shmframe_statusline::StatusLine,
}

impl StatusLine {
    /// A status line starting with `label`; silent unless stderr is a terminal and not `quiet`.
    pub fn new(label: String, quiet: bool) -> StatusLine {
        StatusLine {
            label,
            line: shmframe_statusline::StatusLine::new(REFRESH, quiet),
        }
    }

    /// Redraws from `c` if it is time to; `frames` and bytes since the last
    /// call feed the rates.
    pub fn update(&mut self, c: &Counters, wire_bytes: u64, frames: u64) {
        let Some(rates) = self.line.tick(frames, wire_bytes) else {
            return;
        };
        let ratio = if c.wire_bytes > 0 {
            c.frame_bytes as f64 / c.wire_bytes as f64
        } else {
            1.0
        };
        let latency = match c.latencies.percentiles([50.0, 99.0]) {
            Some([p50, p99]) => format!(
                ", latency p50 {:.1} ms p99 {:.1} ms",
                p50 as f64 / 1e6,
                p99 as f64 / 1e6
            ),
            None => String::new(),
        };
        let (fps, mbps) = (rates.fps, rates.bytes_per_second / 1e6);
        self.line.draw(&format!(
            "{}: {} frames, {fps:.1} fps, {mbps:.1} MB/s ({ratio:.1}x), {} skipped, {} lost, {} refused{latency}",
            self.label, c.frames, c.skipped, c.lost, c.refused
        ));
    }

    /// Replaces the line with `text` (for example "waiting for stream cam0").
    pub fn note(&mut self, text: &str) {
        self.line.draw(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_window() {
        let mut l = Latencies::default();
        assert!(l.percentiles([50.0]).is_none());
        for ns in 1..=101 {
            l.push(ns);
        }
        assert_eq!(l.percentiles([0.0, 50.0, 100.0]), Some([1, 51, 101]));
    }
}
