//! `--report FILE`: the counters as JSON, rewritten every second and at exit,
//! for scripts, tests and the benchmark.

use super::status::Counters;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Writes the report now and then, atomically (a temporary file renamed into place).
pub struct Report {
    path: Option<PathBuf>,
    started: Instant,
    last: Option<Instant>,
}

/// How often the file is rewritten while running.
const EVERY: Duration = Duration::from_secs(1);

impl Report {
    /// A report to `path`, if one was asked for.
    pub fn new(path: Option<&Path>) -> Report {
        Report {
            path: path.map(Path::to_path_buf),
            started: Instant::now(),
            last: None,
        }
    }

    /// Rewrites the file if a second has passed since the last time.
    pub fn tick(&mut self, c: &Counters) {
        let due = match self.last {
            Some(t) => t.elapsed() >= EVERY,
            None => true,
        };
        if due {
            self.write(c);
        }
    }

    /// Rewrites the file now; a failure is printed, never fatal.
    pub fn write(&mut self, c: &Counters) {
        let Some(path) = &self.path else { return };
        self.last = Some(Instant::now());
        let [p50, p90, p99, max] = c
            .latencies
            .percentiles([50.0, 90.0, 99.0, 100.0])
            .unwrap_or_default();
        let json = serde_json::json!({
            "seconds": self.started.elapsed().as_secs_f64(),
            "frames": c.frames,
            "wire_bytes": c.wire_bytes,
            "frame_bytes": c.frame_bytes,
            "skipped": c.skipped,
            "lost": c.lost,
            "refused": c.refused,
            "failed": c.failed,
            "subscribed": c.subscribed,
            "last_problem": c.last_problem,
            "latency_ns": { "p50": p50, "p90": p90, "p99": p99, "max": max },
        });
        let tmp = path.with_extension("tmp");
        let result =
            std::fs::write(&tmp, format!("{json}\n")).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            eprintln!(
                "shmframe-bridge: cannot write the report {}: {e}",
                path.display()
            );
        }
    }
}
