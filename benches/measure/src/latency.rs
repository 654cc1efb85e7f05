//! One-way latency, publish to observed, across two processes.
//!
//! The writer (this process) stamps a frame with CLOCK_MONOTONIC, the reader
//! child subtracts the stamp from the clock once it holds its copy, then
//! acknowledges on a separate cache line; the writer waits for that before
//! the next frame. A sleeping reader is left [`SLEEP_GAP`] to fall asleep.

use crate::affinity::pin;
use crate::child::{spawn, wait_until, ChildArgs};
use crate::frames::SourceFrames;
use crate::shm::{SharedBlock, ACK, FUTEX, PING, STAMP};
use crate::stats::without_warmup;
use crate::{meta_for, unique_name, BenchResult, Cpus, Wake, SLEEP_GAP};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::thread::futex;
use shmframe::{monotonic_ns, Reader, Writer, WriterOptions};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Duration;

/// Role of shmframe's reader child.
pub const ROLE_SHMFRAME: &str = "latency-shmframe";
/// Role of shmframe's reader child that waits on its readiness fd.
pub const ROLE_SHMFRAME_FD: &str = "latency-shmframe-fd";
/// Role of the cache-line floor's reader child.
pub const ROLE_FLOOR_LINE: &str = "latency-floor-line";
/// Role of the futex floor's reader child.
pub const ROLE_FLOOR_FUTEX: &str = "latency-floor-futex";
/// Role of the memcpy floor's reader child.
pub const ROLE_FLOOR_MEMCPY: &str = "latency-floor-memcpy";

/// How long the writer waits for an acknowledgement before giving up.
const ACK_LIMIT: Duration = Duration::from_secs(10);

/// Waits for the reader to acknowledge frame `number`.
pub fn wait_ack(ctl: &SharedBlock, number: u64, wake: Wake) -> BenchResult<()> {
    // Pairs with the reader's Release store of ACK after its copy: the reader
    // is done with the frame (and its data area) once this load sees it.
    wait_until(ACK_LIMIT, wake == Wake::Sleep, || {
        ctl.line(ACK).load(Acquire) >= number
    })
}

/// Leaves a sleeping reader time to fall asleep before the next frame.
pub fn pause(wake: Wake) {
    if wake == Wake::Sleep {
        std::thread::sleep(SLEEP_GAP);
    }
}

/// Arguments every latency child gets.
pub fn child_args(
    ctl: &SharedBlock,
    samples: usize,
    len: usize,
    wake: Wake,
) -> Vec<(&'static str, String)> {
    vec![
        ("CTL", ctl.path_string()),
        ("N", samples.to_string()),
        ("LEN", len.to_string()),
        ("WAKE", wake.as_str().to_owned()),
    ]
}

/// The latency reader's loop, the same for every system: `receive(taken)`
/// (`taken`: samples so far) returns the stamp of the frame it now holds, or
/// `None` when nothing came yet; each sample is the clock minus the stamp,
/// acknowledged on [`ACK`] before the writer sends the next frame.
pub fn stamp_latencies(
    ctl: &SharedBlock,
    samples: usize,
    mut receive: impl FnMut(usize) -> BenchResult<Option<u64>>,
) -> BenchResult<Vec<u64>> {
    let mut out = Vec::with_capacity(samples);
    while out.len() < samples {
        match receive(out.len())? {
            Some(stamp) => {
                out.push(monotonic_ns().saturating_sub(stamp));
                // Pairs with the writer's Acquire load in `wait_ack`.
                ctl.line(ACK).store(out.len() as u64, Release);
            }
            None => std::hint::spin_loop(),
        }
    }
    Ok(without_warmup(out))
}

/// shmframe: one-way latency samples (ns) of `len`-byte frames.
pub fn shmframe(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    shmframe_as(ROLE_SHMFRAME, len, wake, cpus, samples)
}

/// shmframe with a reader that `poll`s its readiness fd, then reads the
/// frame in order: publish -> fd readable -> frame read (`wake` must be
/// [`Wake::Sleep`]).
pub fn shmframe_fd(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    if wake != Wake::Sleep {
        return Err("the readiness fd is for sleeping readers".into());
    }
    shmframe_as(ROLE_SHMFRAME_FD, len, wake, cpus, samples)
}

