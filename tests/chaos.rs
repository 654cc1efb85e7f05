//! The chaos soak: one writer and six readers (two of each waiting mode, one of
//! each polling mode) as separate processes, while the parent stops, resumes
//! and kills readers, kills and restarts the writer (also while it creates its
//! segment), and the writer reconfigures, fails fills and panics in fills.
//!
//! Every frame a reader returns is checked byte for byte: its size, stride,
//! format and every byte are a function of its number and of its writer's pid
//! (read from the segment header). An in-order reader's numbers must follow
//! `previous + 1 + missed`. The run fails on a wrong frame, a reader error or
//! panic, a reader silent for 10 s, a reader that has not followed a writer
//! restarted 3 s ago, a writer that cannot start, or any file left in the
//! (private) segment directory.
//!
//! Run: `CHAOS_SECONDS=600 cargo test --release --test chaos -- --ignored --nocapture chaos_soak`
//! (`scripts/chaos.sh`).

mod common;

use common::{env, ChildProcess};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use shmframe::{Error, FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAME: &str = "chaos";
const READER_MODES: [&str; 6] = [
    "latest",
    "next",
    "wait_latest",
    "wait_next",
    "wait_latest",
    "wait_next",
];
/// A reader silent this long (while not stopped) has hung.
const HANG: Duration = Duration::from_secs(10);
/// A running reader must be reading from a writer that has published this long.
const FOLLOW_WITHIN: Duration = Duration::from_secs(3);
const DELIBERATE_PANIC: &str = "chaos: a fill that panics";

// ---- frames: everything a function of (writer pid, frame number) ----

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Size, stride (with 0 to 7 bytes of padding) and format of frame `n`.
fn frame_meta(writer: u32, n: u64) -> FrameMeta {
    let h = mix(n ^ u64::from(writer) << 40);
    let format = PixelFormat::ALL[(h % PixelFormat::ALL.len() as u64) as usize];
    let height = 1 + (h >> 24) as u32 % 120;
    let padding = ((h >> 40) % 8) as u32;
    // The next width up that the format accepts (some need an even one).
    (1 + (h >> 8) as u32 % 160..)
        .map(|width| FrameMeta {
            stride: width * format.bytes_per_pixel() + padding,
            ..FrameMeta::packed(width, height, format)
        })
        .find(|meta| meta.checked_len().is_ok())
        .expect("some width fits every format")
}

/// The most bytes a pixel of any format takes.
const MAX_BYTES_PER_PIXEL: usize = {
    let (mut max, mut i) = (0, 0);
    while i < PixelFormat::ALL.len() {
        let bytes = PixelFormat::ALL[i].bytes_per_pixel() as usize;
        if bytes > max {
            max = bytes;
        }
        i += 1;
    }
    max
};

/// The largest frame `frame_meta` makes.
const MAX_FRAME: usize = (161 * MAX_BYTES_PER_PIXEL + 7) * 120;

/// Every byte of frame `n` (padding included).
fn frame_bytes(writer: u32, n: u64, out: &mut Vec<u8>) {
    let len = frame_meta(writer, n).checked_len().unwrap();
    out.resize(len, 0);
    let seed = mix(n.wrapping_mul(31) ^ u64::from(writer));
    for (j, chunk) in out.chunks_mut(8).enumerate() {
        let word = mix(seed.wrapping_add(j as u64)).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

// ---- child roles ----

/// Sets a flag when stdin closes (the parent's signal to finish).
fn stop_on_stdin_close() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        common::wait_for_stdin_close();
        flag.store(true, Ordering::Relaxed);
    });
    stop
}

fn writer_options(rng: u64) -> WriterOptions {
    WriterOptions {
        slots: 2 + (rng % 4) as usize,
        slot_capacity: MAX_FRAME + (rng >> 8) as usize % MAX_FRAME,
        ..Default::default()
    }
}

