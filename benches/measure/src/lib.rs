//! Measurements of shmframe and of the physical floor, for `shmframe bench`
//! and the `shmframe-benches` crate: a client of the engine's public API, kept
//! out of the engine so that depending on `shmframe` pulls in none of it.
//!
//! Every cross-process figure is taken between this process (the writer) and
//! children that are this same executable started again with
//! [`child::ROLE_ENV`] set: a program that runs measurements must call
//! [`child_entry`] first thing in `main`, before it parses its arguments.
//!
//! Latency is one-way: the writer stamps each frame with CLOCK_MONOTONIC at
//! publish (shmframe does this itself) and the reader subtracts it from the
//! clock once it holds the copied frame; the writer waits for the reader's
//! acknowledgement (a separate cache line) before the next frame, so nothing
//! queues. The floors are built the same way with no protocol at all: one
//! cache line, a raw shared futex, plain `memcpy` under a handshake.
//!
//! Timing never decides anything here: these functions report, they do not judge.

pub mod affinity;
pub mod child;
pub mod frames;
pub mod holds;
pub mod latency;
pub mod report;
mod roles;
pub mod seqlock;
pub mod shm;
pub mod stats;
pub mod throughput;
pub mod writer_rate;

pub use affinity::Cpus;
pub use report::Measurement;
pub use roles::{child_entry, child_entry_with};

use std::time::Duration;

/// Error type of the measurements: a message saying what failed.
pub type BenchError = String;
/// Result of a measurement.
pub type BenchResult<T> = std::result::Result<T, BenchError>;

/// 1920 x 1080 RGBA.
pub const FRAME_1080P: (u32, u32) = (1920, 1080);
/// 3840 x 2160 RGBA.
pub const FRAME_4K: (u32, u32) = (3840, 2160);
/// 16 RGBA pixels: 64 bytes.
pub const FRAME_64B: (u32, u32) = (16, 1);

/// Bytes of a packed 1920 x 1080 NV12 frame (what cameras and decoders hand out).
pub const NV12_1080P_LEN: usize = 1920 * 1080 * 3 / 2;

/// Bytes of a packed RGBA frame.
pub fn rgba_len((width, height): (u32, u32)) -> usize {
    width as usize * height as usize * 4
}

/// Frames moved in a measured time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timed {
    /// Frames counted.
    pub frames: u64,
    /// Time they took.
    pub elapsed: Duration,
    /// Frames the reader children copied out meanwhile, all together (writer rates).
    pub frames_read: u64,
    /// Reader children (writer rates).
    pub readers: usize,
    /// CPU time the writer's thread ran while publishing them (writer rates).
    pub writer_cpu: Duration,
    /// CPU time the reader child's thread ran while receiving them, copying
    /// and waiting alike (end-to-end throughput).
    pub reader_cpu: Duration,
}

impl Timed {
    /// Adds another measurement of the same case to this one (pooled rates).
    pub fn add(&mut self, other: Timed) {
        self.frames += other.frames;
        self.elapsed += other.elapsed;
        self.frames_read += other.frames_read;
        self.readers = other.readers;
        self.writer_cpu += other.writer_cpu;
        self.reader_cpu += other.reader_cpu;
    }

    /// This writer-rate measurement with what its `readers` children read,
    /// `frames_read` frames all together.
    pub fn read_by(self, readers: usize, frames_read: u64) -> Timed {
        Timed {
            frames_read,
            readers,
            ..self
        }
    }

    /// Frames per second.
    pub fn frames_per_s(&self) -> f64 {
        self.frames as f64 / self.elapsed.as_secs_f64()
    }

    /// Frames each reader copied out per second, on average (writer rates with readers).
    pub fn reader_frames_per_s(&self) -> Option<f64> {
        (self.readers > 0)
            .then(|| self.frames_read as f64 / self.readers as f64 / self.elapsed.as_secs_f64())
    }