/// shmframe's writer, publishing to a reader child of `role`.
fn shmframe_as(
    role: &str,
    len: usize,
    wake: Wake,
    cpus: Cpus,
    samples: usize,
) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let name = unique_name("lat");
    let options = WriterOptions {
        slots: 2,
        slot_capacity: len.max(64),
        mode: 0o600,
        // Copies only, as the figures in docs/benchmarks.md were measured.
        holds: 0,
    };
    let mut writer = Writer::create(&name, &options).map_err(|e| e.to_string())?;
    let ctl = SharedBlock::create(0)?;
    let mut args = child_args(&ctl, samples, len, wake);
    args.push(("STREAM", name));
    let child = spawn(role, cpus.reader, &args)?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    let meta = meta_for(len);
    for i in 0..samples as u64 {
        pause(wake);
        // Stamped before publishing, in the first 8 bytes as for the peers:
        // the frame's own timestamp marks the commit, after the copy in.
        let stamp = monotonic_ns().to_le_bytes();
        let pixels = source.get(i);
        let number = writer
            .publish_with::<shmframe::Error>(&meta, |fill| {
                fill.write(0, &stamp)?;
                fill.write(8, &pixels[8..])
            })
            .map_err(|e| e.to_string())?;
        wait_ack(&ctl, number, wake)?;
    }
    child.finish()
}

/// The reader child of [`shmframe`].
pub fn shmframe_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let wake = Wake::parse(&args.get::<String>("WAKE")?)?;
    let mut reader = Reader::open(&args.get::<String>("STREAM")?).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; args.get("LEN")?];
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |_| {
        let got = match wake {
            Wake::Poll => reader.next(&mut buf),
            Wake::Sleep => reader.wait_next(&mut buf, Duration::from_secs(1)),
        }
        .map_err(|e| e.to_string())?;
        let stamp = |_| u64::from_le_bytes(buf[..8].try_into().expect("frames hold 8 bytes"));
        // Stamp 0: a frame published while the reader got ready (`holds.rs`).
        Ok(got.map(stamp).filter(|&stamp| stamp != 0))
    })
}

/// The reader child of [`shmframe_fd`].
pub fn shmframe_fd_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let mut reader = Reader::open(&args.get::<String>("STREAM")?).map_err(|e| e.to_string())?;
    let fd = reader
        .readiness_fd()
        .map_err(|e| e.to_string())?
        .as_raw_fd();
    // SAFETY: the fd belongs to `reader`, which lives until the end of this function.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut buf = vec![0u8; args.get("LEN")?];
    let mut out = Vec::with_capacity(samples);
    let timeout = Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    ctl.mark_ready();
    while out.len() < samples {
        let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
        poll(&mut fds, Some(&timeout)).map_err(|e| e.to_string())?;
        // Readable or not (a timeout), read what is there; a read clears it.
        while let Some(info) = reader.next(&mut buf).map_err(|e| e.to_string())? {
            let stamp = u64::from_le_bytes(buf[..8].try_into().expect("frames hold 8 bytes"));
            out.push(monotonic_ns().saturating_sub(stamp));
            // Pairs with the writer's Acquire load in `wait_ack`.
            ctl.line(ACK).store(info.number, Release);
        }
    }
    Ok(without_warmup(out))
}

/// The cache-line floor: a timestamp stored into one shared line, spun on by the reader.
pub fn floor_cache_line(cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let child = spawn(
        ROLE_FLOOR_LINE,
        cpus.reader,
        &child_args(&ctl, samples, 8, Wake::Poll),
    )?;
    ctl.wait_ready(1)?;
    for i in 1..=samples as u64 {
        // Pairs with the reader's Acquire load of PING (the stamp itself is the message).
        ctl.line(PING).store(monotonic_ns(), Release);
        wait_ack(&ctl, i, Wake::Poll)?;
    }
    child.finish()
}

/// The reader child of [`floor_cache_line`].
pub fn floor_cache_line_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let mut last = ctl.line(PING).load(Relaxed);
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |_| {
        // Pairs with the writer's Release store of the stamp.
        let stamp = ctl.line(PING).load(Acquire);
        Ok((stamp != last).then(|| {
            last = stamp;
            stamp
        }))
    })
}

