//! The chaos soak: one writer and ten readers (two of each copying waiting
//! mode, one of each copying polling mode, and four that hold frames in place)
//! as separate processes, while the parent stops, resumes and kills readers
//! (holders too, while they hold), kills and restarts the writer (also while
//! it creates its segment), and the writer reconfigures, fails fills and
//! panics in fills.
//!
//! Every frame a reader returns is checked byte for byte: its size, stride,
//! format and every byte are a function of its number and of its writer's pid
//! (read from the segment header). An in-order reader's numbers must follow
//! `previous + 1 + missed`. A held frame is checked when it is taken and again
//! just before its hold ends, after the writer published on (a writer that
//! wrote into a held slot fails there); a holder refused a hold copies the
//! frame instead and checks that. The run fails on a wrong frame, a reader
//! error or panic, a reader silent for 10 s or verifying nothing new for 10 s
//! while its writer publishes, a writer that stops publishing for 10 s, a
//! reader that has not followed a writer restarted 3 s ago, a writer that
//! cannot start, or any file left in the (private) segment directory.
//!
//! At the end, once the faults stop (and the writer stops reconfiguring, which
//! starts all holds afresh), the holds must all be in use again: the
//! live holders must have been granted all of the writer's holds; then the
//! holders that have them are killed while holding, and their holds must come
//! back (taken back from the dead and granted to live holders, which then
//! hold frames in place again) within 10 s.
//!
//! Run: `CHAOS_SECONDS=600 cargo test --release --test chaos -- --ignored --nocapture chaos_soak`
//! (`scripts/chaos.sh`).

mod common;

