//! The stream end of the viewer: opens the stream when it appears, waits on
//! its futex for frames, holds each in place (copies it when no hold is
//! free), and falls back to waiting when it cannot be read.

use crate::frame_pixels::FramePixels;
use shmframe::{Error, FrameInfo, HeldFrame, Reader};
use std::time::{Duration, Instant};

/// How often to look for a stream that does not exist yet.
pub const OPEN_RETRY: Duration = Duration::from_millis(250);
/// How long to back off after a stream that exists could not be read.
pub const ERROR_RETRY: Duration = Duration::from_secs(1);

/// What one [`Source::poll`] found.
#[derive(Debug)]
pub enum Poll {
    /// A new frame, held or copied.
    Frame(FrameInfo, FramePixels),
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

    /// Waits up to `wait` for a new frame and holds it in place; when no
    /// hold is free it copies the frame into `spare`'s buffer instead.
    ///
    /// Attached, it sleeps on the stream's futex (the engine follows a
    /// writer that restarts); otherwise it tries to open the stream every
    /// [`OPEN_RETRY`] and sleeps in between. It never blocks longer than
    /// about `wait`.
    pub fn poll(&mut self, spare: &mut Vec<u8>, wait: Duration) -> Poll {
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
        // The hold no longer borrows the reader once owned.
        let held = reader
            .wait_hold_latest(wait)
            .map(|held| held.map(held_pixels));
        let got = match held {
            // All holds taken or not granted yet (a reader's first try asks
            // the writer, which grants at its next publish): copy instead.
            Err(Error::NoHoldFree) => reader
                .latest(spare)
                .map(|got| got.map(|info| (info, FramePixels::Copied(std::mem::take(spare))))),
            other => other,
        };
        match got {
            Ok(Some((info, pixels))) => Poll::Frame(info, pixels),
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

/// A held frame's info and pixels, the hold no longer tied to the reader.
fn held_pixels(frame: HeldFrame<'_>) -> (FrameInfo, FramePixels) {
    let info = *frame.info();
    (info, FramePixels::Held(frame.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::View;
    use shmframe::{FrameMeta, PixelFormat, Writer, WriterOptions};

    const RED: u32 = 0x00FF_0000;
    const BLUE: u32 = 0x0000_00FF;

    /// A stream of 4x4 RGBA frames whose writer honours `holds` holds;
    /// removed with the writer (or by force, after a failed test).
    struct Stream {
        name: String,
        writer: Writer,
    }

    impl Stream {
        fn new(test: &str, holds: usize) -> Stream {
            let name = format!("viewer-unit-{test}-{}", std::process::id());
            let options = WriterOptions {
                slots: 2,
                slot_capacity: 64,
                holds,
                ..WriterOptions::default()
            };
            let writer = Writer::create(&name, &options).unwrap();
            Stream { name, writer }
        }

        /// Publishes a frame of one colour (0RGB).
        fn publish(&mut self, color: u32) {
            let [_, r, g, b] = color.to_be_bytes();
            let meta = FrameMeta::packed(4, 4, PixelFormat::Rgba8);
            self.writer
                .publish(&meta, &[r, g, b, 255].repeat(16))
                .unwrap();
        }
    }

    impl Drop for Stream {
        fn drop(&mut self) {
            let _ = shmframe::remove_stream(&self.name, true);
        }
    }

    /// Publishes `color` frames and polls until the source holds one (holds
    /// are granted at a publish after the reader's first try); the copies
    /// it gets meanwhile must be of that colour too.
    fn poll_until_held(
        source: &mut Source,
        stream: &mut Stream,
        color: u32,
    ) -> (FrameInfo, FramePixels) {
        let mut spare = Vec::new();
        for _ in 0..2000 {
            stream.publish(color);
            match source.poll(&mut spare, Duration::from_millis(2)) {
                Poll::Frame(info, FramePixels::Held(frame)) => {
                    return (info, FramePixels::Held(frame));
                }
                Poll::Frame(_, FramePixels::Copied(copy)) => {
                    assert_eq!(copy, drawn_bytes(color));
                    spare = copy;
                }
                Poll::Idle => {}
                Poll::Detached(problem) => panic!("detached: {problem:?}"),
            }
        }
        panic!("the source never held a frame");
    }

    fn drawn_bytes(color: u32) -> Vec<u8> {
        let [_, r, g, b] = color.to_be_bytes();
        [r, g, b, 255].repeat(16)
    }

    fn holding(source: &Source) -> usize {
        source.reader.as_ref().map_or(0, Reader::holding)
    }

    #[test]
    fn a_held_frame_is_drawn_from_the_segment_and_stays_put_while_the_writer_publishes() {
        let mut stream = Stream::new("held", 4);
        let mut source = Source::new(&stream.name);
        let (info, pixels) = poll_until_held(&mut source, &mut stream, RED);
        let mut view = View::new("held", 4, 4);
        let mut spare = Vec::new();
        view.show_frame(info, pixels, &mut spare);
        assert!(view.redraw());
        assert_eq!(view.pixels(), &[RED; 16]);
        assert_eq!(holding(&source), 1, "the frame on screen is held");

        // The writer moves on; the frame on screen does not change, and a
        // redraw (forced by a resize) converts it again from the same bytes.
        for _ in 0..500 {
            stream.publish(BLUE);
        }
        view.resize(8, 8);
        assert!(view.redraw());
        assert_eq!(view.pixels(), &[RED; 64]);

        // The next frame is held too; showing it ends the previous hold.
        let (info, pixels) = poll_until_held(&mut source, &mut stream, BLUE);
        assert_eq!(holding(&source), 2);
        view.show_frame(info, pixels, &mut spare);
        assert_eq!(holding(&source), 1);
        assert!(view.redraw());
        assert_eq!(view.pixels(), &[BLUE; 64]);
        assert!(view
            .frame()
            .is_some_and(|(_, bytes)| bytes == drawn_bytes(BLUE)));
    }

    #[test]
    fn without_a_free_hold_the_viewer_copies_and_reuses_its_buffer() {
        // A writer that honours no holds: every frame is copied.
        let mut stream = Stream::new("copied", 0);
        let mut source = Source::new(&stream.name);
        let mut view = View::new("copied", 4, 4);
        let mut spare = Vec::new();
        for (i, color) in [RED, BLUE, RED].into_iter().enumerate() {
            stream.publish(color);
            let Poll::Frame(info, pixels) = source.poll(&mut spare, Duration::from_secs(5)) else {
                panic!("no frame");
            };
            assert!(matches!(pixels, FramePixels::Copied(_)), "frame {i} held");
            view.show_frame(info, pixels, &mut spare);
            assert!(view.redraw());
            assert_eq!(view.pixels(), &[color; 16]);
            if i > 0 {
                assert_eq!(
                    spare.capacity(),
                    64,
                    "the previous copy's buffer comes back"
                );
            }
        }
        assert_eq!(holding(&source), 0);
    }
}