    /// Share of the published frames each reader copied out, on average (writer rates with readers).
    pub fn reader_share(&self) -> Option<f64> {
        (self.readers > 0 && self.frames > 0)
            .then(|| self.frames_read as f64 / self.readers as f64 / self.frames as f64)
    }

    /// The writer's CPU time per published frame, in nanoseconds (writer rates).
    pub fn writer_cpu_ns_per_frame(&self) -> Option<f64> {
        (self.frames > 0 && !self.writer_cpu.is_zero())
            .then(|| self.writer_cpu.as_nanos() as f64 / self.frames as f64)
    }

    /// The reader's CPU time per received frame, in nanoseconds (throughput).
    pub fn reader_cpu_ns_per_frame(&self) -> Option<f64> {
        (self.frames > 0 && !self.reader_cpu.is_zero())
            .then(|| self.reader_cpu.as_nanos() as f64 / self.frames as f64)
    }

    /// Bytes per second, for frames of `len` bytes.
    pub fn bytes_per_s(&self, len: usize) -> f64 {
        self.frames_per_s() * len as f64
    }
}

/// How a reader learns of a new frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Spins on the shared memory.
    Poll,
    /// Sleeps in the kernel (futex, condition variable, blocking read).
    Sleep,
}

impl Wake {
    /// Name used in role arguments.
    pub fn as_str(self) -> &'static str {
        match self {
            Wake::Poll => "poll",
            Wake::Sleep => "sleep",
        }
    }

    /// Parses [`Wake::as_str`].
    pub fn parse(s: &str) -> BenchResult<Wake> {
        match s {
            "poll" => Ok(Wake::Poll),
            "sleep" => Ok(Wake::Sleep),
            _ => Err(format!("unknown wake mode `{s}`")),
        }
    }
}

/// How much to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Short run (the whole comparison in well under a minute).
    pub quick: bool,
    /// Only the cases whose name contains this (all if `None`).
    pub only: Option<&'static str>,
}

impl Plan {
    /// Whether case `case` is to be measured.
    pub fn wants(&self, case: &str) -> bool {
        self.only.map_or(true, |part| case.contains(part))
    }

    /// One-way samples of a small-frame latency case.
    pub fn small_latency_samples(&self, wake: Wake) -> usize {
        match (wake, self.quick) {
            (Wake::Poll, true) => 3_000,
            (Wake::Poll, false) => 30_000,
            (Wake::Sleep, true) => 400,
            (Wake::Sleep, false) => 4_000,
        }
    }

    /// One-way samples of a 1080p latency case.
    pub fn frame_latency_samples(&self) -> usize {
        if self.quick {
            100
        } else {
            1_000
        }
    }

    /// Most frames a throughput case moves (it stops earlier at [`Plan::budget`]).
    pub fn throughput_frames(&self, len: usize) -> u64 {
        let bytes: u64 = if self.quick { 2 << 30 } else { 16 << 30 };
        (bytes / len as u64).max(16)
    }

    /// Most frames a writer-rate case publishes (it stops earlier at [`Plan::budget`]).
    pub fn writer_rate_frames(&self) -> u64 {
        if self.quick {
            200_000
        } else {
            2_000_000
        }
    }

    /// Interleaved rounds each case is measured in.
    pub fn rounds(&self) -> usize {
        if self.quick {
            2
        } else {
            5
        }
    }

    /// Longest time one throughput or writer-rate measurement runs (per round).
    pub fn budget(&self) -> Duration {
        if self.quick {
            Duration::from_millis(250)
        } else {
            Duration::from_millis(800)
        }
    }
}

/// How long the writer leaves a sleeping reader alone before the next frame,
/// so that it is really asleep in the kernel when the frame comes.
pub const SLEEP_GAP: Duration = Duration::from_micros(300);

