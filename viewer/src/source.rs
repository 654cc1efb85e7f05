//! The stream end of the viewer: opens the stream when it appears, waits on
//! its futex for frames, and falls back to waiting when it cannot be read.

use shmframe::{Error, FrameInfo, Reader};
use std::time::{Duration, Instant};

/// How often to look for a stream that does not exist yet.
pub const OPEN_RETRY: Duration = Duration::from_millis(250);
/// How long to back off after a stream that exists could not be read.
pub const ERROR_RETRY: Duration = Duration::from_secs(1);

/// What one [`Source::poll`] found.
#[derive(Debug)]
pub enum Poll {
    /// A new frame is in the buffer.
    Frame(FrameInfo),
    /// Attached, but no new frame arrived in time.
    Idle,
    /// Not attached: no stream yet, or (the message) it could not be read.
    Detached(Option<String>),
}

/// A stream that may or may not exist yet.
pub struct Source {
    name: String,
    reader: Option<Reader>,
    next_open: Instant,
    problem: Option<String>,
}

impl Source {
    /// A source for stream `name` that will try to open it on the first poll.
    pub fn new(name: &str) -> Self {
        Source {
            name: name.to_string(),
            reader: None,
            next_open: Instant::now(),
            problem: None,
        }
    }

    /// Waits up to `wait` for a new frame and copies it into `buf`.
    ///
    /// Attached, it sleeps on the stream's futex (the engine follows a
    /// writer that restarts); otherwise it tries to open the stream every
    /// [`OPEN_RETRY`] and sleeps in between. It never blocks longer than
    /// about `wait`.
    pub fn poll(&mut self, buf: &mut Vec<u8>, wait: Duration) -> Poll {
        if self.reader.is_none() {
            let now = Instant::now();
            if now < self.next_open {
                std::thread::sleep(wait.min(self.next_open - now));
                return Poll::Detached(self.problem.clone());
            }
            match Reader::open(&self.name) {
                Ok(reader) => {
                    self.reader = Some(reader);
                    self.problem = None;
                }
                Err(e) => return self.detach(e, wait),
            }
        }
        let Some(reader) = self.reader.as_mut() else {
            return Poll::Detached(self.problem.clone());
        };
        match reader.wait_latest(buf, wait) {
            Ok(Some(info)) => Poll::Frame(info),
            Ok(None) => Poll::Idle,
            Err(e) => self.detach(e, wait),
        }
    }

    /// Whether the stream's writer is running (false when not attached).
    pub fn writer_alive(&self) -> bool {
        self.reader.as_ref().is_some_and(Reader::writer_alive)
    }

    /// Drops the reader after `error` and schedules the next attempt.
    fn detach(&mut self, error: Error, wait: Duration) -> Poll {
        self.reader = None;
        let (retry, problem) = match error {
            Error::NoStream { .. } => (OPEN_RETRY, None),
            e => (ERROR_RETRY, Some(e.to_string())),
        };
        if problem.is_some() && problem != self.problem {
            if let Some(p) = &problem {
                eprintln!("shmframe-viewer: {p}; retrying");
            }
        }
        self.problem = problem;
        self.next_open = Instant::now() + retry;
        std::thread::sleep(wait.min(retry));
        Poll::Detached(self.problem.clone())
    }
}
