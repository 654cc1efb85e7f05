//! The reader's readiness fd, watched with `poll`, against writers in other
//! processes (the test binary re-runs itself as the writer, see `common`).
//! "Not readable" is checked with a short poll timeout: a wrong readiness
//! would show up in it, a slow machine cannot make it fail.

mod common;

use common::{env, unique_name, wait_for_stdin_close, ChildProcess};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use shmframe::{FrameMeta, PixelFormat, Reader, ReaderOptions, Writer, WriterOptions};
use std::io::Write;

/// How long a test waits for readiness that must come.
const MUST_COME_MS: i64 = 10_000;
/// How long a test watches for readiness that must not come.
const MUST_NOT_MS: i64 = 300;

fn meta() -> FrameMeta {
    FrameMeta::packed(4, 4, PixelFormat::Rgba8)
}

fn options() -> WriterOptions {
    WriterOptions {
        slots: 4,
        slot_capacity: 64,
        ..Default::default()
    }
}

/// Whether the reader's readiness fd becomes readable within `ms` milliseconds.
fn readable(reader: &mut Reader, ms: i64) -> bool {
    let fd = reader.readiness_fd().expect("readiness fd");
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: ms / 1000,
        tv_nsec: (ms % 1000) * 1_000_000,
    };
    let ready = poll(&mut fds, Some(&timeout)).expect("poll");
    ready == 1 && fds[0].revents().contains(PollFlags::IN)
}

/// A writer child that obeys its stdin: `go` publishes a frame (prints
/// `published N`), `close` closes the writer (prints `closed`).
fn spawn_writer(name: &str) -> ChildProcess {
    let mut writer = ChildProcess::for_stream("child_commanded_writer", name);
    writer.expect_line("ready");
    writer
}

/// A new stream named for `tag`, its commanded writer child, and a reader.
fn stream_with_reader(tag: &str) -> (String, ChildProcess, Reader) {
    let name = unique_name(tag);
    let writer = spawn_writer(&name);
    let reader = Reader::open(&name).unwrap();
    (name, writer, reader)
}

/// Has `writer` publish one frame and asserts that `reader`'s fd tells of it.
fn publish_and_expect_readable(writer: &mut ChildProcess, reader: &mut Reader, why: &str) {
    command(writer, "go", "published");
    expect_readable(reader, why);
}

/// Asserts that `reader`'s fd becomes readable soon.
fn expect_readable(reader: &mut Reader, why: &str) {
    assert!(readable(reader, MUST_COME_MS), "{why}");
}

/// Asserts that `reader`'s fd stays unreadable for a while.
fn expect_quiet(reader: &mut Reader, why: &str) {
    assert!(!readable(reader, MUST_NOT_MS), "{why}");
}

fn command(writer: &mut ChildProcess, line: &str, answer: &str) -> String {
    writeln!(writer.child.stdin.as_mut().unwrap(), "{line}").unwrap();
    writer.expect_line(answer)
}

// ---- child roles (run only as children, through `ChildProcess::spawn`) ----

#[test]
#[ignore = "child role"]
fn child_commanded_writer() {
    let name = env("SHMFRAME_TEST_NAME");
    let mut writer = Some(Writer::create(&name, &options()).unwrap());
    println!("ready");
    for line in std::io::stdin().lines().map_while(Result::ok) {
        match (line.trim(), writer.as_mut()) {
            ("go", Some(w)) => {
                let n = w.publish(&meta(), &[7u8; 64]).unwrap();
                println!("published {n}");
            }
            ("close", Some(_)) => {
                drop(writer.take());
                println!("closed");
            }
            _ => panic!("unexpected command {line:?}"),
        }
    }
}

/// Publishes `FRAMES` frames as fast as it can, prints `published N`, then
/// stays until stdin closes.
#[test]
#[ignore = "child role"]
fn child_fast_writer() {
    let name = env("SHMFRAME_TEST_NAME");
    let frames: u64 = env("FRAMES").parse().unwrap();
    let mut writer = Writer::create(&name, &options()).unwrap();
    println!("ready");
    let mut last = 0;
    for _ in 0..frames {
        last = writer.publish(&meta(), &[1u8; 64]).unwrap();
    }
    println!("published {last}");
    wait_for_stdin_close();
}

