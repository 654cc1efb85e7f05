//! The classic design: one frame buffer in shared memory under a
//! process-shared pthread mutex (and condition variable, for sleeping
//! readers); the writer holds the lock while it copies in, a reader while it
//! copies out. This is what the shared-memory examples of GUI toolkits do.

use shmframe::monotonic_ns;
use shmframe_measure::child::{spawn, ChildArgs};
use shmframe_measure::frames::SourceFrames;
use shmframe_measure::latency::{child_args, pause, stamp_latencies, wait_ack};
use shmframe_measure::shm::{SharedBlock, PING, STAMP, STOP};
use shmframe_measure::throughput::{count_frames, timed_from, Received};
use shmframe_measure::writer_rate::{clocked, collect_reads, count_reads, start_readers};
use shmframe_measure::{affinity::pin, BenchResult, Cpus, RateRun, Timed, Wake};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

const ROLE_LATENCY: &str = "classic-latency";
const ROLE_THROUGHPUT: &str = "classic-throughput";
const ROLE_RATE: &str = "classic-rate";

/// Bytes before the frame in the data area: the mutex and the condition variable.
const FRAME_OFFSET: usize = 4096;
const COND_OFFSET: usize = 128;

/// The lock and condition variable at the start of a block's data area.
struct Classic<'a> {
    block: &'a SharedBlock,
}

/// Proof that this process holds the mutex; unlocks on drop.
struct Locked<'a, 'b>(&'b Classic<'a>);

impl<'a> Classic<'a> {
    fn mutex(&self) -> *mut libc::pthread_mutex_t {
        self.block.data_ptr().cast()
    }

    fn cond(&self) -> *mut libc::pthread_cond_t {
        // SAFETY: COND_OFFSET is inside the data area (at least FRAME_OFFSET bytes).
        unsafe { self.block.data_ptr().add(COND_OFFSET).cast() }
    }

    /// Initialises the process-shared mutex and condition variable of a fresh block.
    fn init(block: &'a SharedBlock) -> BenchResult<Classic<'a>> {
        assert!(block.data_len() >= FRAME_OFFSET);
        let this = Classic { block };
        // SAFETY: the block is fresh, page-aligned and not yet shared with any
        // process; the mutex and condvar fit in their 128-byte slots (40 and 48
        // bytes on Linux), and the attribute objects live on this stack frame
        // and are destroyed after use.
        let rc = unsafe {
            let mut mattr: libc::pthread_mutexattr_t = std::mem::zeroed();
            let mut cattr: libc::pthread_condattr_t = std::mem::zeroed();
            libc::pthread_mutexattr_init(&mut mattr);
            libc::pthread_mutexattr_setpshared(&mut mattr, libc::PTHREAD_PROCESS_SHARED);
            libc::pthread_condattr_init(&mut cattr);
            libc::pthread_condattr_setpshared(&mut cattr, libc::PTHREAD_PROCESS_SHARED);
            libc::pthread_condattr_setclock(&mut cattr, libc::CLOCK_MONOTONIC);
            let a = libc::pthread_mutex_init(this.mutex(), &mattr);
            let b = libc::pthread_cond_init(this.cond(), &cattr);
            libc::pthread_mutexattr_destroy(&mut mattr);
            libc::pthread_condattr_destroy(&mut cattr);
            a | b
        };
        if rc != 0 {
            return Err(format!("pthread init failed: {rc}"));
        }
        Ok(this)
    }

    /// Attaches to a block another process initialised.
    fn attach(block: &'a SharedBlock) -> Classic<'a> {
        Classic { block }
    }

    fn lock(&self) -> Locked<'a, '_> {
        // SAFETY: the mutex was initialised process-shared by `init` before any
        // child was started, and lives as long as the block.
        unsafe { libc::pthread_mutex_lock(self.mutex()) };
        Locked(self)
    }
}

impl Locked<'_, '_> {
    /// Sleeps on the condition variable (the mutex is released meanwhile).
    fn wait(&self) {
        let ts = libc::timespec {
            tv_sec: (monotonic_ns() / 1_000_000_000) as libc::time_t + 1,
            tv_nsec: 0,
        };
        // SAFETY: this process holds the initialised mutex (the guard proves
        // it), and the condvar was initialised with CLOCK_MONOTONIC, the clock
        // of this deadline; callers re-check their condition after any return.
        unsafe { libc::pthread_cond_timedwait(self.0.cond(), self.0.mutex(), &ts) };
    }

    fn broadcast(&self) {
        // SAFETY: the condvar was initialised process-shared by `init`.
        unsafe { libc::pthread_cond_broadcast(self.0.cond()) };
    }

    fn write_frame(&self, src: &[u8]) {
        // SAFETY: everyone touches the frame area only while holding the mutex,
        // which this guard proves we hold.
        unsafe { self.0.block.write_data(FRAME_OFFSET, src) }
    }

    fn read_frame(&self, dst: &mut [u8]) {
        // SAFETY: as in `write_frame`.
        unsafe { self.0.block.read_data(FRAME_OFFSET, dst) }
    }
}

impl Drop for Locked<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: this guard's existence means this thread locked the mutex.
        unsafe { libc::pthread_mutex_unlock(self.0.mutex()) };
    }
}