/// A latency measurement: frame bytes, wake mode, CPUs, samples -> one-way ns.
pub type LatencyFn = fn(usize, Wake, Cpus, usize) -> BenchResult<Vec<u64>>;
/// A throughput measurement: frame bytes, CPUs, most frames, time budget.
pub type ThroughputFn = fn(usize, Cpus, u64, Duration) -> BenchResult<Timed>;
/// A writer-rate measurement.
pub type RateFn = fn(RateRun) -> BenchResult<Timed>;

/// What a writer-rate measurement is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct RateRun {
    /// Frame bytes.
    pub len: usize,
    /// Reader processes, each reading the latest frame whenever woken.
    pub readers: usize,
    /// Where the writer and the readers run.
    pub cpus: Cpus,
    /// Most frames to publish.
    pub frames: u64,
    /// Most time to publish for.
    pub budget: Duration,
}

/// A system measured beside shmframe and the floor.
#[derive(Clone, Copy)]
pub struct System {
    /// Name in the table and the JSON.
    pub name: &'static str,
    /// Its latency measurement.
    pub latency: LatencyFn,
    /// Its end-to-end throughput measurement.
    pub throughput: ThroughputFn,
    /// Its writer-rate measurement.
    pub writer_rate: RateFn,
    /// Whether its writer rate means nothing without readers (a socket).
    pub needs_readers: bool,
    /// Its rows in the zero-copy latency cases, if it lends readers frames in place.
    pub zero_copy: Option<ZeroCopy>,
}

/// A system's rows in the zero-copy latency cases (`hold_latency_*`): from
/// the publish of a frame already written to a sleeping reader using it,
/// in place and, beside it, by copy.
#[derive(Clone, Copy)]
pub struct ZeroCopy {
    /// Row name of the reader that uses the frame in place.
    pub in_place_name: &'static str,
    /// Its measurement: the reader touches the frame's first and last byte.
    pub in_place: LatencyFn,
    /// Row name of the reader that copies the frame out.
    pub copy_name: &'static str,
    /// Its measurement, timed the same way.
    pub copy: LatencyFn,
}

/// shmframe itself, as a [`System`].
pub const SHMFRAME: System = System {
    name: "shmframe",
    latency: latency::shmframe,
    throughput: throughput::shmframe,
    writer_rate: writer_rate::shmframe,
    needs_readers: false,
    zero_copy: Some(ZeroCopy {
        in_place_name: "shmframe-hold",
        in_place: holds::latency_hold,
        copy_name: "shmframe-copy",
        copy: holds::latency_copy,
    }),
};

/// The floor of a latency case: one cache line (64 B, polling), a raw shared
/// futex wake (64 B, sleeping) or plain `memcpy` in and out (frames).
pub fn latency_floor(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    match (len <= 64, wake) {
        (true, Wake::Poll) => latency::floor_cache_line(cpus, samples),
        (true, Wake::Sleep) => latency::floor_futex(cpus, samples),
        (false, _) => latency::floor_memcpy(len, cpus, samples),
    }
}

/// Runs the cases of shmframe and the floors (see [`run_with`]).
pub fn run_all(plan: Plan, progress: impl FnMut(&str)) -> BenchResult<Vec<Measurement>> {
    run_with(plan, &[], progress)
}

