//! The engine across real processes: the test binary re-runs itself as the
//! other party (see `common`), so frames really cross a process boundary.

mod common;

use common::{env, pattern, unique_name, wait_for_stdin_close, ChildProcess};
use shmframe::{Error, FrameMeta, PixelFormat, Reader, ReaderOptions, Writer, WriterOptions};
use std::time::Duration;

const W: u32 = 320;
const H: u32 = 240;

fn meta() -> FrameMeta {
    FrameMeta::packed(W, H, PixelFormat::Rgba8)
}

fn options(slots: usize) -> WriterOptions {
    WriterOptions {
        slots,
        slot_capacity: (W * H * 4) as usize,
        ..Default::default()
    }
}

// ---- child roles (run only as children, through `ChildProcess::spawn`) ----

/// Publishes `FRAMES` frames (each after the parent says "go" on a line, if
/// `STEP` is set), prints `published N`, then stays until stdin closes.
#[test]
#[ignore = "child role"]
fn child_writer() {
    let name = env("SHMFRAME_TEST_NAME");
    let frames: u64 = env("FRAMES").parse().unwrap();
    let mut writer = match Writer::create(&name, &options(8)) {
        Ok(writer) => writer,
        Err(e) => {
            println!("error {e}");
            std::process::exit(3);
        }
    };
    println!("ready");
    let stepped = std::env::var("STEP").is_ok();
    let mut line = String::new();
    for n in 1..=frames {
        if stepped {
            line.clear();
            std::io::stdin().read_line(&mut line).unwrap();
        }
        writer
            .publish(&meta(), &pattern(n, (W * H * 4) as usize))
            .unwrap();
        println!("published {n}");
    }
    wait_for_stdin_close();
}

/// Publishes large frames (every byte = frame number) as fast as it can, forever.
#[test]
#[ignore = "child role"]
fn child_flooding_writer() {
    let name = env("SHMFRAME_TEST_NAME");
    let meta = FrameMeta::packed(2048, 1024, PixelFormat::Rgba8);
    let options = WriterOptions {
        slots: 2,
        slot_capacity: 2048 * 1024 * 4,
        ..Default::default()
    };
    let mut writer = Writer::create(&name, &options).unwrap();
    println!("ready");
    for n in 1u64.. {
        writer
            .publish_with::<Error>(&meta, |fill| {
                let row = vec![n as u8; 2048 * 4];
                for y in 0..1024 {
                    fill.write(y * row.len(), &row)?;
                }
                Ok(())
            })
            .unwrap();
    }
}

/// Waits for a frame with a futex sleep that never times out on its own, and
/// prints the frame number it woke up to.
#[test]
#[ignore = "child role"]
fn child_waiting_reader() {
    let name = env("SHMFRAME_TEST_NAME");
    let options = ReaderOptions {
        liveness_interval: Duration::from_secs(600),
        ..Default::default()
    };
    let mut reader = Reader::open_with(&name, &options).unwrap();
    println!("waiting");
    let mut buf = Vec::new();
    match reader
        .wait_latest(&mut buf, Duration::from_secs(120))
        .unwrap()
    {
        Some(info) => {
            assert_eq!(buf, pattern(info.number, info.len));
            println!("woke {}", info.number);
        }
        None => println!("timed out"),
    }
}

// ---- the tests ----

#[test]
fn frames_cross_processes_byte_exact_and_in_order() {
    let name = unique_name("exact");
    let envs = [
        ("SHMFRAME_TEST_NAME", name.clone()),
        ("FRAMES", "20".into()),
        ("STEP", "1".into()),
    ];
    let mut writer = ChildProcess::spawn("child_writer", &envs);
    writer.expect_line("ready");
    let mut reader = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    use std::io::Write;
    let stdin = writer.child.stdin.as_mut().unwrap();
    // Frames 1..=4 published before the reader reads: it reads in order, all kept by 8 slots.
    for _ in 0..4 {
        writeln!(stdin, "go").unwrap();
    }
    writer.expect_line("published 4");
    let mut expected = 1;
    for step in 0..20 {
        if step >= 4 {
            writeln!(writer.child.stdin.as_mut().unwrap(), "go").unwrap();
        }
        while expected <= (step + 1).max(4) {
            let info = reader
                .wait_next(&mut buf, Duration::from_secs(30))
                .unwrap()
                .expect("frame");
            assert_eq!((info.number, info.missed), (expected, 0));
            assert_eq!(info.meta, meta());
            assert!(
                buf == pattern(expected, info.len),
                "frame {expected} differs"
            );
            expected += 1;
        }
    }
    assert!(reader.writer_alive());
    assert_eq!(writer.finish(), 0);
    // A clean exit removes the name but the mapping keeps the last frame.
    assert!(matches!(Reader::open(&name), Err(Error::NoStream { .. })));
    assert!(!reader.writer_alive());
    let info = reader.latest(&mut buf).unwrap().unwrap();
    assert_eq!((info.number, buf == pattern(20, info.len)), (20, true));
}

