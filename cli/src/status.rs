//! The publisher's one-line live status, shown only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const REFRESH: Duration = Duration::from_millis(250);

/// Redraws `NAME: N frames, F fps, S skipped` in place on stderr.
pub struct StatusLine {
    name: String,
    enabled: bool,
    drawn: bool,
    window_start: Instant,
    window_frames: u64,
    fps: f64,
}

impl StatusLine {
    /// A status line for stream `name`; silent unless stderr is a terminal and not `quiet`.
    pub fn new(name: &str, quiet: bool) -> StatusLine {
        StatusLine {
            name: name.to_string(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            drawn: false,
            window_start: Instant::now(),
            window_frames: 0,
            fps: 0.0,
        }
    }

    /// Counts one published frame and redraws if it is time to.
    pub fn frame(&mut self, total: u64, skipped: u64) {
        if !self.enabled {
            return;
        }
        self.window_frames += 1;
        let elapsed = self.window_start.elapsed();
        if elapsed < REFRESH && self.drawn {
            return;
        }
        if elapsed >= REFRESH {
            self.fps = self.window_frames as f64 / elapsed.as_secs_f64();
            self.window_start = Instant::now();
            self.window_frames = 0;
        }
        self.draw(&format!(
            "{}: {total} frames, {:.1} fps, {skipped} skipped deadlines",
            self.name, self.fps
        ));
    }

    /// Replaces the line with `text` (for example "holding the last frame").
    pub fn note(&mut self, text: &str) {
        if self.enabled {
            self.draw(text);
        }
    }

    fn draw(&mut self, text: &str) {
        // \r goes back to the line start, ESC[K clears what a longer line left.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        if self.drawn {
            eprintln!();
        }
    }
}