/// Runs every case for the floor, shmframe and `peers`, in the order of the
/// comparison table; `progress` hears each case's name as it starts.
///
/// The systems of a case are measured in [`Plan::rounds`] interleaved rounds
/// (floor, shmframe, peers, floor, shmframe, ...) and their samples pooled,
/// so a burst of load on a shared machine falls on all of them alike.
pub fn run_with(
    plan: Plan,
    peers: &[System],
    mut progress: impl FnMut(&str),
) -> BenchResult<Vec<Measurement>> {
    let systems: Vec<System> = std::iter::once(SHMFRAME)
        .chain(peers.iter().copied())
        .collect();
    let rounds = plan.rounds();
    let mut out = Vec::new();
    for (case, len, wake, samples) in latency_cases(plan) {
        if !plan.wants(case) {
            continue;
        }
        progress(case);
        out.extend(latency_rows(
            case,
            (len, wake, Cpus::split(), samples),
            &latency_measures(len, wake, &systems),
            rounds,
        )?);
    }
    for (case, len, samples) in hold_latency_cases(plan) {
        if !plan.wants(case) {
            continue;
        }
        progress(case);
        out.extend(latency_rows(
            case,
            (len, Wake::Sleep, Cpus::split(), samples),
            &hold_latency_measures(&systems),
            rounds,
        )?);
    }
    let cpus = Cpus::split();
    for (case, len) in throughput_cases() {
        if !plan.wants(case) {
            continue;
        }
        progress(case);
        let frames = plan.throughput_frames(len);
        let mut pooled = vec![Timed::default(); systems.len() + 1];
        let mut in_order = Timed::default();
        for _ in 0..rounds {
            pooled[0].add(throughput::floor(len, cpus, frames, plan.budget())?);
            in_order.add(throughput::shmframe_in_order(
                len,
                cpus,
                frames,
                plan.budget(),
            )?);
            for (k, system) in systems.iter().enumerate() {
                pooled[k + 1].add((system.throughput)(len, cpus, frames, plan.budget())?);
            }
        }
        let names = std::iter::once("floor").chain(systems.iter().map(|s| s.name));
        for (name, timed) in names.zip(&pooled) {
            out.push(Measurement::throughput(case, name, timed, len));
        }
        // Beside shmframe: the same stream read in order (`wait_next`).
        let row = Measurement::throughput(case, "shmframe-in-order", &in_order, len);
        out.insert(out.len() - systems.len() + 1, row);
    }
    let frames = plan.writer_rate_frames();
    for (len, readers) in writer_rate_cases() {
        let case = writer_rate_case(len, readers);
        if !plan.wants(&case) {
            continue;
        }
        progress(&case);
        let applies: Vec<&System> = systems
            .iter()
            .filter(|s| readers > 0 || !s.needs_readers)
            .collect();
        let mut floor = Timed::default();
        let reference = writer_rate_reference(len);
        let mut referenced = Timed::default();
        let mut pooled = vec![Timed::default(); applies.len()];
        for _ in 0..rounds {
            if readers == 0 {
                floor.add(writer_rate::floor(len, cpus, frames, plan.budget())?);
            }
            let run = RateRun {
                len,
                readers,
                cpus,
                frames,
                budget: plan.budget(),
            };
            if let Some((_, measure)) = reference {
                referenced.add(measure(run)?);
            }
            for (k, system) in applies.iter().enumerate() {
                pooled[k].add((system.writer_rate)(run)?);
            }
        }
        if readers == 0 {
            out.push(Measurement::writer_rate(&case, "floor", &floor));
        }
        if let Some((name, _)) = reference {
            out.push(Measurement::writer_rate(&case, name, &referenced));
        }
        for (system, timed) in applies.iter().zip(&pooled) {
            out.push(Measurement::writer_rate(&case, system.name, timed));
        }
    }
    for len in [rgba_len(FRAME_1080P), 64] {
        let case = holding_case(len);
        if !plan.wants(&case) {
            continue;
        }
        progress(&case);
        out.extend(holding_rows(&case, len, cpus, plan)?);
    }
    let case = "latency_64B_futex_same_core";
    if plan.wants(case) {
        progress(case);
        let samples = plan.small_latency_samples(Wake::Sleep);
        out.extend(latency_rows(
            case,
            (64, Wake::Sleep, Cpus::same(), samples),
            &latency_measures(64, Wake::Sleep, &systems),
            rounds,
        )?);
    }
    Ok(out)
}

