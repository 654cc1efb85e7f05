//! `shmframe publish --raw WxH --format F`: frames from stdin (or from an
//! ffmpeg child, for videos), as ffmpeg's rawvideo writes them.
//!
//! A thread reads whole frames into two recycled buffers while the main
//! thread publishes, so a blocking read never delays a Ctrl-C and no frame
//! allocates.

use crate::child::GuardedChild;
use crate::fail::{CliError, CliResult};
use crate::pace::{period_of, Pacer};
use crate::publish_args::PublishArgs;
use crate::size::Size;
use crate::status::StatusLine;
use crate::stop::Stop;
use shmframe::{Colorimetry, FrameMeta, PixelFormat, Writer};
use std::io::{ErrorKind, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

/// How often the main thread looks at the stop flag while stdin is quiet.
const STOP_POLL: Duration = Duration::from_millis(50);

/// What the reading thread hands over.
enum Chunk {
    /// A whole frame.
    Frame(Vec<u8>),
    /// Stdin ended this many bytes into a frame.
    Partial(usize),
    /// Stdin ended on a frame boundary.
    End,
    /// Reading failed.
    Failed(std::io::Error),
}

/// Runs `publish --raw`.
pub fn run(args: &PublishArgs, size: Size, format: PixelFormat) -> CliResult<()> {
    let color = Colorimetry {
        matrix: args.color_matrix.matrix(),
        range: args.color_range.range(),
    };
    let default_color = color == Colorimetry::default();
    if !format.is_yuv() && !default_color {
        return Err(CliError::new(format!(
            "--color-matrix and --color-range apply to YUV formats (nv12, yuv420p, yuyv422), not {}",
            format.ffmpeg_name()
        )));
    }
    let mut meta = FrameMeta::packed(size.width, size.height, format);
    if format.is_yuv() {
        meta = meta.with_color(color);
    }
    // Checked before the stream exists: a size the format cannot hold fails here.
    let len = meta.checked_len().map_err(|e| {
        CliError::new(format!(
            "--raw {size} --format {}: {e}",
            format.ffmpeg_name()
        ))
    })?;
    let stop = Stop::install()?;
    let describe = format!("{size} {} frames ({len} bytes each)", format.ffmpeg_name());
    let source = RawSource {
        meta,
        from: "stdin",
        describe: &describe,
        fps: args.fps,
    };
    let mut writer = source.writer(args)?;
    let published = match source.publish(args, &mut writer, std::io::stdin(), None, &stop)? {
        Pumped::Stopped => return Ok(()),
        Pumped::Ended(published) => published,
    };
    if args.hold {
        args.say(&format!(
            "{}: stdin ended after {published} frames; holding the last one until Ctrl-C",
            args.name
        ));
        stop.wait();
    }
    Ok(())
}

/// How a stream of raw frames ended.
pub enum Pumped {
    /// A stop (Ctrl-C, SIGTERM) came.
    Stopped,
    /// The input ended after this many whole frames (at least one).
    Ended(u64),
}

/// Raw frames of one size and format from a byte stream.
pub struct RawSource<'a> {
    /// The frames' metadata (packed rows).
    pub meta: FrameMeta,
    /// Where the bytes come from, for messages ("stdin", "ffmpeg").
    pub from: &'a str,
    /// The frames, for messages ("640x360 nv12 frames (345600 bytes each)").
    pub describe: &'a str,
    /// Publish at this rate; `None`: as the frames arrive.
    pub fps: Option<f64>,
}

/// Stops the process writing the input (if any) on a stop, before the pipe
/// closes under it, so that it ends on the signal rather than on a broken pipe.
fn stopped(producer: Option<&mut GuardedChild>) -> CliResult<Pumped> {
    if let Some(child) = producer {
        child.stop();
    }
    Ok(Pumped::Stopped)
}