/// Counts its threads around a reader's readiness, alone in its process.
#[test]
#[ignore = "child role"]
fn child_thread_counter() {
    let name = env("SHMFRAME_TEST_NAME");
    let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
    let _writer = Writer::create(&name, &options()).unwrap();
    let before = threads();
    // An hour's liveness interval: the drop below returns only if it wakes
    // the helper itself.
    let options = ReaderOptions {
        liveness_interval: std::time::Duration::from_secs(3600),
        ..Default::default()
    };
    let mut reader = Reader::open_with(&name, &options).unwrap();
    let opened = threads();
    let fd = {
        use std::os::fd::AsRawFd;
        reader.readiness_fd().unwrap().as_raw_fd()
    };
    wait_until_helper_sleeps();
    let watching = threads();
    drop(reader);
    let dropped = threads();
    let fd_open = rustix::io::fcntl_getfd(
        // SAFETY: only asks the kernel about the number; nothing is read or closed.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
    )
    .is_ok();
    println!("threads {before} {opened} {watching} {dropped} fd_open {fd_open}");
}

/// Publishes to a watched reader that does not read, each publish once the
/// helper is asleep, and prints the writer's wake calls; then checks that the
/// fd still works once the reader reads. Alone in its process, so that its
/// helper is the only `shmframe-ready` thread.
#[test]
#[ignore = "child role"]
fn child_undrained_wake_counter() {
    let name = env("SHMFRAME_TEST_NAME");
    let mut writer = Writer::create(&name, &options()).unwrap();
    let mut reader = Reader::open(&name).unwrap();
    reader.readiness_fd().unwrap();
    for _ in 0..50 {
        wait_until_helper_sleeps();
        writer.publish(&meta(), &[3u8; 64]).unwrap();
    }
    println!("wakes {}", writer.futex_wakes());
    let mut buf = Vec::new();
    assert!(readable(&mut reader, 0));
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 50);
    assert!(!readable(&mut reader, 0));
    writer.publish(&meta(), &[4u8; 64]).unwrap();
    println!("readable again {}", readable(&mut reader, MUST_COME_MS));
}

/// Waits until this process's readiness helper sleeps in the kernel.
fn wait_until_helper_sleeps() {
    // The helper names itself once it runs: look until it has.
    loop {
        let asleep = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .map(|task| task.unwrap().path())
            .filter(|task| {
                std::fs::read_to_string(task.join("comm"))
                    .is_ok_and(|c| c.trim() == "shmframe-ready")
            })
            .any(|helper| {
                std::fs::read_to_string(helper.join("wchan")).is_ok_and(|w| w.contains("futex"))
            });
        if asleep {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

// ---- tests ----

#[test]
fn readable_after_a_publish_not_before_and_not_after_clearing() {
    let (_name, mut writer, mut reader) = stream_with_reader("ready-publish");
    expect_quiet(&mut reader, "readable before any frame");

    publish_and_expect_readable(&mut writer, &mut reader, "not readable after a publish");
    let mut buf = Vec::new();
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 1);
    expect_quiet(&mut reader, "still readable after the read");

    publish_and_expect_readable(&mut writer, &mut reader, "not readable after a publish");
    reader.clear_readiness();
    expect_quiet(&mut reader, "readable after clearing");

    publish_and_expect_readable(&mut writer, &mut reader, "the next frame not told");
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 3);
    assert_eq!(writer.finish(), 0);
}

#[test]
fn in_order_reader_stays_readable_until_caught_up() {
    let (_name, mut writer, mut reader) = stream_with_reader("ready-in-order");
    assert!(!readable(&mut reader, 0));
    for _ in 0..3 {
        command(&mut writer, "go", "published");
    }
    let mut buf = Vec::new();
    expect_readable(&mut reader, "the frames are not told");
    for number in 1..=3 {
        // Reading a frame while newer ones are there leaves it readable.
        assert!(readable(&mut reader, 0), "frame {number} not told at once");
        assert_eq!(reader.next(&mut buf).unwrap().unwrap().number, number);
    }
    expect_quiet(&mut reader, "readable when caught up");
    assert_eq!(writer.finish(), 0);
}

#[test]
fn writer_close_and_successor_make_it_readable() {
    let (name, mut writer, mut reader) = stream_with_reader("ready-close");
    command(&mut writer, "go", "published");
    let mut buf = Vec::new();
    assert!(readable(&mut reader, MUST_COME_MS));
    reader.latest(&mut buf).unwrap().unwrap();

    command(&mut writer, "close", "closed");
    expect_readable(&mut reader, "a close is not told");
    assert!(!reader.writer_alive());
    // Reading until nothing is new clears it: the close is told once.
    while reader.next(&mut buf).unwrap().is_some() {}
    expect_quiet(&mut reader, "the close told twice");

    let mut successor = spawn_writer(&name);
    expect_readable(&mut reader, "a successor is not told");
    assert!(reader.follow().unwrap());
    expect_quiet(&mut reader, "readable in an empty successor");
    publish_and_expect_readable(&mut successor, &mut reader, "successor's frame not told");
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 1);
    assert_eq!(writer.finish(), 0);
    assert_eq!(successor.finish(), 0);
}