/// The futex floor: a timestamp, a bump of a shared futex word and a raw
/// `FUTEX_WAKE` (no private flag), slept on by the reader.
pub fn floor_futex(cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    floor_futex_after_write(0, cpus, samples)
}

/// The futex floor of a frame of `len` bytes written into shared memory
/// first (plain `memcpy` into one buffer): the clock is read once the frame
/// is in, and the reader, woken, reads the stamp and the frame's last 8 bytes
/// in place. What a zero-copy hand-over of a just-written frame costs at the
/// least. `len` 0: no frame, the plain futex floor.
pub fn floor_futex_after_write(len: usize, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(len)?;
    let child = spawn(
        ROLE_FLOOR_FUTEX,
        cpus.reader,
        &child_args(&ctl, samples, len, Wake::Sleep),
    )?;
    ctl.wait_ready(1)?;
    let word = ctl.futex(FUTEX);
    let source = (len > 0).then(|| SourceFrames::new(len));
    for i in 1..=samples as u64 {
        pause(Wake::Sleep);
        if let Some(source) = &source {
            // SAFETY: the reader acknowledged the previous frame (`wait_ack`
            // below, Acquire) and reads the data area again only after the
            // Release store of the word below.
            unsafe { ctl.write_data(0, source.get(i)) };
        }
        ctl.line(STAMP).store(monotonic_ns(), Relaxed);
        // Pairs with the reader's Acquire load of the word: it then sees the
        // stamp and the frame.
        word.store(i as u32, Release);
        let _ = futex::wake(word, futex::Flags::empty(), i32::MAX as u32);
        wait_ack(&ctl, i, Wake::Sleep)?;
    }
    child.finish()
}

/// The reader child of [`floor_futex_after_write`].
pub fn floor_futex_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let len: usize = args.get("LEN")?;
    let word = ctl.futex(FUTEX);
    let mut seen = word.load(Relaxed);
    let mut tail = [0u8; 8];
    let timeout = futex::Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |_| {
        // Pairs with the writer's Release store of the word.
        let now = word.load(Acquire);
        if now == seen {
            let _ = futex::wait(word, futex::Flags::empty(), seen, Some(&timeout));
            return Ok(None);
        }
        seen = now;
        if len >= tail.len() {
            // SAFETY: the writer published this frame (Acquire above) and
            // writes the data area again only after `stamp_latencies` stores
            // its ACK.
            unsafe { ctl.read_data(len - tail.len(), &mut tail) };
            std::hint::black_box(tail);
        }
        Ok(Some(ctl.line(STAMP).load(Relaxed)))
    })
}

/// The memcpy floor: stamp, plain `memcpy` into one of two slots of shared
/// memory (like shmframe's default ring), one Release store; the reader
/// spins, copies out with `memcpy`, then reads the clock.
pub fn floor_memcpy(len: usize, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(2 * len)?;
    let child = spawn(
        ROLE_FLOOR_MEMCPY,
        cpus.reader,
        &child_args(&ctl, samples, len, Wake::Poll),
    )?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    for i in 1..=samples as u64 {
        let stamp = monotonic_ns();
        // SAFETY: the reader acknowledged the previous frame (`wait_ack` below,
        // Acquire), so it does not touch the data area until the PING store below.
        unsafe { ctl.write_data((i % 2) as usize * len, source.get(i)) };
        // Pairs with the reader's Acquire load of PING: the copy above is visible.
        ctl.line(PING).store(stamp, Release);
        wait_ack(&ctl, i, Wake::Poll)?;
    }
    child.finish()
}

/// The reader child of [`floor_memcpy`].
pub fn floor_memcpy_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let samples: usize = args.get("N")?;
    let len: usize = args.get("LEN")?;
    let mut buf = vec![0u8; len];
    let mut last = ctl.line(PING).load(Relaxed);
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |taken| {
        // Pairs with the writer's Release store after its copy.
        let stamp = ctl.line(PING).load(Acquire);
        if stamp == last {
            return Ok(None);
        }
        // SAFETY: the writer published this frame (Acquire above) and writes the
        // data area again only after `stamp_latencies` stores its ACK.
        unsafe { ctl.read_data((taken + 1) % 2 * len, &mut buf) };
        last = stamp;
        Ok(Some(stamp))
    })
}