/// Publishes frames until stdin closes, with failing fills, panicking fills
/// and reconfigures at random; prints its counts every 100 ms.
#[test]
#[ignore = "child role"]
fn chaos_writer() {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&DELIBERATE_PANIC) {
            quiet(info);
        }
    }));
    let stop = stop_on_stdin_close();
    let pid = std::process::id();
    let mut rng = mix(u64::from(pid) ^ shmframe::monotonic_ns());
    println!("creating");
    let mut writer = match Writer::create(&env("SHMFRAME_TEST_NAME"), &writer_options(rng)) {
        Ok(writer) => writer,
        Err(e) => {
            println!("error {e}");
            std::process::exit(3);
        }
    };
    let (mut published, mut failed, mut panicked, mut reconfigured) = (0u64, 0u64, 0u64, 0u64);
    let mut pixels = Vec::new();
    let mut report = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        rng = mix(rng);
        let n = writer.frames_published() + 1;
        let meta = frame_meta(pid, n);
        frame_bytes(pid, n, &mut pixels);
        match rng % 100 {
            0..=3 => {
                let got: Result<u64, Error> = writer.publish_with(&meta, |fill| {
                    fill.write(0, &pixels[..pixels.len() / 2])?;
                    Err(Error::BadFrame {
                        reason: "chaos: a failing fill".into(),
                    })
                });
                assert!(got.is_err());
                failed += 1;
            }
            4..=5 => {
                let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    writer.publish_with::<Error>(&meta, |fill| {
                        fill.write(0, &pixels[..pixels.len() / 3])?;
                        std::panic::panic_any(DELIBERATE_PANIC)
                    })
                }));
                assert!(got.is_err());
                panicked += 1;
            }
            6 if rng % 1000 < 70 => {
                writer.reconfigure(&writer_options(rng >> 16)).unwrap();
                reconfigured += 1;
            }
            7..=50 => {
                // In place, row by row.
                let stride = meta.stride as usize;
                writer
                    .publish_with::<Error>(&meta, |fill| {
                        for (y, row) in pixels.chunks(stride).enumerate() {
                            fill.write(y * stride, row)?;
                        }
                        Ok(())
                    })
                    .unwrap();
                published += 1;
            }
            _ => {
                writer.publish(&meta, &pixels).unwrap();
                published += 1;
            }
        }
        if report.elapsed() > Duration::from_millis(100) {
            println!("stats {published} {failed} {panicked} {reconfigured}");
            report = Instant::now();
        }
        // Leave the shared machine some time: a few thousand frames a second.
        std::thread::sleep(Duration::from_micros(200));
    }
    println!("stats {published} {failed} {panicked} {reconfigured}");
}

/// What a reader knows of the segment it read a frame from.
#[derive(Clone, Copy, PartialEq, Eq)]
struct SegmentKey {
    writer: u32,
    created_ns: u64,
}

