//! End-to-end throughput: the writer copies frames in, a reader child copies
//! them out, as fast as both go; counted at the reader.

use crate::affinity::pin;
use crate::child::{spawn, wait_until, ChildArgs};
use crate::frames::SourceFrames;
use crate::shm::{SharedBlock, CONSUMED, PRODUCED, STOP};
use crate::writer_rate::thread_cpu_time;
use crate::{meta_for, unique_name, BenchResult, Cpus, Timed};
use shmframe::{Reader, Writer, WriterOptions};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

/// Role of shmframe's reader child.
pub const ROLE_SHMFRAME: &str = "throughput-shmframe";
/// Role of the floor's reader child.
pub const ROLE_FLOOR: &str = "throughput-floor";

/// Slots of the rings, shmframe's and the floor's alike.
pub const SLOTS: usize = 4;

const LIMIT: Duration = Duration::from_secs(60);

/// Frames the reader takes before its clock starts (page faults, cold caches).
pub const WARMUP: u64 = SLOTS as u64 + 4;

/// Arguments every throughput child gets.
pub fn child_args(
    ctl: &SharedBlock,
    frames: u64,
    len: usize,
    budget: Duration,
) -> Vec<(&'static str, String)> {
    vec![
        ("CTL", ctl.path_string()),
        ("N", frames.to_string()),
        ("LEN", len.to_string()),
        ("BUDGET_NS", budget.as_nanos().to_string()),
    ]
}

/// Turns a child's `[frames, elapsed_ns, cpu_ns]` report into a [`Timed`].
pub fn timed_from(report: &[u64]) -> BenchResult<Timed> {
    match report {
        // A reader that got nothing reports a rate of zero, not an error.
        [frames, nanos, rest @ ..] => Ok(Timed {
            frames: *frames,
            elapsed: Duration::from_nanos((*nanos).max(1)),
            reader_cpu: Duration::from_nanos(rest.first().copied().unwrap_or(0)),
            ..Timed::default()
        }),
        _ => Err("throughput child reported nothing".into()),
    }
}

/// Times frames at the reader: up to `N` frames after [`WARMUP`], or until
/// the budget (`BUDGET_NS`, counted from the first frame) runs out. A reader
/// too starved to get past the warm-up is timed from its first frame.
pub struct ReaderClock {
    first: Option<(Instant, Duration)>,
    warm: Option<(Instant, Duration)>,
    seen: u64,
    frames: u64,
    budget: Duration,
}

impl ReaderClock {
    /// A clock with the child's `N` and `BUDGET_NS` parameters.
    pub fn from_args(args: &ChildArgs) -> BenchResult<ReaderClock> {
        Ok(ReaderClock {
            first: None,
            warm: None,
            seen: 0,
            frames: args.get("N")?,
            budget: Duration::from_nanos(args.get("BUDGET_NS")?),
        })
    }

    /// Counts one received frame; returns whether the measurement is complete.
    pub fn tick(&mut self) -> bool {
        let now = Instant::now();
        let (first, _) = *self.first.get_or_insert_with(|| (now, thread_cpu_time()));
        self.seen += 1;
        if self.seen == WARMUP + 1 {
            self.warm = Some((now, thread_cpu_time()));
        }
        self.seen >= WARMUP + 1 + self.frames || now - first >= self.budget
    }

    /// `[frames, elapsed_ns, cpu_ns]`: frames after the warm-up, their time
    /// and this thread's CPU time meanwhile (copying and waiting alike), or,
    /// for a reader that got fewer than two frames after it, all but the first.
    pub fn report(&self) -> Vec<u64> {
        let (frames, (since, cpu_since)) = match (self.warm, self.first) {
            (Some(warm), _) if self.seen >= WARMUP + 3 => (self.seen - WARMUP - 1, warm),
            (_, Some(first)) => (self.seen - 1, first),
            _ => return vec![0, 0, 0],
        };
        let cpu = thread_cpu_time().saturating_sub(cpu_since);
        vec![
            frames,
            since.elapsed().as_nanos() as u64,
            cpu.as_nanos() as u64,
        ]
    }
}

/// What one receive of a throughput reader gave.
pub enum Received {
    /// A frame: counted.
    Frame,
    /// Nothing this time (a timeout, a lapped copy): try again.
    Nothing,
    /// The stream ended: stop counting.
    Ended,
}

/// The throughput reader's loop, the same for every system: counts the frames
/// `receive` delivers until the [`ReaderClock`] is complete or the stream
/// ends, then tells the writer to stop and returns the clock's report.
pub fn count_frames(
    ctl: &SharedBlock,
    args: &ChildArgs,
    mut receive: impl FnMut() -> BenchResult<Received>,
) -> BenchResult<Vec<u64>> {
    let mut clock = ReaderClock::from_args(args)?;
    loop {
        match receive()? {
            Received::Frame if clock.tick() => break,
            Received::Frame | Received::Nothing => {}
            Received::Ended => break,
        }
    }
    // Pairs with the writer's Acquire load of STOP.
    ctl.line(STOP).store(1, Release);
    Ok(clock.report())
}