impl RawSource<'_> {
    /// The writer of stream `args.name`, with slots for these frames. Created
    /// before reading, so readers can attach before the first frame; kept by
    /// the caller, so the last frame stays available after the input ends.
    pub fn writer(&self, args: &PublishArgs) -> CliResult<Writer> {
        let len = self.meta.checked_len()?;
        Ok(Writer::create(&args.name, &args.writer_options(len))?)
    }

    /// Publishes the frames of `input` with `writer` until it ends or a stop.
    ///
    /// A short final frame is reported, not published; an input that ends
    /// before its first whole frame is an error.
    pub fn publish(
        &self,
        args: &PublishArgs,
        writer: &mut Writer,
        input: impl Read + Send + 'static,
        mut producer: Option<&mut GuardedChild>,
        stop: &Stop,
    ) -> CliResult<Pumped> {
        let (meta, from) = (self.meta, self.from);
        let len = meta.checked_len()?;
        args.say(&format!(
            "publishing {} from {from} as `{}`",
            self.describe, args.name
        ));

        let (full_tx, full_rx) = sync_channel(1);
        let (empty_tx, empty_rx) = channel();
        for _ in 0..2 {
            // Cannot fail: the receiver is alive.
            let _ = empty_tx.send(vec![0u8; len]);
        }
        std::thread::spawn(move || read_frames(input, len, &full_tx, &empty_rx));

        // Started at the first frame, so a slow start (ffmpeg opening a file)
        // is not made up for by publishing the first frames in a burst.
        let mut pacer: Option<Pacer> = None;
        let mut status = StatusLine::new(&args.name, args.quiet);
        let mut published = 0u64;
        loop {
            let chunk = match next_chunk(&full_rx, stop) {
                Some(chunk) => chunk,
                None => return stopped(producer),
            };
            match chunk {
                Chunk::Frame(pixels) => {
                    if let Some(fps) = self.fps {
                        let pacer = pacer.get_or_insert_with(Pacer::new);
                        if pacer.wait(stop) {
                            return stopped(producer.take());
                        }
                        pacer.advance(period_of(fps));
                    }
                    writer.publish(&meta, &pixels)?;
                    published += 1;
                    let skipped = pacer.as_ref().map_or(0, Pacer::skipped);
                    status.frame(published, skipped);
                    let _ = empty_tx.send(pixels);
                }
                Chunk::Partial(got) => {
                    let message = format!(
                        "{from} ended {got} bytes into a frame of {len} bytes; that partial frame was not published"
                    );
                    if published == 0 {
                        return Err(CliError::new(format!(
                            "{message}, and no whole frame came before it: does the producer write {}?",
                            self.describe
                        )));
                    }
                    drop(status);
                    eprintln!("shmframe: warning: {message}");
                    return Ok(Pumped::Ended(published));
                }
                Chunk::End if published == 0 => {
                    return Err(CliError::new(format!(
                        "{from} ended before the first frame; nothing was published"
                    )));
                }
                Chunk::End => return Ok(Pumped::Ended(published)),
                Chunk::Failed(e) => {
                    return Err(CliError::new(format!("reading frames from {from}: {e}")))
                }
            }
        }
    }
}

/// The next chunk from the reading thread; `None` on a stop.
fn next_chunk(full: &Receiver<Chunk>, stop: &Stop) -> Option<Chunk> {
    loop {
        if stop.is_set() {
            return None;
        }
        match full.recv_timeout(STOP_POLL) {
            Ok(chunk) => return Some(chunk),
            Err(RecvTimeoutError::Timeout) => continue,
            // The thread always sends a last chunk before it ends.
            Err(RecvTimeoutError::Disconnected) => return Some(Chunk::End),
        }
    }
}

/// Reads `input` frame by frame into buffers from `empty`, sending each to `full`.
fn read_frames(
    mut input: impl Read,
    len: usize,
    full: &SyncSender<Chunk>,
    empty: &Receiver<Vec<u8>>,
) {
    while let Ok(mut buf) = empty.recv() {
        buf.resize(len, 0);
        let last = match fill(&mut input, &mut buf) {
            Ok(n) if n == len => {
                if full.send(Chunk::Frame(buf)).is_err() {
                    return;
                }
                continue;
            }
            Ok(0) => Chunk::End,
            Ok(n) => Chunk::Partial(n),
            Err(e) => Chunk::Failed(e),
        };
        let _ = full.send(last);
        return;
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_reports_short_reads() {
        let mut input: &[u8] = &[1, 2, 3, 4, 5];
        let mut buf = [0u8; 3];
        assert_eq!(fill(&mut input, &mut buf).unwrap(), 3);
        assert_eq!(fill(&mut input, &mut buf).unwrap(), 2);
        assert_eq!(fill(&mut input, &mut buf).unwrap(), 0);
    }
}
