//! Zero-copy holds: a frame used in place instead of copied out.
//!
//! **Publish to holding.** The writer writes the whole frame into its slot,
//! then stamps it (the clock read after the frame's bytes are in) and
//! publishes; a sleeping reader, woken by the futex, holds the frame and
//! touches its first and last byte, or copies it out for the copy row. The
//! writer's own copy of the pixels is outside the measured span in every row,
//! so what is left is the wake-up and what the reader does with the frame:
//! constant in frame size for a hold, growing with it for a copy.
//!
//! **The writer with holding readers.** Readers that each hold the latest
//! frame for [`HOLD_FOR`], let go and hold the next, beside the same writer
//! with no reader, with readers that copy at the same pace, and with readers
//! that each keep one frame held throughout (as stopped holders would).

use crate::affinity::pin;
use crate::child::{spawn, ChildArgs};
use crate::frames::SourceFrames;
use crate::latency::{child_args, pause, stamp_latencies, ROLE_SHMFRAME};
use crate::shm::{SharedBlock, READY, STOP};
use crate::writer_rate::{clocked, spawn_readers, stop_readers};
use crate::{meta_for, unique_name, BenchResult, Cpus, RateRun, Timed, Wake};
use shmframe::{monotonic_ns, Error, Reader, ReaderOptions, Writer, WriterOptions};
use std::sync::atomic::Ordering::Acquire;
use std::time::{Duration, Instant};

/// Role of the reader child that holds each frame.
pub const ROLE_HOLD_LATENCY: &str = "latency-shmframe-hold";
/// Role of the writer-rate reader children that hold (or copy) the latest frame.
pub const ROLE_HOLD_RATE: &str = "writer-rate-shmframe-hold";

/// How long a writer-rate reader holds a frame before it lets go and takes the next.
pub const HOLD_FOR: Duration = Duration::from_millis(4);

/// How long readers may take to be granted their holds.
const GRANT_LIMIT: Duration = Duration::from_secs(20);

/// Publish to a sleeping reader holding the frame in place (`wait_hold_next`).
pub fn latency_hold(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    published_latency(ROLE_HOLD_LATENCY, len, wake, cpus, samples)
}

/// Publish to a sleeping reader holding its copy (`wait_next`), timed as
/// [`latency_hold`] is: the copy row beside it.
pub fn latency_copy(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    published_latency(ROLE_SHMFRAME, len, wake, cpus, samples)
}

/// The writer of the zero-copy latency cases: the default holds (4, so a
/// ring of 6 slots), each frame written, then stamped and published.
fn published_latency(
    role: &str,
    len: usize,
    wake: Wake,
    cpus: Cpus,
    samples: usize,
) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let name = unique_name("hold-lat");
    let options = WriterOptions {
        slot_capacity: len.max(64),
        mode: 0o600,
        ..Default::default()
    };
    let mut writer = Writer::create(&name, &options).map_err(|e| e.to_string())?;
    let ctl = SharedBlock::create(0)?;
    let mut args = child_args(&ctl, samples, len, wake);
    args.push(("STREAM", name));
    let child = spawn(role, cpus.reader, &args)?;
    let source = SourceFrames::new(len);
    let meta = meta_for(len);
    // Stamp 0 marks the frames published while the reader gets its holds.
    let mut publish = |i: u64, stamped: bool| {
        let pixels = source.get(i);
        writer
            .publish_with::<Error>(&meta, |fill| {
                fill.write(8, &pixels[8..])?;
                let stamp = if stamped { monotonic_ns() } else { 0 };
                fill.write(0, &stamp.to_le_bytes())
            })
            .map(drop)
            .map_err(|e| e.to_string())
    };
    publish_until_ready(&ctl, 1, |i| publish(i, false))?;
    for i in 1..=samples as u64 {
        pause(wake);
        publish(i, true)?;
        crate::latency::wait_ack(&ctl, i, wake)?;
    }
    child.finish()
}