#[test]
fn a_reader_asleep_on_the_futex_is_woken_by_a_publish_in_another_process() {
    let name = unique_name("wake");
    let mut writer = Writer::create(&name, &options(2)).unwrap();
    let mut child = ChildProcess::for_stream("child_waiting_reader", &name);
    child.expect_line("waiting");
    // Publish only once the child sleeps in the kernel on the futex, so that
    // only a cross-process wake can end its wait (its own timeouts are 600 s).
    let pid = child.child.id();
    let asleep_on_futex = || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|task| {
                let path = task.path();
                let state = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
                let wchan = std::fs::read_to_string(path.join("wchan")).unwrap_or_default();
                state.contains(") S ") && wchan.contains("futex")
            })
    };
    while !asleep_on_futex() {
        std::thread::sleep(Duration::from_millis(5));
    }
    writer
        .publish(&meta(), &pattern(1, (W * H * 4) as usize))
        .unwrap();
    assert_eq!(child.expect_line("woke"), "1");
    assert_eq!(child.finish(), 0);
    // The child registered before it slept, so that publish (and only that) woke.
    assert_eq!(writer.futex_wakes(), 1);
}

#[test]
fn a_second_writer_is_refused_with_the_live_writers_pid() {
    let name = unique_name("second");
    let _writer = Writer::create(&name, &options(2)).unwrap();
    let envs = [("SHMFRAME_TEST_NAME", name.clone()), ("FRAMES", "0".into())];
    let mut child = ChildProcess::spawn("child_writer", &envs);
    let error = child.expect_line("error");
    assert!(
        error.contains(&format!("live writer (pid {})", std::process::id())),
        "{error}"
    );
    assert_eq!(child.finish(), 3);
    // In the same process too: the lock is per open file, not per process.
    let again = Writer::create(&name, &options(2));
    assert!(matches!(again, Err(Error::WriterExists { .. })));
}

#[test]
fn a_killed_writer_leaves_the_last_whole_frame_and_is_seen_dead() {
    let name = unique_name("sigkill");
    let child = {
        let mut child = ChildProcess::for_stream("child_flooding_writer", &name);
        child.expect_line("ready");
        child
    };
    let mut reader = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    while reader
        .wait_latest(&mut buf, Duration::from_secs(30))
        .unwrap()
        .expect("frame")
        .number
        < 5
    {}
    assert!(reader.writer_alive());
    // The writer spends nearly all its time filling a slot: this kill lands mid-frame.
    child.kill();
    assert!(!reader.writer_alive(), "a reaped writer's lock is gone");
    for _ in 0..3 {
        let info = reader.latest(&mut buf).unwrap().expect("last frame");
        assert!(
            buf.iter().all(|&b| b == info.number as u8),
            "partial frame {}",
            info.number
        );
    }
    // The stale segment stays until someone replaces or removes it.
    assert!(Reader::open(&name).is_ok());
    shmframe::remove_stream(&name, false).unwrap();
}

#[test]
fn a_restarted_writer_is_followed_by_an_open_reader() {
    for kill in [true, false] {
        let name = unique_name(if kill {
            "restart-kill"
        } else {
            "restart-clean"
        });
        let envs = [("SHMFRAME_TEST_NAME", name.clone()), ("FRAMES", "3".into())];
        let mut first = ChildProcess::spawn("child_writer", &envs);
        first.expect_line("published 3");
        let mut reader = Reader::open(&name).unwrap();
        let mut buf = Vec::new();
        assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 3);
        if kill {
            first.kill();
        } else {
            assert_eq!(first.finish(), 0);
        }
        assert!(!reader.writer_alive());
        let envs = [("SHMFRAME_TEST_NAME", name.clone()), ("FRAMES", "2".into())];
        let mut second = ChildProcess::spawn("child_writer", &envs);
        second.expect_line("published 2");
        // The reader notices the new segment by itself while waiting.
        let info = reader
            .wait_latest(&mut buf, Duration::from_secs(30))
            .unwrap()
            .expect("frame");
        assert_eq!(info.number, 2, "frame numbers restart in the new segment");
        assert!(buf == pattern(2, info.len));
        assert!(reader.writer_alive());
        assert_eq!(second.finish(), 0);
    }
}

#[test]
fn a_reconfigured_writer_is_followed_with_bigger_frames() {
    let name = unique_name("reconfigure");
    let mut writer = Writer::create(&name, &options(2)).unwrap();
    writer
        .publish(&meta(), &pattern(1, (W * H * 4) as usize))
        .unwrap();
    let mut reader = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 1);
    let big = FrameMeta::packed(W * 2, H * 2, PixelFormat::Rgba8);
    let too_big = writer.publish(&big, &pattern(2, (W * H * 16) as usize));
    assert!(matches!(too_big, Err(Error::FrameTooLarge { .. })));
    writer
        .reconfigure(&WriterOptions {
            slot_capacity: (W * H * 16) as usize,
            ..options(2)
        })
        .unwrap();
    writer
        .publish(&big, &pattern(7, (W * H * 16) as usize))
        .unwrap();
    let info = reader
        .wait_latest(&mut buf, Duration::from_secs(10))
        .unwrap()
        .expect("frame");
    assert_eq!((info.meta, buf == pattern(7, info.len)), (big, true));
}