/// What a latency case measures: the floor, the case's reference if it has
/// one, then the systems.
fn latency_measures(len: usize, wake: Wake, systems: &[System]) -> Vec<(&'static str, LatencyFn)> {
    std::iter::once(("floor", latency_floor as LatencyFn))
        .chain(latency_reference(len, wake))
        .chain(systems.iter().map(|s| (s.name, s.latency)))
        .collect()
}

/// What a zero-copy latency case measures: the floor (the frame written
/// with `memcpy`, a raw futex wake, the reader touching it in place), the
/// bare wake without a frame written before it, then each system that lends
/// frames in place, in place and by copy.
fn hold_latency_measures(systems: &[System]) -> Vec<(&'static str, LatencyFn)> {
    let floor: LatencyFn =
        |len, _, cpus, samples| latency::floor_futex_after_write(len, cpus, samples);
    let wake_only: LatencyFn = |_, _, cpus, samples| latency::floor_futex(cpus, samples);
    [("floor", floor), ("futex-wake-only", wake_only)]
        .into_iter()
        .chain(
            systems
                .iter()
                .filter_map(|s| s.zero_copy)
                .flat_map(|z| [(z.in_place_name, z.in_place), (z.copy_name, z.copy)]),
        )
        .collect()
}

/// The writer's rate with [`holds::HOLDING_READERS`] readers each holding
/// the latest frame for a while, beside the same writer with no reader, with
/// readers copying at the same pace and with readers that never let go, in
/// interleaved rounds.
fn holding_rows(case: &str, len: usize, cpus: Cpus, plan: Plan) -> BenchResult<Vec<Measurement>> {
    use holds::Readers;
    let readers = holds::HOLDING_READERS;
    let rows: [(&str, usize, Readers); 4] = [
        ("shmframe-no-reader", 0, Readers::Copy),
        ("shmframe-8-holding", readers, Readers::Hold),
        ("shmframe-8-copying", readers, Readers::Copy),
        ("shmframe-8-holding-still", readers, Readers::KeepHolding),
    ];
    let mut pooled = [Timed::default(); 4];
    for _ in 0..plan.rounds() {
        for ((_, count, what), timed) in rows.iter().zip(&mut pooled) {
            let run = RateRun {
                len,
                readers: *count,
                cpus,
                frames: plan.writer_rate_frames(),
                budget: plan.budget(),
            };
            timed.add(holds::writer_rate(run, *what)?);
        }
    }
    Ok(rows
        .iter()
        .zip(&pooled)
        .map(|((name, ..), timed)| Measurement::writer_rate(case, name, timed))
        .collect())
}