/// Reads in mode `MODE` until stdin closes, verifying every frame; prints
/// `hb FRAMES PID` every 100 ms and exits non-zero on any error.
#[test]
#[ignore = "child role"]
fn chaos_reader() {
    let stop = stop_on_stdin_close();
    let name = env("SHMFRAME_TEST_NAME");
    let mode = env("MODE");
    let mut reader = loop {
        match Reader::open(&name) {
            Ok(reader) => break reader,
            Err(Error::NoStream { .. }) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => panic!("{mode}: open: {e}"),
        }
    };
    let (mut buf, mut expected) = (Vec::new(), Vec::new());
    let mut verified = 0u64;
    let mut previous: Option<(SegmentKey, u64)> = None;
    let mut heartbeat = Instant::now();
    let timeout = Duration::from_millis(200);
    while !stop.load(Ordering::Relaxed) {
        let got = match mode.as_str() {
            "latest" => reader.latest(&mut buf),
            "next" => reader.next(&mut buf),
            "wait_latest" => reader.wait_latest(&mut buf, timeout),
            "wait_next" => reader.wait_next(&mut buf, timeout),
            other => panic!("unknown mode {other}"),
        };
        let got = got.unwrap_or_else(|e| panic!("{mode}: {e}"));
        let status = reader.status();
        let key = SegmentKey {
            writer: status.writer_pid,
            created_ns: status.created_ns,
        };
        let fresh = match (got, previous) {
            (Some(info), Some((k, n))) if k == key => info.number != n,
            (Some(_), _) => true,
            (None, _) => false,
        };
        if let Some(info) = got {
            let meta = frame_meta(key.writer, info.number);
            assert_eq!(info.meta, meta, "{mode}: frame {} metadata", info.number);
            frame_bytes(key.writer, info.number, &mut expected);
            assert!(
                buf == expected,
                "{mode}: frame {} bytes differ",
                info.number
            );
            if let Some((_, n)) = previous.filter(|(k, _)| *k == key) {
                match mode.as_str() {
                    "next" | "wait_next" => assert_eq!(
                        info.number,
                        n + 1 + info.missed,
                        "{mode}: numbering after {n}"
                    ),
                    "wait_latest" => assert!(info.number > n, "{mode}: {} after {n}", info.number),
                    _ => assert!(info.number >= n, "{mode}: {} after {n}", info.number),
                }
            }
            previous = Some((key, info.number));
            verified += 1;
        }
        if !fresh && !mode.starts_with("wait") {
            // Polling readers look for a successor themselves.
            if !reader.writer_alive() || got.is_none() {
                reader
                    .follow()
                    .unwrap_or_else(|e| panic!("{mode}: follow: {e}"));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        if heartbeat.elapsed() > Duration::from_millis(100) {
            println!("hb {verified} {}", key.writer);
            heartbeat = Instant::now();
        }
    }
    println!("hb {verified} {}", reader.status().writer_pid);
}

// ---- the parent ----

struct ReaderProcess {
    mode: &'static str,
    child: ChildProcess,
    verified: u64,
    writer: u32,
    last_heard: Instant,
    /// When it last started running (spawned or resumed).
    running_since: Instant,
    stopped_until: Option<Instant>,
}

struct WriterProcess {
    child: ChildProcess,
    pid: u32,
    counts: [u64; 4],
    publishing_since: Option<Instant>,
}

#[derive(Default)]
struct Tally {
    verified: u64,
    /// published, failed fills, panicking fills, reconfigures
    writer: [u64; 4],
    faults: BTreeMap<&'static str, u64>,
}

struct Chaos {
    envs: Vec<(&'static str, String)>,
    readers: Vec<ReaderProcess>,
    writer: WriterProcess,
    tally: Tally,
    rng: u64,
}

impl WriterProcess {
    /// Reads the counts it printed since the last call.
    fn take_counts(&mut self) -> bool {
        let mut any = false;
        for line in self.child.drain() {
            assert!(
                !line.contains("error"),
                "the writer could not start: {line}"
            );
            if let Some((_, rest)) = line.split_once("stats ") {
                let counts: Vec<u64> = rest.split(' ').map(|v| v.parse().unwrap()).collect();
                self.counts.copy_from_slice(&counts);
                any = true;
            }
        }
        any
    }
}

impl Chaos {
    fn spawn_reader(envs: &[(&str, String)], mode: &'static str) -> ReaderProcess {
        let mut envs = envs.to_vec();
        envs.push(("MODE", mode.to_string()));
        let now = Instant::now();
        ReaderProcess {
            mode,
            child: ChildProcess::spawn("chaos_reader", &envs),
            verified: 0,
            writer: 0,
            last_heard: now,
            running_since: now,
            stopped_until: None,
        }
    }

    fn spawn_writer(envs: &[(&str, String)]) -> WriterProcess {
        let mut child = ChildProcess::spawn("chaos_writer", envs);
        child.expect_line("creating");
        let pid = child.child.id();
        WriterProcess {
            child,
            pid,
            counts: [0; 4],
            publishing_since: None,
        }
    }

    fn random(&mut self, below: u64) -> u64 {
        self.rng = mix(self.rng);
        self.rng % below
    }

    fn fault(&mut self, kind: &'static str) {
        *self.tally.faults.entry(kind).or_default() += 1;
    }

    /// Reads every child's news and checks the invariants.
    fn poll(&mut self) {
        let now = Instant::now();
        for line in self.writer.child.drain() {
            if let Some(rest) = line.split_once("stats ").map(|(_, r)| r) {
                let counts: Vec<u64> = rest.split(' ').map(|v| v.parse().unwrap()).collect();
                self.writer.counts.copy_from_slice(&counts);
                self.writer.publishing_since.get_or_insert(now);
            }
            assert!(
                !line.contains("error"),
                "the writer could not start: {line}"
            );
        }
        if let Some(status) = self.writer.child.child.try_wait().unwrap() {
            panic!("the writer exited by itself: {status}");
        }
        for reader in &mut self.readers {
            for line in reader.child.drain() {
                if let Some(rest) = line.split_once("hb ").map(|(_, r)| r) {
                    let (verified, writer) = rest.split_once(' ').unwrap();
                    reader.verified = verified.parse().unwrap();
                    reader.writer = writer.parse().unwrap();
                    reader.last_heard = now;
                }
            }
            if let Some(status) = reader.child.child.try_wait().unwrap() {
                panic!("a {} reader failed: {status}", reader.mode);
            }
            if reader.stopped_until.is_some_and(|until| now >= until) {
                kill(pid_of(&reader.child), Signal::SIGCONT).unwrap();
                reader.stopped_until = None;
                reader.running_since = now;
                reader.last_heard = now;
            }
            if reader.stopped_until.is_none() {
                assert!(
                    now - reader.last_heard < HANG,
                    "a {} reader hung",
                    reader.mode
                );
                let settled = self
                    .writer
                    .publishing_since
                    .map(|since| since.max(reader.running_since));
                if settled.is_some_and(|since| now - since > FOLLOW_WITHIN) {
                    assert_eq!(
                        reader.writer, self.writer.pid,
                        "a {} reader did not follow the writer restarted {:?} ago",
                        reader.mode, FOLLOW_WITHIN
                    );
                }
            }
        }
    }

    /// Kills the writer and starts another, sometimes killing that one while
    /// it creates its segment first.
    fn restart_writer(&mut self) {
        self.retire_writer();
        self.writer = Self::spawn_writer(&self.envs);
        self.fault("writer killed and restarted");
        if self.random(3) == 0 {
            std::thread::sleep(Duration::from_micros(self.random(4000)));
            self.retire_writer();
            self.writer = Self::spawn_writer(&self.envs);
            self.fault("writer killed while creating its segment");
        }
    }

    /// Kills and reaps the writer (so that its lock is gone), keeping its counts.
    fn retire_writer(&mut self) {
        let writer = &mut self.writer;
        kill(pid_of(&writer.child), Signal::SIGKILL).unwrap();
        writer.child.child.wait().unwrap();
        writer.take_counts();
        for (total, count) in self.tally.writer.iter_mut().zip(writer.counts) {
            *total += count;
        }
        writer.counts = [0; 4];
    }

    fn inject(&mut self) {
        let index = self.random(self.readers.len() as u64) as usize;
        match self.random(100) {
            0..=39 => {
                let reader = &mut self.readers[index];
                if reader.stopped_until.is_none() {
                    kill(pid_of(&reader.child), Signal::SIGSTOP).unwrap();
                    let pause = Duration::from_millis(20 + self.random(600));
                    self.readers[index].stopped_until = Some(Instant::now() + pause);
                    self.fault("reader stopped and resumed");
                }
            }
            40..=54 => {
                let fresh = Self::spawn_reader(&self.envs, self.readers[index].mode);
                let old = std::mem::replace(&mut self.readers[index], fresh);
                self.tally.verified += old.verified;
                old.child.kill();
                self.fault("reader killed and restarted");
            }
            55..=64 => self.restart_writer(),
            65..=69 => {
                kill(pid_of(&self.writer.child), Signal::SIGSTOP).unwrap();
                std::thread::sleep(Duration::from_millis(self.random(300)));
                kill(pid_of(&self.writer.child), Signal::SIGCONT).unwrap();
                self.fault("writer stopped and resumed");
            }
            _ => {}
        }
    }
}

fn pid_of(child: &ChildProcess) -> Pid {
    Pid::from_raw(child.child.id() as i32)
}

#[test]
#[ignore = "a soak of several seconds to minutes: scripts/chaos.sh"]
fn chaos_soak() {
    let seconds: u64 = std::env::var("CHAOS_SECONDS")
        .map(|s| s.parse().expect("CHAOS_SECONDS is a number"))
        .unwrap_or(20);
    let dir = common::private_dir("shmframe-chaos-");
    let envs = vec![
        ("SHMFRAME_DIR", dir.path().display().to_string()),
        ("SHMFRAME_TEST_NAME", NAME.to_string()),
    ];
    let writer = Chaos::spawn_writer(&envs);
    let readers = READER_MODES
        .iter()
        .map(|mode| Chaos::spawn_reader(&envs, mode))
        .collect();
    let mut chaos = Chaos {
        envs,
        readers,
        writer,
        tally: Tally::default(),
        rng: mix(u64::from(std::process::id())),
    };
    let started = Instant::now();
    // Faults for all but the last 4 s; then every reader must catch up.
    let faults_end = started + Duration::from_secs(seconds.saturating_sub(4));
    let end = started + Duration::from_secs(seconds);
    while Instant::now() < end {
        chaos.poll();
        if Instant::now() < faults_end {
            chaos.inject();
        }
        std::thread::sleep(Duration::from_millis(10 + chaos.random(60)));
    }
    for reader in &mut chaos.readers {
        if reader.stopped_until.take().is_some() {
            kill(pid_of(&reader.child), Signal::SIGCONT).unwrap();
        }
    }
    chaos.poll();
    let Chaos {
        readers,
        writer,
        mut tally,
        ..
    } = chaos;
    for mut reader in readers {
        drop(reader.child.child.stdin.take());
        let status = reader.child.child.wait().unwrap();
        for line in reader.child.drain() {
            if let Some((verified, _)) = line.split_once("hb ").and_then(|(_, r)| r.split_once(' '))
            {
                reader.verified = verified.parse().unwrap();
            }
        }
        assert!(
            status.success(),
            "a {} reader failed at the end",
            reader.mode
        );
        assert_eq!(
            reader.writer, writer.pid,
            "a {} reader is not on the last writer",
            reader.mode
        );
        tally.verified += reader.verified;
    }
    let mut last = writer;
    drop(last.child.child.stdin.take());
    assert!(
        last.child.child.wait().unwrap().success(),
        "the last writer failed"
    );
    for line in last.child.drain() {
        if let Some(rest) = line.split_once("stats ").map(|(_, r)| r) {
            let counts: Vec<u64> = rest.split(' ').map(|v| v.parse().unwrap()).collect();
            last.counts.copy_from_slice(&counts);
        }
    }
    for (total, count) in tally.writer.iter_mut().zip(last.counts) {
        *total += count;
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the segment directory: {left:?}");
    let faults: u64 = tally.faults.values().sum();
    let [published, failed, panicked, reconfigured] = tally.writer;
    println!(
        "chaos: {seconds} s, {} frames verified byte for byte; {published} published; \
         faults injected: {} in all = {:?} + {failed} failing fills + {panicked} panicking fills + {reconfigured} reconfigures",
        tally.verified,
        faults + failed + panicked + reconfigured,
        tally.faults,
    );
}