use common::{env, ChildProcess};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use shmframe::{
    Error, FrameInfo, FrameMeta, HeldFrame, OwnedHeldFrame, PixelFormat, Reader, ReaderOptions,
    Writer, WriterOptions,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAME: &str = "chaos";
const READER_MODES: [&str; 10] = [
    "latest",
    "next",
    "wait_latest",
    "wait_next",
    "wait_latest",
    "wait_next",
    // Holders (`chaos_holder`): they copy only when refused a hold.
    "hold_latest",
    "hold_next",
    "wait_hold_latest",
    "wait_hold_next",
];
/// Frames a holder holds at once, at most. Four holders ask for more holds
/// than the writer honours (its default), so some are refused and copy.
const HOLDS_PER_READER: usize = 2;
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

/// What the parent says through a child's stdin: `calm` (a line: the
/// writer stops reconfiguring, so that its holds stay those of one segment),
/// and `stop` when it closes.
struct FromParent {
    stop: Arc<AtomicBool>,
    calm: Arc<AtomicBool>,
}

fn listen_to_parent() -> FromParent {
    let heard = FromParent {
        stop: Arc::new(AtomicBool::new(false)),
        calm: Arc::new(AtomicBool::new(false)),
    };
    let (stop, calm) = (heard.stop.clone(), heard.calm.clone());
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if line.trim() == "calm" {
                calm.store(true, Ordering::Relaxed);
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    heard
}

/// Sets a flag when stdin closes (the parent's signal to finish).
fn stop_on_stdin_close() -> Arc<AtomicBool> {
    listen_to_parent().stop
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
    let FromParent { stop, calm } = listen_to_parent();
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
            6 if rng % 1000 < 70 && !calm.load(Ordering::Relaxed) => {
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

impl SegmentKey {
    /// The segment `reader` reads now.
    fn of(reader: &Reader) -> SegmentKey {
        let status = reader.status();
        SegmentKey {
            writer: status.writer_pid,
            created_ns: status.created_ns,
        }
    }
}

/// Checks frame `info` (its bytes `bytes`) of segment `key` against what its
/// writer published, and its number against the `previous` one this reader
/// returned, as reading in `mode` promises.
fn verify(
    mode: &str,
    key: SegmentKey,
    info: &FrameInfo,
    bytes: &[u8],
    previous: Option<(SegmentKey, u64)>,
    expected: &mut Vec<u8>,
) {
    let meta = frame_meta(key.writer, info.number);
    assert_eq!(info.meta, meta, "{mode}: frame {} metadata", info.number);
    frame_bytes(key.writer, info.number, expected);
    assert!(
        bytes == expected.as_slice(),
        "{mode}: frame {} bytes differ",
        info.number
    );
    if let Some((_, n)) = previous.filter(|(k, _)| *k == key) {
        if mode.ends_with("next") {
            assert_eq!(
                info.number,
                n + 1 + info.missed,
                "{mode}: numbering after {n}"
            );
        } else if mode == "wait_latest" {
            assert!(info.number > n, "{mode}: {} after {n}", info.number);
        } else {
            assert!(info.number >= n, "{mode}: {} after {n}", info.number);
        }
    }
}

/// A polling reader that got nothing new looks for a successor itself.
fn look_for_successor(reader: &mut Reader, mode: &str, got_nothing: bool) {
    if !reader.writer_alive() || got_nothing {
        reader
            .follow()
            .unwrap_or_else(|e| panic!("{mode}: follow: {e}"));
    }
    std::thread::sleep(Duration::from_micros(500));
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
        let key = SegmentKey::of(&reader);
        let fresh = match (got, previous) {
            (Some(info), Some((k, n))) if k == key => info.number != n,
            (Some(_), _) => true,
            (None, _) => false,
        };
        if let Some(info) = got {
            verify(&mode, key, &info, &buf, previous, &mut expected);
            previous = Some((key, info.number));
            verified += 1;
        }
        if !fresh && !mode.starts_with("wait") {
            look_for_successor(&mut reader, &mode, got.is_none());
        }
        if heartbeat.elapsed() > Duration::from_millis(100) {
            println!("hb {verified} {}", key.writer);
            heartbeat = Instant::now();
        }
    }
    println!("hb {verified} {}", reader.status().writer_pid);
}

/// A frame a holder holds in place, and its bytes when the hold was taken.
struct Held {
    frame: OwnedHeldFrame,
    key: SegmentKey,
    at_acquire: Vec<u8>,
}

impl Held {
    /// Checks the frame once more just before its hold ends: unchanged since
    /// it was taken (the writer published on meanwhile), and still the frame
    /// its writer published.
    fn release(self, mode: &str, expected: &mut Vec<u8>) {
        let info = self.frame.info();
        assert!(
            self.frame.pixels() == self.at_acquire.as_slice(),
            "{mode}: frame {} changed while held",
            info.number
        );
        verify(mode, self.key, info, self.frame.pixels(), None, expected);
    }
}

/// Holds frames in mode `MODE` until stdin closes: one or two at a time, each
/// for up to 12 ms (so that stops and kills find it holding), checked when
/// taken and when let go. Refused a hold, it copies the frame instead.
/// Prints `hb FRAMES PID IN_PLACE COPIED GRANTED` every 100 ms.
#[test]
#[ignore = "child role"]
fn chaos_holder() {
    let stop = stop_on_stdin_close();
    let name = env("SHMFRAME_TEST_NAME");
    let mode = env("MODE");
    let options = ReaderOptions {
        holds: HOLDS_PER_READER,
        ..Default::default()
    };
    let mut reader = loop {
        match Reader::open_with(&name, &options) {
            Ok(reader) => break reader,
            Err(Error::NoStream { .. }) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => panic!("{mode}: open: {e}"),
        }
    };
    let in_order = mode.ends_with("next");
    let (mut buf, mut expected) = (Vec::new(), Vec::new());
    let (mut verified, mut in_place, mut copied) = (0u64, 0u64, 0u64);
    let mut previous: Option<(SegmentKey, u64)> = None;
    let mut held: VecDeque<Held> = VecDeque::new();
    let mut rng = mix(u64::from(std::process::id()) ^ shmframe::monotonic_ns());
    let mut heartbeat = Instant::now();
    let timeout = Duration::from_millis(200);
    while !stop.load(Ordering::Relaxed) {
        rng = mix(rng);
        let got = match mode.as_str() {
            "hold_latest" => reader.hold_latest(),
            "hold_next" => reader.hold_next(),
            "wait_hold_latest" => reader.wait_hold_latest(timeout),
            "wait_hold_next" => reader.wait_hold_next(timeout),
            other => panic!("unknown mode {other}"),
        }
        .map(|frame| frame.map(HeldFrame::into_owned));
        let key = SegmentKey::of(&reader);
        let number = match got {
            Ok(Some(frame)) => {
                verify(
                    &mode,
                    key,
                    frame.info(),
                    frame.pixels(),
                    previous,
                    &mut expected,
                );
                in_place += 1;
                let at_acquire = frame.pixels().to_vec();
                let number = frame.info().number;
                held.push_back(Held {
                    frame,
                    key,
                    at_acquire,
                });
                Some(number)
            }
            Ok(None) => None,
            Err(Error::NoHoldFree) => {
                // Every hold is taken (or not granted yet): copy instead.
                let got = if in_order {
                    reader.next(&mut buf)
                } else {
                    reader.latest(&mut buf)
                };
                let got = got.unwrap_or_else(|e| panic!("{mode}: copy: {e}"));
                got.map(|info| {
                    verify(&mode, key, &info, &buf, previous, &mut expected);
                    copied += 1;
                    info.number
                })
            }
            Err(e) => panic!("{mode}: {e}"),
        };
        let fresh = match (number, previous) {
            (Some(n), Some((k, p))) if k == key => n != p,
            (Some(_), _) => true,
            (None, _) => false,
        };
        if let Some(n) = number {
            previous = Some((key, n));
            verified += 1;
        }
        if held.len() >= HOLDS_PER_READER || (!held.is_empty() && rng % 4 == 0) {
            std::thread::sleep(Duration::from_micros((rng >> 16) % 12_000));
            if let Some(oldest) = held.pop_front() {
                oldest.release(&mode, &mut expected);
            }
        }
        if !fresh && !mode.starts_with("wait") {
            look_for_successor(&mut reader, &mode, number.is_none());
        }
        if heartbeat.elapsed() > Duration::from_millis(100) {
            let granted = reader.holds_granted();
            println!("hb {verified} {} {in_place} {copied} {granted}", key.writer);
            heartbeat = Instant::now();
        }
    }
    for frame in held {
        frame.release(&mode, &mut expected);
    }
    let granted = reader.holds_granted();
    let writer = reader.status().writer_pid;
    println!("hb {verified} {writer} {in_place} {copied} {granted}");
}

// ---- the parent ----

struct ReaderProcess {
    mode: &'static str,
    child: ChildProcess,
    verified: u64,
    writer: u32,
    /// Holders: frames held in place, frames copied when refused, holds
    /// granted now (as last heard).
    in_place: u64,
    copied: u64,
    granted: u64,
    last_heard: Instant,
    /// When its count of verified frames last grew.
    last_progress: Instant,
    /// When it last started running (spawned or resumed).
    running_since: Instant,
    stopped_until: Option<Instant>,
}

impl ReaderProcess {
    fn holds(&self) -> bool {
        self.mode.contains("hold")
    }

    /// Takes in a heartbeat line: `hb FRAMES PID [IN_PLACE COPIED GRANTED]`.
    fn hear(&mut self, line: &str, now: Instant) {
        let Some((_, rest)) = line.split_once("hb ") else {
            return;
        };
        let fields: Vec<u64> = rest
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        if fields[0] > self.verified {
            self.last_progress = now;
        }
        self.verified = fields[0];
        self.writer = fields[1] as u32;
        if let [in_place, copied, granted] = fields[2..] {
            (self.in_place, self.copied, self.granted) = (in_place, copied, granted);
        }
        self.last_heard = now;
    }
}

struct WriterProcess {
    child: ChildProcess,
    pid: u32,
    counts: [u64; 4],
    publishing_since: Option<Instant>,
    /// When its count of published frames last grew (or it started).
    last_published: Instant,
}

impl WriterProcess {
    /// Takes in the lines it printed since the last call.
    fn hear(&mut self) {
        let now = Instant::now();
        for line in self.child.drain() {
            assert!(
                !line.contains("error"),
                "the writer could not start: {line}"
            );
            if let Some((_, rest)) = line.split_once("stats ") {
                let counts: Vec<u64> = rest.split(' ').map(|v| v.parse().unwrap()).collect();
                if counts[0] > self.counts[0] {
                    self.last_published = now;
                }
                self.counts.copy_from_slice(&counts);
                self.publishing_since.get_or_insert(now);
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    verified: u64,
    /// Holders' frames held in place, and copied when refused a hold.
    in_place: u64,
    copied: u64,
    /// published, failed fills, panicking fills, reconfigures
    writer: [u64; 4],
    faults: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// Counts what a reader that is gone verified.
    fn add_reader(&mut self, reader: &ReaderProcess) {
        self.verified += reader.verified;
        self.in_place += reader.in_place;
        self.copied += reader.copied;
    }
}

struct Chaos {
    envs: Vec<(&'static str, String)>,
    readers: Vec<ReaderProcess>,
    writer: WriterProcess,
    tally: Tally,
    rng: u64,
}

impl Chaos {
    fn spawn_reader(envs: &[(&str, String)], mode: &'static str) -> ReaderProcess {
        let mut envs = envs.to_vec();
        envs.push(("MODE", mode.to_string()));
        let role = if mode.contains("hold") {
            "chaos_holder"
        } else {
            "chaos_reader"
        };
        let now = Instant::now();
        ReaderProcess {
            mode,
            child: ChildProcess::spawn(role, &envs),
            verified: 0,
            writer: 0,
            in_place: 0,
            copied: 0,
            granted: 0,
            last_heard: now,
            last_progress: now,
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
            last_published: Instant::now(),
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
        self.writer.hear();
        if let Some(status) = self.writer.child.child.try_wait().unwrap() {
            panic!("the writer exited by itself: {status}");
        }
        // Whatever readers do (hold, stop holding, die holding), the writer
        // goes on publishing.
        assert!(
            now - self.writer.last_published < HANG,
            "the writer published nothing for {HANG:?}"
        );
        for reader in &mut self.readers {
            for line in reader.child.drain() {
                reader.hear(&line, now);
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
                // Other readers' holds (taken, or stopped or killed with)
                // never keep a reader from getting frames: by copy if need be.
                if settled.is_some_and(|since| now - since.max(reader.last_progress) > HANG) {
                    panic!(
                        "a {} reader verified no new frame for {HANG:?} while its writer published",
                        reader.mode
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
        writer.hear();
        for (total, count) in self.tally.writer.iter_mut().zip(writer.counts) {
            *total += count;
        }
        writer.counts = [0; 4];
    }

    /// Kills reader `index` (a holder is most likely holding) and starts
    /// another in the same mode.
    fn restart_reader(&mut self, index: usize) {
        let fresh = Self::spawn_reader(&self.envs, self.readers[index].mode);
        let old = std::mem::replace(&mut self.readers[index], fresh);
        self.tally.add_reader(&old);
        old.child.kill();
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
                    self.fault(if self.readers[index].holds() {
                        "holder stopped and resumed"
                    } else {
                        "reader stopped and resumed"
                    });
                }
            }
            40..=54 => {
                self.restart_reader(index);
                self.fault(if self.readers[index].holds() {
                    "holder killed and restarted"
                } else {
                    "reader killed and restarted"
                });
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

    /// Resumes every stopped reader.
    fn resume_readers(&mut self) {
        let now = Instant::now();
        for reader in &mut self.readers {
            if reader.stopped_until.take().is_some() {
                kill(pid_of(&reader.child), Signal::SIGCONT).unwrap();
                reader.running_since = now;
                reader.last_heard = now;
            }
        }
    }

    /// Holds of the current writer granted to live holders, as last heard.
    fn holds_granted(&self) -> u64 {
        self.readers
            .iter()
            .filter(|r| r.holds() && r.writer == self.writer.pid)
            .map(|r| r.granted)
            .sum()
    }

    /// Polls until `done` holds; panics with `failure` after [`HANG`].
    fn poll_until(&mut self, failure: &str, done: impl Fn(&Chaos) -> bool) {
        let give_up = Instant::now() + HANG;
        loop {
            self.poll();
            if done(self) {
                return;
            }
            assert!(Instant::now() < give_up, "{failure}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// With the faults over and the writer told to keep its segment (no
    /// reconfigure, which would start all holds afresh): every hold of the
    /// writer must be granted to a live holder (those of holders killed
    /// meanwhile taken back). Then the holders that have them are killed
    /// while holding, and their holds must come back: granted to live
    /// holders, which hold frames in place again.
    fn check_holds_come_back(&mut self) {
        use std::io::Write as _;
        let stdin = self.writer.child.child.stdin.as_mut().unwrap();
        writeln!(stdin, "calm").unwrap();
        let all = shmframe::DEFAULT_HOLDS as u64;
        self.poll_until(
            &format!("the live holders never got all {all} holds of the writer"),
            |chaos| chaos.holds_granted() == all,
        );
        let mut killed = 0;
        for index in 0..self.readers.len() {
            let reader = &self.readers[index];
            if reader.holds() && reader.writer == self.writer.pid && reader.granted > 0 {
                self.restart_reader(index);
                self.fault("holder killed at the end, holding");
                killed += 1;
            }
        }
        // What each live holder had held in place before the kills.
        let before: Vec<u64> = self.readers.iter().map(|r| r.in_place).collect();
        self.poll_until(
            &format!("the holds of {killed} killed holders did not come back to live holders"),
            |chaos| {
                let holding_again = chaos
                    .readers
                    .iter()
                    .zip(&before)
                    .all(|(r, before)| !(r.holds() && r.granted > 0) || r.in_place > *before);
                chaos.holds_granted() == all && holding_again
            },
        );
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
    // Faults for all but the last 6 s; then the holds must come back and
    // every reader catch up.
    let faults_end = started + Duration::from_secs(seconds.saturating_sub(6));
    let end = started + Duration::from_secs(seconds);
    while Instant::now() < faults_end {
        chaos.poll();
        chaos.inject();
        std::thread::sleep(Duration::from_millis(10 + chaos.random(60)));
    }
    chaos.resume_readers();
    chaos.check_holds_come_back();
    while Instant::now() < end {
        chaos.poll();
        std::thread::sleep(Duration::from_millis(10 + chaos.random(60)));
    }
    chaos.poll();
    let Chaos {
        readers,
        mut writer,
        mut tally,
        ..
    } = chaos;
    for mut reader in readers {
        drop(reader.child.child.stdin.take());
        let status = reader.child.child.wait().unwrap();
        for line in reader.child.drain() {
            reader.hear(&line, Instant::now());
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
        tally.add_reader(&reader);
    }
    drop(writer.child.child.stdin.take());
    assert!(
        writer.child.child.wait().unwrap().success(),
        "the last writer failed"
    );
    writer.hear();
    for (total, count) in tally.writer.iter_mut().zip(writer.counts) {
        *total += count;
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the segment directory: {left:?}");
    // Both ways of reading ran: holds granted, and holds refused (four
    // holders ask for more than the writer honours).
    assert!(tally.in_place > 0, "no holder ever held a frame in place");
    assert!(tally.copied > 0, "no holder was ever refused a hold");
    let faults: u64 = tally.faults.values().sum();
    let [published, failed, panicked, reconfigured] = tally.writer;
    println!(
        "chaos: {seconds} s, {} frames verified byte for byte ({} held in place, checked when \
         taken and when let go; {} copied by holders refused a hold); {published} published; \
         faults injected: {} in all = {:?} + {failed} failing fills + {panicked} panicking fills + {reconfigured} reconfigures",
        tally.verified,
        tally.in_place,
        tally.copied,
        faults + failed + panicked + reconfigured,
        tally.faults,
    );
}
