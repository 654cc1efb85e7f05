//! The writer's publish rate with reader children attached and reading.

use crate::affinity::pin;
use crate::child::{spawn, ChildArgs, RoleChild};
use crate::frames::SourceFrames;
use crate::shm::{SharedBlock, STOP};
use crate::{meta_for, unique_name, BenchResult, Cpus, RateRun, Timed};
use shmframe::{Reader, Writer, WriterOptions};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

/// Role of shmframe's reader children.
pub const ROLE_SHMFRAME: &str = "writer-rate-shmframe";

/// Frames published before the clock starts.
pub const WARMUP: u64 = 16;

/// Starts `count` reader children in `role` on the readers' CPU and waits until all are ready.
pub fn start_readers(
    role: &str,
    count: usize,
    cpus: Cpus,
    ctl: &SharedBlock,
    extra: &[(&'static str, String)],
) -> BenchResult<Vec<RoleChild>> {
    let children = spawn_readers(role, count, cpus, ctl, extra)?;
    ctl.wait_ready(count as u64)?;
    Ok(children)
}

/// Starts `count` reader children in `role` on the readers' CPU.
pub fn spawn_readers(
    role: &str,
    count: usize,
    cpus: Cpus,
    ctl: &SharedBlock,
    extra: &[(&'static str, String)],
) -> BenchResult<Vec<RoleChild>> {
    let mut args = vec![("CTL", ctl.path_string())];
    args.extend_from_slice(extra);
    (0..count)
        .map(|k| {
            let mut args = args.clone();
            args.push(("INDEX", k.to_string()));
            spawn(role, cpus.reader, &args)
        })
        .collect()
}

/// Stops reader children; returns the frames they read, all together.
pub fn stop_readers(ctl: &SharedBlock, children: Vec<RoleChild>) -> BenchResult<u64> {
    // Pairs with the readers' Acquire loads of STOP.
    ctl.line(STOP).store(1, Release);
    collect_reads(children)
}

/// Waits for stopped reader children; returns the frames they read, all together.
pub fn collect_reads(children: Vec<RoleChild>) -> BenchResult<u64> {
    let mut total = 0;
    for child in children {
        total += child.finish()?.first().copied().unwrap_or(0);
    }
    Ok(total)
}

/// Publishes with `publish(i)` until `frames` frames or `budget` (after
/// [`WARMUP`] unclocked ones); returns the frames clocked, their wall time and
/// the CPU time this thread spent on them (the readers fill in the rest).
///
/// The thread CPU clock counts only the time the writer ran, so it measures
/// what a publish costs the writer apart from how the scheduler shares the
/// CPUs with reader processes.
pub fn clocked(
    frames: u64,
    budget: Duration,
    mut publish: impl FnMut(u64) -> BenchResult<()>,
) -> BenchResult<Timed> {
    for i in 0..WARMUP {
        publish(i)?;
    }
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    let mut done = 0;
    while done < frames {
        publish(WARMUP + done)?;
        done += 1;
        if done % 16 == 0 && start.elapsed() >= budget {
            break;
        }
    }
    Ok(Timed {
        frames: done,
        elapsed: start.elapsed(),
        writer_cpu: thread_cpu_time().saturating_sub(cpu_start),
        ..Timed::default()
    })
}

/// CPU time this thread has run (CLOCK_THREAD_CPUTIME_ID).
pub fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// shmframe (default 2 slots): publishes frames of `len` bytes with `readers`
/// children each copying out the latest frame whenever one is published (`wait_latest`).
pub fn shmframe(run: RateRun) -> BenchResult<Timed> {
    let _pinned = pin(run.cpus.writer)?;
    let name = unique_name("rate");
    let options = WriterOptions {
        slots: 2,
        slot_capacity: run.len,
        mode: 0o600,
        // Copies only, as the figures in docs/benchmarks.md were measured.
        holds: 0,
    };
    let mut writer = Writer::create(&name, &options).map_err(|e| e.to_string())?;
    let ctl = SharedBlock::create(0)?;
    let extra = [("STREAM", name), ("LEN", run.len.to_string())];
    let children = start_readers(ROLE_SHMFRAME, run.readers, run.cpus, &ctl, &extra)?;
    let source = SourceFrames::new(run.len);
    let meta = meta_for(run.len);
    let timed = clocked(run.frames, run.budget, |i| {
        writer
            .publish(&meta, source.get(i))
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    let frames_read = stop_readers(&ctl, children)?;
    Ok(timed.read_by(run.readers, frames_read))
}

/// A peer's writer-rate reader loop: counts the frames `receive` delivers
/// until it returns `false` (the stream ended or the writer said stop), and
/// reports the count.
pub fn count_reads(mut receive: impl FnMut() -> BenchResult<bool>) -> BenchResult<Vec<u64>> {
    let mut count = 0u64;
    while receive()? {
        count += 1;
    }
    Ok(vec![count])
}

/// A reader child of [`shmframe`].
pub fn shmframe_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let mut reader = Reader::open(&args.get::<String>("STREAM")?).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; args.get("LEN")?];
    let mut read = 0u64;
    ctl.mark_ready();
    // Pairs with the Release store in `stop_readers`.
    while ctl.line(STOP).load(Acquire) == 0 {
        // A reader that the writer keeps lapping gets nothing this time, as
        // any reader slower than its writer: counted as no frame, not a failure.
        let got = match reader.wait_latest(&mut buf, Duration::from_millis(20)) {
            Err(shmframe::Error::Starved { .. }) => None,
            other => other.map_err(|e| e.to_string())?,
        };
        read += u64::from(got.is_some());
    }
    Ok(vec![read])
}

/// The floor: plain `memcpy` of the frames into two alternating slots of
/// shared memory (shmframe's default ring), nobody reading.
pub fn floor(len: usize, cpus: Cpus, frames: u64, budget: Duration) -> BenchResult<Timed> {
    let _pinned = pin(cpus.writer)?;
    let block = SharedBlock::create(2 * len)?;
    let source = SourceFrames::new(len);
    clocked(frames, budget, |i| {
        // SAFETY: no other process maps this block.
        unsafe { block.write_data((i % 2) as usize * len, source.get(i)) };
        Ok(())
    })
}
