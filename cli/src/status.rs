//! The publisher's one-line live status, shown only when stderr is a terminal.

use std::time::Duration;

/// How often the line is redrawn.
const REFRESH: Duration = Duration::from_millis(250);

/// Redraws `NAME: N frames, F fps, S skipped` in place on stderr.
pub struct StatusLine {
    name: String,
    line: shmframe_statusline::StatusLine,
}

impl StatusLine {
    /// A status line for stream `name`; silent unless stderr is a terminal and not `quiet`.
    pub fn new(name: &str, quiet: bool) -> StatusLine {
        StatusLine {
            name: name.to_string(),
            line: shmframe_statusline::StatusLine::new(REFRESH, quiet),
        }
    }

    /// Counts one published frame and redraws if it is time to.
    pub fn frame(&mut self, total: u64, skipped: u64) {
        if let Some(rates) = self.line.tick(1, 0) {
            self.line.draw(&format!(
                "{}: {total} frames, {:.1} fps, {skipped} skipped deadlines",
                self.name, rates.fps
            ));
        }
    }

    /// Replaces the line with `text` (for example "holding the last frame").
    pub fn note(&mut self, text: &str) {
        self.line.draw(text);
    }
}
