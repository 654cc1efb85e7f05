//! The wake file: publishes make no wake call while nobody sleeps, the file
//! lives and goes with its writer, and nothing a reader writes into it (or
//! does to it) harms the writer or keeps a sleeper from its frames.

mod common;

use shmframe::{FrameMeta, PixelFormat, Reader, ReaderOptions, Writer, WriterOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

/// The cases share one private segment directory (on tmpfs, for O_TMPFILE),
/// named by a process-wide environment variable, so they run one after
/// another in one test; the directory goes when it ends, even on a failure.
#[test]
fn wake_file() {
    let _dir = common::use_private_dir("shmframe-wake-test-");
    the_wake_file_is_writable_by_whoever_may_read_and_goes_with_its_writer();
    a_dead_writers_wake_file_is_swept_and_a_live_ones_kept();
    publishes_make_no_wake_call_while_readers_only_poll();
    a_sleeping_reader_registers_and_is_woken();
    a_hostile_asleep_after_costs_wakes_or_delays_sleepers_but_never_a_frame();
    a_truncated_wake_file_neither_crashes_the_writer_nor_starves_sleepers();
}

/// The private segment directory.
fn dir() -> PathBuf {
    PathBuf::from(std::env::var_os(shmframe::DIR_ENV).expect("set by `wake_file`"))
}

fn meta() -> FrameMeta {
    FrameMeta::packed(4, 2, PixelFormat::Rgba8)
}

fn writer(name: &str, mode: u32) -> Writer {
    let options = WriterOptions {
        slot_capacity: 32,
        mode,
        ..Default::default()
    };
    Writer::create(name, &options).unwrap()
}

/// The wake file named in the segment's header word 7.
fn wake_file_of(writer: &Writer) -> PathBuf {
    let header = std::fs::read(writer.path()).unwrap();
    let token = u64::from_le_bytes(header[56..64].try_into().unwrap());
    dir().join(format!(".shmframe-wake.{token:016x}"))
}

fn the_wake_file_is_writable_by_whoever_may_read_and_goes_with_its_writer() {
    for (mode, wake_mode) in [(0o600, 0o600), (0o640, 0o660), (0o644, 0o666)] {
        let writer = writer(&format!("wake-mode-{mode:o}"), mode);
        let path = wake_file_of(&writer);
        let meta = std::fs::metadata(&path).expect("a wake file");
        assert_eq!(meta.permissions().mode() & 0o777, wake_mode);
        assert_eq!(meta.len(), 128);
        drop(writer);
        assert!(!path.exists(), "{} left behind", path.display());
    }
}

fn a_dead_writers_wake_file_is_swept_and_a_live_ones_kept() {
    let dead = dir().join(".shmframe-wake.00000000deadbeef");
    std::fs::write(&dead, [0u8; 128]).unwrap();
    let first = writer("wake-sweep-1", 0o600);
    assert!(!dead.exists(), "a wake file with no writer lock is swept");
    let second = writer("wake-sweep-2", 0o600);
    assert!(
        wake_file_of(&first).exists(),
        "a live writer's wake file stays"
    );
    drop((first, second));
}

fn publishes_make_no_wake_call_while_readers_only_poll() {
    let mut writer = writer("wake-poll", 0o600);
    let mut reader = Reader::open("wake-poll").unwrap();
    let mut buf = Vec::new();
    for n in 1..=100u8 {
        writer.publish(&meta(), &[n; 32]).unwrap();
        assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, n as u64);
    }
    assert_eq!(writer.futex_wakes(), 0);
}

/// A thread of this process waits for the next frame; returns once it is
/// asleep in the kernel, and the handle that yields the frame number it got.
fn sleeping_reader(name: &str, liveness: Duration) -> std::thread::JoinHandle<u64> {
    let options = ReaderOptions {
        liveness_interval: liveness,
        ..Default::default()
    };
    let mut reader = Reader::open_with(name, &options).unwrap();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut buf = Vec::new();
        reader.latest(&mut buf).unwrap();
        tid_tx
            .send(rustix::thread::gettid().as_raw_nonzero())
            .unwrap();
        let got = reader
            .wait_latest(&mut buf, Duration::from_secs(60))
            .unwrap();
        got.expect("a frame before the timeout").number
    });
    let tid = tid_rx.recv().unwrap();
    let task = format!("/proc/self/task/{tid}");
    while !std::fs::read_to_string(format!("{task}/wchan"))
        .unwrap_or_default()
        .contains("futex")
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    handle
}

fn a_sleeping_reader_registers_and_is_woken() {
    let mut writer = writer("wake-sleep", 0o600);
    writer.publish(&meta(), &[1; 32]).unwrap();
    // Liveness an hour: only the writer's wake can end this sleep.
    let sleeper = sleeping_reader("wake-sleep", Duration::from_secs(3600));
    writer.publish(&meta(), &[2; 32]).unwrap();
    assert_eq!(sleeper.join().unwrap(), 2);
    assert_eq!(writer.futex_wakes(), 1);
}

/// Opens the writer's wake file as a reader may (read-write) and stores
/// `value` into `asleep_after` (bytes 64..72).
fn scribble(writer: &Writer, value: u64) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(wake_file_of(writer))
        .unwrap();
    file.write_all_at(&value.to_le_bytes(), 64).unwrap();
}

fn a_hostile_asleep_after_costs_wakes_or_delays_sleepers_but_never_a_frame() {
    let mut writer = writer("wake-hostile", 0o600);
    // Ever after: every publish wakes, as before the wake file existed.
    scribble(&writer, u64::MAX);
    for n in 1..=5u8 {
        writer.publish(&meta(), &[n; 32]).unwrap();
    }
    assert_eq!(writer.futex_wakes(), 5);
    // Zeroed under a sleeper: the writer skips the wake, the sleeper wakes by
    // its own timeout (liveness 20 ms) and finds the frame.
    let sleeper = sleeping_reader("wake-hostile", Duration::from_millis(20));
    scribble(&writer, 0);
    writer.publish(&meta(), &[6; 32]).unwrap();
    assert_eq!(sleeper.join().unwrap(), 6);
    let mut buf = Vec::new();
    let mut reader = Reader::open("wake-hostile").unwrap();
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 6);
    assert_eq!(buf, [6; 32]);
}

fn a_truncated_wake_file_neither_crashes_the_writer_nor_starves_sleepers() {
    let mut writer = writer("wake-truncated", 0o600);
    writer.publish(&meta(), &[1; 32]).unwrap();
    let sleeper = sleeping_reader("wake-truncated", Duration::from_millis(20));
    std::fs::OpenOptions::new()
        .write(true)
        .open(wake_file_of(&writer))
        .unwrap()
        .set_len(0)
        .unwrap();
    // The writer's load of `wake_until` now faults and reads zeros instead.
    for n in 2..=4u8 {
        writer.publish(&meta(), &[n; 32]).unwrap();
    }
    assert!(sleeper.join().unwrap() >= 2);
    // A reader that opens the stream now still sleeps and wakes.
    let sleeper = sleeping_reader("wake-truncated", Duration::from_millis(20));
    writer.publish(&meta(), &[5; 32]).unwrap();
    assert_eq!(sleeper.join().unwrap(), 5);
}