/// Publishes unstamped frames (`publish(i)`) until `count` children are
/// ready: holds are granted at a publish, so readers waiting for theirs
/// need frames to come.
fn publish_until_ready(
    ctl: &SharedBlock,
    count: u64,
    mut publish: impl FnMut(u64) -> BenchResult<()>,
) -> BenchResult<()> {
    let give_up = Instant::now() + GRANT_LIMIT;
    let mut i = 0;
    // Pairs with the children's Release increment in `mark_ready`.
    while ctl.line(READY).load(Acquire) < count {
        if Instant::now() > give_up {
            return Err(format!(
                "readers not granted their holds within {GRANT_LIMIT:?}"
            ));
        }
        publish(i)?;
        i += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Opens `STREAM` asking for `holds` holds and waits until the writer granted
/// them (the first attempt announces this reader's hold file).
fn granted_reader(args: &ChildArgs, holds: usize) -> BenchResult<Reader> {
    let options = ReaderOptions {
        holds,
        ..Default::default()
    };
    let reader =
        Reader::open_with(&args.get::<String>("STREAM")?, &options).map_err(|e| e.to_string())?;
    let give_up = Instant::now() + GRANT_LIMIT;
    loop {
        match reader.hold_latest() {
            Ok(_) | Err(Error::NoHoldFree) => {}
            Err(e) => return Err(e.to_string()),
        }
        if reader.holds_granted() >= holds {
            return Ok(reader);
        }
        if Instant::now() > give_up {
            return Err(format!("holds not granted within {GRANT_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The reader child of [`latency_hold`]: holds each frame, reads its stamp
/// (the first 8 bytes) and its last byte, lets go.
pub fn hold_latency_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let mut reader = granted_reader(args, 1)?;
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |_| {
        let held = reader
            .wait_hold_next(Duration::from_secs(1))
            .map_err(|e| e.to_string())?;
        Ok(held.and_then(|frame| {
            let pixels = frame.pixels();
            std::hint::black_box(pixels[pixels.len() - 1]);
            let stamp = u64::from_le_bytes(pixels[..8].try_into().expect("frames hold 8 bytes"));
            (stamp != 0).then_some(stamp)
        }))
    })
}

/// What the readers of a [`writer_rate`] run do with the frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Hold the latest frame for [`HOLD_FOR`], let go, hold the next.
    Hold,
    /// Copy the latest frame out, then wait [`HOLD_FOR`]: the same pace, no hold.
    Copy,
    /// Hold one frame each for the whole run and never let go, as a stopped
    /// holder would: every hold taken, the writer keeps to the 2 free slots.
    KeepHolding,
}

impl Readers {
    fn as_str(self) -> &'static str {
        match self {
            Readers::Hold => "hold",
            Readers::Copy => "copy",
            Readers::KeepHolding => "keep",
        }
    }

    fn parse(s: &str) -> BenchResult<Readers> {
        [Readers::Hold, Readers::Copy, Readers::KeepHolding]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown reader behaviour `{s}`"))
    }
}

/// Readers of the holding writer-rate case, and the holds its writer honours.
pub const HOLDING_READERS: usize = 8;

/// The writer's rate with `run.readers` children doing `readers` with the
/// frames, from a writer honouring [`HOLDING_READERS`] holds (a ring of 10
/// slots); with no reader, the same writer alone. Every reader is granted
/// its hold before the clock starts, copying ones too (they never take it),
/// so that the rows differ only in what the readers do.
pub fn writer_rate(run: RateRun, readers: Readers) -> BenchResult<Timed> {
    let _pinned = pin(run.cpus.writer)?;
    let name = unique_name("hold-rate");
    let options = WriterOptions {
        slot_capacity: run.len,
        mode: 0o600,
        holds: HOLDING_READERS,
        ..Default::default()
    };
    let mut writer = Writer::create(&name, &options).map_err(|e| e.to_string())?;
    let slots = (HOLDING_READERS + 2) as u64;
    let ctl = SharedBlock::create(0)?;
    let extra = [
        ("STREAM", name),
        ("LEN", run.len.to_string()),
        ("READERS", readers.as_str().to_string()),
    ];
    let children = spawn_readers(ROLE_HOLD_RATE, run.readers, run.cpus, &ctl, &extra)?;
    let source = SourceFrames::new(run.len);
    let meta = meta_for(run.len);
    let mut publish = |i: u64| {
        writer
            .publish(&meta, source.get(i))
            .map(drop)
            .map_err(|e| e.to_string())
    };
    publish_until_ready(&ctl, run.readers as u64, &mut publish)?;
    // Every slot written a few times first, with or without readers: no
    // first-touch page faults in the clocked part.
    for i in 0..4 * slots {
        publish(i)?;
    }
    let timed = clocked(run.frames, run.budget, publish)?;
    let frames_read = stop_readers(&ctl, children)?;
    Ok(timed.read_by(run.readers, frames_read))
}

/// A reader child of [`writer_rate`]: holds (or copies) the latest frame,
/// touches its first and last byte, waits [`HOLD_FOR`], lets go, again; or
/// keeps one frame held to the end. Reports the frames it held or copied.
pub fn hold_rate_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let readers = Readers::parse(&args.get::<String>("READERS")?)?;
    let mut reader = granted_reader(args, 1)?;
    let mut buf = vec![0u8; args.get("LEN")?];
    let timeout = Duration::from_millis(20);
    let touch = |pixels: &[u8]| std::hint::black_box((pixels[0], pixels[pixels.len() - 1]));
    // Pairs with the Release store in `stop_readers`.
    let stopped = || ctl.line(STOP).load(Acquire) != 0;
    if readers == Readers::KeepHolding {
        let kept = loop {
            if let Some(frame) = reader.hold_latest().map_err(|e| format!("holding: {e}"))? {
                break frame;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        touch(kept.pixels());
        ctl.mark_ready();
        while !stopped() {
            std::thread::sleep(Duration::from_millis(1));
        }
        return Ok(vec![1]);
    }
    ctl.mark_ready();
    let mut read = 0u64;
    while !stopped() {
        let got = match readers {
            Readers::Hold => match reader.wait_hold_latest(timeout) {
                Ok(Some(frame)) => {
                    touch(frame.pixels());
                    std::thread::sleep(HOLD_FOR);
                    true
                }
                Ok(None) => false,
                Err(e) => return Err(format!("holding: {e}")),
            },
            _ => match reader.wait_latest(&mut buf, timeout) {
                Ok(got) => {
                    std::thread::sleep(HOLD_FOR);
                    got.is_some()
                }
                Err(shmframe::Error::Starved { .. }) => false,
                Err(e) => return Err(e.to_string()),
            },
        };
        read += u64::from(got);
    }
    Ok(vec![read])
}