/// One latency case for `measures` (name, measurement), in interleaved rounds.
fn latency_rows(
    case: &str,
    (len, wake, cpus, samples): (usize, Wake, Cpus, usize),
    measures: &[(&'static str, LatencyFn)],
    rounds: usize,
) -> BenchResult<Vec<Measurement>> {
    let per_round = samples.div_ceil(rounds);
    let mut pooled: Vec<Vec<u64>> = vec![Vec::new(); measures.len()];
    for _ in 0..rounds {
        for ((_, measure), samples) in measures.iter().zip(&mut pooled) {
            samples.extend(measure(len, wake, cpus, per_round)?);
        }
    }
    Ok(measures
        .iter()
        .zip(&pooled)
        .map(|((name, _), samples)| Measurement::latency(case, name, samples))
        .collect())
}

/// References measured beside the floor in one latency case: for 64 B
/// polling, a bare seqlock over shmframe's cache lines, with and without the
/// commit stamp (see [`seqlock`]); for sleeping readers, shmframe's reader
/// woken through its readiness fd (`poll`) instead of the futex.
fn latency_reference(len: usize, wake: Wake) -> Vec<(&'static str, LatencyFn)> {
    if wake == Wake::Sleep {
        return vec![("shmframe-fd", latency::shmframe_fd as LatencyFn)];
    }
    if len > 64 {
        return Vec::new();
    }
    vec![
        ("bare-seqlock", seqlock::latency as LatencyFn),
        ("bare-seqlock-unstamped", seqlock::latency_unstamped),
    ]
}

/// The reference measured beside the systems in a writer-rate case: for 64 B
/// frames, a bare seqlock writer over shmframe's lines (see [`seqlock`]).
fn writer_rate_reference(len: usize) -> Option<(&'static str, RateFn)> {
    (len == 64).then_some(("bare-seqlock", seqlock::writer_rate as RateFn))
}

/// The latency cases: name, frame bytes, wake mode, samples.
pub fn latency_cases(plan: Plan) -> [(&'static str, usize, Wake, usize); 3] {
    [
        (
            "latency_64B_poll",
            64,
            Wake::Poll,
            plan.small_latency_samples(Wake::Poll),
        ),
        (
            "latency_64B_futex",
            64,
            Wake::Sleep,
            plan.small_latency_samples(Wake::Sleep),
        ),
        (
            "latency_1080p_poll",
            rgba_len(FRAME_1080P),
            Wake::Poll,
            plan.frame_latency_samples(),
        ),
    ]
}

/// The zero-copy latency cases (sleeping readers): name, frame bytes, samples.
pub fn hold_latency_cases(plan: Plan) -> [(&'static str, usize, usize); 3] {
    [
        (
            "hold_latency_64B",
            64,
            plan.small_latency_samples(Wake::Sleep),
        ),
        (
            "hold_latency_1080p",
            rgba_len(FRAME_1080P),
            plan.frame_latency_samples(),
        ),
        (
            "hold_latency_4k",
            rgba_len(FRAME_4K),
            plan.frame_latency_samples(),
        ),
    ]
}

/// Name of the writer-rate case with holding readers, frames of `len` bytes.
pub fn holding_case(len: usize) -> String {
    if len == rgba_len(FRAME_1080P) {
        "writer_rate_8_holding".into()
    } else {
        format!("writer_rate_{len}B_8_holding")
    }
}

/// The throughput cases: name and frame bytes.
pub fn throughput_cases() -> [(&'static str, usize); 3] {
    [
        ("throughput_1080p", rgba_len(FRAME_1080P)),
        ("throughput_4k", rgba_len(FRAME_4K)),
        ("throughput_1080p_nv12", NV12_1080P_LEN),
    ]
}

/// The writer-rate cases: frame bytes and readers. The 1080p ones are the
/// headline; the 64-byte ones isolate the protocol's cost from memory bandwidth.
pub fn writer_rate_cases() -> [(usize, usize); 4] {
    let hd = rgba_len(FRAME_1080P);
    [(hd, 0), (hd, 8), (64, 0), (64, 8)]
}

/// Name of the writer-rate case with frames of `len` bytes and `readers` readers.
pub fn writer_rate_case(len: usize, readers: usize) -> String {
    if len == rgba_len(FRAME_1080P) {
        format!("writer_rate_{readers}_readers")
    } else {
        format!("writer_rate_{len}B_{readers}_readers")
    }
}

/// A unique name for a stream or file of this process.
pub fn unique_name(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "shmframe-bench-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    )
}

/// The shmframe frame description of `len` packed RGBA bytes (a row of `len / 4` pixels,
/// or the named sizes), or of a 1080p NV12 frame.
pub fn meta_for(len: usize) -> shmframe::FrameMeta {
    if len == NV12_1080P_LEN {
        return shmframe::FrameMeta::packed(1920, 1080, shmframe::PixelFormat::Nv12);
    }
    let (w, h) = if len == rgba_len(FRAME_1080P) {
        FRAME_1080P
    } else if len == rgba_len(FRAME_4K) {
        FRAME_4K
    } else {
        ((len / 4) as u32, 1)
    };
    shmframe::FrameMeta::packed(w, h, shmframe::PixelFormat::Rgba8)
}