#[test]
fn writer_death_makes_it_readable() {
    let name = unique_name("ready-death");
    let writer = spawn_writer(&name);
    let mut reader = Reader::open(&name).unwrap();
    assert!(!readable(&mut reader, MUST_NOT_MS));
    writer.kill();
    expect_readable(&mut reader, "a dead writer is not told");
    assert!(!reader.writer_alive());
    let _ = shmframe::remove_stream(&name, true);
}

#[test]
fn an_undrained_reader_does_not_hold_the_writer_back() {
    let name = unique_name("ready-undrained");
    let frames = 20_000;
    let mut writer = ChildProcess::spawn(
        "child_fast_writer",
        &[
            ("SHMFRAME_TEST_NAME", name.clone()),
            ("FRAMES", frames.to_string()),
        ],
    );
    writer.expect_line("ready");
    // Watches and never reads nor clears while the writer publishes.
    let mut reader = Reader::open(&name).unwrap();
    reader.readiness_fd().unwrap();
    let published: u64 = writer.expect_line("published").parse().unwrap();
    assert_eq!(published, frames);
    assert!(readable(&mut reader, 0));
    assert_eq!(reader.status().frames_published, frames);
    assert_eq!(writer.finish(), 0);
}

#[test]
fn the_helper_thread_runs_only_while_watched() {
    let name = unique_name("ready-threads");
    let mut child = ChildProcess::for_stream("child_thread_counter", &name);
    let line = child.expect_line("threads");
    let (counts, fd_open) = line.split_once(" fd_open ").unwrap();
    let counts: Vec<usize> = counts.split(' ').map(|n| n.parse().unwrap()).collect();
    let [before, opened, watching, dropped] = counts[..] else {
        panic!("bad line {line}")
    };
    assert_eq!(opened, before, "a plain reader started a thread");
    assert_eq!(watching, before + 1, "one helper thread per watched reader");
    assert_eq!(dropped, before, "the helper outlived its reader");
    assert_eq!(fd_open, "false", "the eventfd outlived its reader");
    assert_eq!(child.finish(), 0);
}

#[test]
fn an_undrained_fd_costs_the_writer_no_wake_per_publish() {
    let name = unique_name("ready-wakes");
    let mut child = ChildProcess::for_stream("child_undrained_wake_counter", &name);
    // One wake for the first frame, one for the publish that finds the fd
    // still readable (the helper then parks until the reader reads), none
    // for the 48 after it.
    let wakes: u64 = child.expect_line("wakes").parse().unwrap();
    assert!(wakes <= 2, "{wakes} wake calls for 50 undrained publishes");
    assert_eq!(child.expect_line("readable again"), "true");
    assert_eq!(child.finish(), 0);
}