/// shmframe: a writer publishing `len`-byte frames from [`SourceFrames`] into
/// a ring of [`SLOTS`], a reader copying out the latest frame each time one
/// is published (`wait_latest`), as a viewer or a frame-grabbing consumer does.
pub fn shmframe(len: usize, cpus: Cpus, frames: u64, budget: Duration) -> BenchResult<Timed> {
    run_shmframe(len, cpus, frames, budget, "latest")
}

/// shmframe with a reader that wants every frame in order (`wait_next`).
///
/// When the writer is faster, such a reader is lapped: it resumes at the
/// oldest intact frame, which is the next slot the writer overwrites, so
/// many of its copies are torn and thrown away.
pub fn shmframe_in_order(
    len: usize,
    cpus: Cpus,
    frames: u64,
    budget: Duration,
) -> BenchResult<Timed> {
    run_shmframe(len, cpus, frames, budget, "next")
}

fn run_shmframe(
    len: usize,
    cpus: Cpus,
    frames: u64,
    budget: Duration,
    read: &str,
) -> BenchResult<Timed> {
    let _pinned = pin(cpus.writer)?;
    let name = unique_name("tput");
    let options = WriterOptions {
        slots: SLOTS,
        slot_capacity: len,
        mode: 0o600,
        // Copies only, as the figures in docs/benchmarks.md were measured.
        holds: 0,
    };
    let mut writer = Writer::create(&name, &options).map_err(|e| e.to_string())?;
    let ctl = SharedBlock::create(0)?;
    let mut args = child_args(&ctl, frames, len, budget);
    args.push(("STREAM", name));
    args.push(("READ", read.to_owned()));
    let mut child = spawn(ROLE_SHMFRAME, cpus.reader, &args)?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    let meta = meta_for(len);
    let start = Instant::now();
    let mut i = 0u64;
    // Pairs with the reader's Release store of STOP once it has all its frames.
    while ctl.line(STOP).load(Acquire) == 0 {
        writer
            .publish(&meta, source.get(i))
            .map_err(|e| e.to_string())?;
        i += 1;
        if i % 64 == 0 && (start.elapsed() > LIMIT || child.exited()) {
            break;
        }
    }
    timed_from(&child.finish()?)
}

/// The reader child of [`shmframe`].
pub fn shmframe_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let mut reader = Reader::open(&args.get::<String>("STREAM")?).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; args.get("LEN")?];
    let in_order = args.get::<String>("READ")? == "next";
    ctl.mark_ready();
    count_frames(&ctl, args, || {
        let timeout = Duration::from_secs(1);
        let got = if in_order {
            reader.wait_next(&mut buf, timeout)
        } else {
            reader.wait_latest(&mut buf, timeout)
        };
        Ok(match got {
            Ok(Some(_)) => Received::Frame,
            // Lapped on every attempt: no frame delivered this time.
            Ok(None) | Err(shmframe::Error::Starved { .. }) => Received::Nothing,
            Err(e) => return Err(e.to_string()),
        })
    })
}

/// The floor: the same copies with plain `memcpy` through a ring of [`SLOTS`]
/// in shared memory, under a produced/consumed handshake (both sides spin).
pub fn floor(len: usize, cpus: Cpus, frames: u64, budget: Duration) -> BenchResult<Timed> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(len * SLOTS)?;
    let mut child = spawn(
        ROLE_FLOOR,
        cpus.reader,
        &child_args(&ctl, frames, len, budget),
    )?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    let mut i = 0u64;
    loop {
        // Pairs with the reader's Release store of CONSUMED after its copy.
        let room = || {
            i - ctl.line(CONSUMED).load(Acquire) < SLOTS as u64 || ctl.line(STOP).load(Relaxed) != 0
        };
        wait_until(LIMIT, false, room)?;
        if ctl.line(STOP).load(Acquire) != 0 || child.exited() {
            break;
        }
        let offset = (i % SLOTS as u64) as usize * len;
        // SAFETY: the reader has consumed the frame that last used this slot
        // (CONSUMED, Acquire, above) and reads it again only after PRODUCED says so.
        unsafe { ctl.write_data(offset, source.get(i)) };
        i += 1;
        // Pairs with the reader's Acquire load of PRODUCED.
        ctl.line(PRODUCED).store(i, Release);
    }
    timed_from(&child.finish()?)
}

/// The reader child of [`floor`].
pub fn floor_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let len: usize = args.get("LEN")?;
    let mut buf = vec![0u8; len];
    let mut clock = ReaderClock::from_args(args)?;
    ctl.mark_ready();
    let mut j = 0u64;
    loop {
        // Pairs with the writer's Release store of PRODUCED after its copy.
        wait_until(LIMIT, false, || ctl.line(PRODUCED).load(Acquire) > j)?;
        let offset = (j % SLOTS as u64) as usize * len;
        // SAFETY: frame j is published (Acquire above) and its slot is written
        // again only after the CONSUMED store below.
        unsafe { ctl.read_data(offset, &mut buf) };
        j += 1;
        // Pairs with the writer's Acquire load of CONSUMED.
        ctl.line(CONSUMED).store(j, Release);
        if clock.tick() {
            break;
        }
    }
    ctl.line(STOP).store(1, Release);
    Ok(clock.report())
}