/// One publish: stamp and copy in under the lock, bump the counter, wake sleepers.
fn publish(classic: &Classic<'_>, ctl: &SharedBlock, number: u64, src: &[u8]) {
    let stamp = monotonic_ns();
    let guard = classic.lock();
    guard.write_frame(src);
    ctl.line(STAMP).store(stamp, Relaxed);
    // The counter lets readers see a new frame without taking the lock.
    ctl.line(PING).store(number, Release);
    guard.broadcast();
}

/// One read of a frame newer than `last`: waits (spinning on the counter, or
/// on the condvar), then copies out under the lock. Returns (number, stamp).
fn read(
    classic: &Classic<'_>,
    ctl: &SharedBlock,
    last: u64,
    wake: Wake,
    buf: &mut [u8],
) -> Option<(u64, u64)> {
    if wake == Wake::Poll {
        // Pairs with the Release store in `publish`.
        while ctl.line(PING).load(Acquire) == last {
            if ctl.line(STOP).load(Relaxed) != 0 {
                return None;
            }
            std::hint::spin_loop();
        }
    }
    let guard = classic.lock();
    while ctl.line(PING).load(Relaxed) == last {
        if ctl.line(STOP).load(Relaxed) != 0 {
            return None;
        }
        guard.wait();
    }
    guard.read_frame(buf);
    Some((ctl.line(PING).load(Relaxed), ctl.line(STAMP).load(Relaxed)))
}

/// Latency samples (ns) of `len`-byte frames.
pub fn latency(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(FRAME_OFFSET + len)?;
    let classic = Classic::init(&ctl)?;
    let child = spawn(
        ROLE_LATENCY,
        cpus.reader,
        &child_args(&ctl, samples, len, wake),
    )?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    for i in 1..=samples as u64 {
        pause(wake);
        publish(&classic, &ctl, i, source.get(i));
        wait_ack(&ctl, i, wake)?;
    }
    child.finish()
}

fn latency_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let classic = Classic::attach(&ctl);
    let samples: usize = args.get("N")?;
    let wake = Wake::parse(&args.get::<String>("WAKE")?)?;
    let mut buf = vec![0u8; args.get("LEN")?];
    let mut last = 0;
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |_| {
        let (number, stamp) = read(&classic, &ctl, last, wake, &mut buf).ok_or("stopped")?;
        last = number;
        Ok(Some(stamp))
    })
}

/// End-to-end throughput: the writer publishes as fast as it can, the reader
/// (sleeping on the condvar) copies out each frame it sees.
pub fn throughput(len: usize, cpus: Cpus, frames: u64, budget: Duration) -> BenchResult<Timed> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(FRAME_OFFSET + len)?;
    let classic = Classic::init(&ctl)?;
    let args = shmframe_measure::throughput::child_args(&ctl, frames, len, budget);
    let mut child = spawn(ROLE_THROUGHPUT, cpus.reader, &args)?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    let start = Instant::now();
    let mut i = 1u64;
    while ctl.line(STOP).load(Acquire) == 0 {
        publish(&classic, &ctl, i, source.get(i));
        i += 1;
        if i % 64 == 0 && (child.exited() || start.elapsed() > budget * 3 + Duration::from_secs(1))
        {
            // A reader starved of the lock: stop it and report what it got.
            ctl.line(STOP).store(1, Release);
            classic.lock().broadcast();
            break;
        }
    }
    timed_from(&child.finish()?)
}

fn throughput_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let classic = Classic::attach(&ctl);
    let mut buf = vec![0u8; args.get("LEN")?];
    ctl.mark_ready();
    let mut last = 0;
    count_frames(&ctl, args, || {
        Ok(match read(&classic, &ctl, last, Wake::Sleep, &mut buf) {
            Some((number, _)) => {
                last = number;
                Received::Frame
            }
            None => Received::Ended,
        })
    })
}

/// The writer's publish rate with `readers` children copying out every frame they see.
pub fn writer_rate(run: RateRun) -> BenchResult<Timed> {
    let _pinned = pin(run.cpus.writer)?;
    let ctl = SharedBlock::create(FRAME_OFFSET + run.len)?;
    let classic = Classic::init(&ctl)?;
    let children = start_readers(
        ROLE_RATE,
        run.readers,
        run.cpus,
        &ctl,
        &[("LEN", run.len.to_string())],
    )?;
    let source = SourceFrames::new(run.len);
    let timed = clocked(run.frames, run.budget, |i| {
        publish(&classic, &ctl, i + 1, source.get(i));
        Ok(())
    })?;
    // Pairs with the readers' Acquire loads of STOP; the broadcast wakes those
    // asleep on the condition variable so they see it.
    ctl.line(STOP).store(1, Release);
    classic.lock().broadcast();
    let frames_read = collect_reads(children)?;
    Ok(timed.read_by(run.readers, frames_read))
}

fn rate_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let classic = Classic::attach(&ctl);
    let mut buf = vec![0u8; args.get("LEN")?];
    let mut last = 0;
    ctl.mark_ready();
    count_reads(|| {
        Ok(match read(&classic, &ctl, last, Wake::Sleep, &mut buf) {
            Some((number, _)) => {
                last = number;
                true
            }
            None => false,
        })
    })
}

/// This peer's reader children, by role.
pub const READERS: [(&str, crate::RoleFn); 3] = [
    (ROLE_LATENCY, latency_reader),
    (ROLE_THROUGHPUT, throughput_reader),
    (ROLE_RATE, rate_reader),
];
