//! `shmframe publish --raw WxH --format F`: frames from stdin, as ffmpeg's rawvideo writes them.
//!
//! A thread reads whole frames into two recycled buffers while the main
//! thread publishes, so a blocking read never delays a Ctrl-C and no frame
//! allocates.

use crate::fail::{CliError, CliResult};
use crate::pace::{period_of, Pacer};
use crate::publish::{PublishArgs, RawFormat};
use crate::size::Size;
use crate::status::StatusLine;
use crate::stop::Stop;
use shmframe::{FrameMeta, Writer};
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
pub fn run(args: &PublishArgs, size: Size, format: RawFormat) -> CliResult<()> {
    let meta = FrameMeta::packed(size.width, size.height, format.pixel_format());
    let len = meta.checked_len()?;
    let stop = Stop::install()?;
    // Created before reading, so readers can attach before the first frame.
    let mut writer = Writer::create(&args.name, &args.writer_options(len))?;
    args.say(&format!(
        "publishing {size} {} frames ({len} bytes each) from stdin as `{}`",
        format.name(),
        args.name
    ));

    let (full_tx, full_rx) = sync_channel(1);
    let (empty_tx, empty_rx) = channel();
    for _ in 0..2 {
        // Cannot fail: the receiver is alive.
        let _ = empty_tx.send(vec![0u8; len]);
    }
    std::thread::spawn(move || read_frames(len, &full_tx, &empty_rx));

    let mut pacer = args.fps.map(|_| Pacer::new());
    let mut status = StatusLine::new(&args.name, args.quiet);
    let mut published = 0u64;
    loop {
        let chunk = match next_chunk(&full_rx, &stop) {
            Some(chunk) => chunk,
            None => return Ok(()),
        };
        match chunk {
            Chunk::Frame(pixels) => {
                if let (Some(pacer), Some(fps)) = (pacer.as_mut(), args.fps) {
                    if pacer.wait(&stop) {
                        return Ok(());
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
                    "stdin ended {got} bytes into a frame of {len} bytes ({size} {}); that partial frame was not published",
                    format.name()
                );
                if published == 0 {
                    return Err(CliError::new(format!(
                        "{message}, and no whole frame came before it: does the producer write {size} {} frames?",
                        format.name()
                    )));
                }
                drop(status);
                eprintln!("shmframe: warning: {message}");
                break;
            }
            Chunk::End if published == 0 => {
                return Err(CliError::new(
                    "stdin ended before the first frame; nothing was published",
                ));
            }
            Chunk::End => break,
            Chunk::Failed(e) => {
                return Err(CliError::new(format!("reading frames from stdin: {e}")))
            }
        }
    }
    if args.hold {
        args.say(&format!(
            "{}: stdin ended after {published} frames; holding the last one until Ctrl-C",
            args.name
        ));
        stop.wait();
    }
    Ok(())
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

/// Reads stdin frame by frame into buffers from `empty`, sending each to `full`.
fn read_frames(len: usize, full: &SyncSender<Chunk>, empty: &Receiver<Vec<u8>>) {
    let mut stdin = std::io::stdin().lock();
    while let Ok(mut buf) = empty.recv() {
        buf.resize(len, 0);
        let last = match fill(&mut stdin, &mut buf) {
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
