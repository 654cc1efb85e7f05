//! Writers succeeding one another under one name: readers follow the new
//! writer whatever state the old segment was left in, nothing a reader does
//! can delay or prevent a writer's start, and a writer that dies at any point
//! leaves no file behind but its (reclaimable) segment.

mod common;

use common::{env, pattern, unique_name, wait_for_stdin_close, ChildProcess};
use shmframe::{Error, FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

fn meta() -> FrameMeta {
    FrameMeta::packed(16, 16, PixelFormat::Rgba8)
}

fn small() -> WriterOptions {
    WriterOptions {
        slot_capacity: 4096,
        ..Default::default()
    }
}

/// Byte offset of slot `index`'s sequence word in a segment made with `small()`.
fn seq_offset(index: u64) -> u64 {
    128 + index * (64 + 4096)
}

#[test]
fn a_wait_follows_a_new_writer_when_the_old_latest_slot_cannot_be_read() {
    let name = unique_name("unreadable-latest");
    let mut old = Writer::create(&name, &small()).unwrap();
    for n in 1..=3 {
        old.publish(&meta(), &pattern(n, 1024)).unwrap();
    }
    let mut reader = Reader::open(&name).unwrap();
    // The latest frame's slot is left odd, as a writer dying mid-way through a
    // broken publish (or a hostile one) would leave it.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(old.path())
        .unwrap();
    // Without holds taken, frame 3 is in slot 3 % N.
    let slots = reader.status().slots as u64;
    file.write_all_at(&1u64.to_le_bytes(), seq_offset(3 % slots))
        .unwrap();
    drop(old);
    let mut new = Writer::create(&name, &small()).unwrap();
    new.publish(&meta(), &pattern(1, 1024)).unwrap();
    let mut buf = Vec::new();
    for wait_next in [false, true] {
        let got = if wait_next {
            reader.wait_next(&mut buf, Duration::from_secs(5))
        } else {
            reader.wait_latest(&mut buf, Duration::from_secs(5))
        };
        let info = got
            .unwrap_or_else(|e| panic!("wait_next={wait_next}: {e}"))
            .expect("the new writer's frame");
        // In order, the new writer's first frame comes first: still intact in
        // its slot, or counted as missed if the reader finds it overwritten.
        assert_eq!(
            info.number - info.missed,
            1,
            "wait_next={wait_next}: {info:?}"
        );
        assert!(buf == pattern(info.number, 1024), "frame {}", info.number);
        new.publish(&meta(), &pattern(2, 1024)).unwrap();
    }
}

// ---- child roles (run only as children, through `ChildProcess::spawn`) ----

/// Creates a writer of `SHMFRAME_TEST_NAME` with `CAPACITY`-byte slots (after
/// printing `creating`, and a line on stdin if `WAIT_FOR_GO` is set),
/// publishes one frame, prints `published`, and stays until stdin closes.
#[test]
#[ignore = "child role"]
fn child_writer() {
    let name = env("SHMFRAME_TEST_NAME");
    let options = WriterOptions {
        slot_capacity: env("CAPACITY").parse().unwrap(),
        ..Default::default()
    };
    println!("creating");
    if std::env::var_os("WAIT_FOR_GO").is_some() {
        std::io::stdin().read_line(&mut String::new()).unwrap();
    }
    let mut writer = match Writer::create(&name, &options) {
        Ok(writer) => writer,
        Err(e) => {
            println!("error {e}");
            std::process::exit(3);
        }
    };
    writer.publish(&meta(), &pattern(1, 1024)).unwrap();
    println!("published");
    wait_for_stdin_close();
}

fn spawn_writer(name: &str, capacity: usize, dir: Option<&Path>) -> ChildProcess {
    let mut envs = vec![
        ("SHMFRAME_TEST_NAME", name.to_string()),
        ("CAPACITY", capacity.to_string()),
    ];
    if let Some(dir) = dir {
        envs.push(("SHMFRAME_DIR", dir.display().to_string()));
    }
    ChildProcess::spawn("child_writer", &envs)
}

/// Locks a reader may take on a segment it opened read-only.
#[derive(Clone, Copy, Debug)]
enum HostileLock {
    FlockShared,
    FlockExclusive,
    PosixRead,
    OfdRead,
}

impl HostileLock {
    /// Takes the lock; `false` if it conflicts with one held (the live
    /// writer's lock conflicts with a read lock).
    fn take(self, file: &std::fs::File) -> bool {
        use nix::fcntl::{fcntl, FcntlArg};
        use nix::libc;
        use rustix::fs::FlockOperation::*;
        let read_lock = libc::flock {
            l_type: libc::F_RDLCK as libc::c_short,
            l_whence: libc::SEEK_SET as libc::c_short,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        match self {
            Self::FlockShared => rustix::fs::flock(file, NonBlockingLockShared).is_ok(),
            Self::FlockExclusive => rustix::fs::flock(file, NonBlockingLockExclusive).is_ok(),
            Self::PosixRead => fcntl(file, FcntlArg::F_SETLK(&read_lock)).is_ok(),
            Self::OfdRead => fcntl(file, FcntlArg::F_OFD_SETLK(&read_lock)).is_ok(),
        }
    }
}

#[test]
fn no_lock_a_reader_holds_delays_or_prevents_the_next_writer() {
    for lock in [
        HostileLock::FlockShared,
        HostileLock::FlockExclusive,
        HostileLock::PosixRead,
        HostileLock::OfdRead,
    ] {
        let name = unique_name(&format!("hostile-lock-{lock:?}"));
        let mut first = spawn_writer(&name, 4096, None);
        first.expect_line("published");
        let mut reader = Reader::open(&name).unwrap();
        let mut buf = Vec::new();
        assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 1);
        assert!(reader.writer_alive(), "{lock:?}");
        first.kill();
        // A reader (here: this process, through its own read-only descriptor)
        // holds a lock on the dead writer's segment, and keeps it.
        let hostile = std::fs::File::open(reader.path()).unwrap();
        assert!(lock.take(&hostile), "{lock:?} on a dead writer's segment");
        assert!(
            !reader.writer_alive(),
            "{lock:?}: a dead writer looks alive"
        );
        let mut second = Writer::create(&name, &small())
            .unwrap_or_else(|e| panic!("{lock:?}: the next writer was refused: {e}"));
        second.publish(&meta(), &pattern(5, 1024)).unwrap();
        let info = reader
            .wait_latest(&mut buf, Duration::from_secs(5))
            .unwrap()
            .expect("the new writer's frame");
        assert_eq!(info.number, 1, "{lock:?}");
        assert!(
            buf == pattern(5, 1024),
            "{lock:?}: not the new writer's frame"
        );
        assert!(reader.writer_alive(), "{lock:?}");
        // With the lock (where it can be had) on the new segment too, a third
        // writer is refused for the live one, never for the lock.
        let on_live = std::fs::File::open(reader.path()).unwrap();
        let _ = lock.take(&on_live);
        match Writer::create(&name, &small()) {
            Err(Error::WriterExists { pid, .. }) => assert_eq!(pid, std::process::id()),
            other => panic!("{lock:?}: {:?}", other.map(|w| w.name().to_string())),
        }
    }
}

#[test]
fn writers_killed_while_creating_their_segment_leave_nothing_behind() {
    let dir = common::private_dir("shmframe-succession-");
    let name = "killed-while-creating";
    // A dead writer's segment, so that later writers also go through replacing it.
    let mut stale = spawn_writer(name, 4096, Some(dir.path()));
    stale.expect_line("published");
    stale.kill();
    for round in 0..40u64 {
        // Big slots make creation (reserving the pages) take a few milliseconds.
        let mut child = spawn_writer(name, 16 << 20, Some(dir.path()));
        child.expect_line("creating");
        std::thread::sleep(Duration::from_micros(round * 100));
        child.kill();
    }
    let mut last = spawn_writer(name, 4096, Some(dir.path()));
    last.expect_line("published");
    assert_eq!(last.finish(), 0);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_in_order_wait_reads_what_is_left_in_the_old_segment_before_following() {
    let name = unique_name("left-in-old");
    let options = WriterOptions {
        slots: 4,
        ..small()
    };
    let mut writer = Writer::create(&name, &options).unwrap();
    let mut reader = Reader::open(&name).unwrap();
    for n in 1..=3 {
        writer.publish(&meta(), &pattern(n, 1024)).unwrap();
    }
    writer.reconfigure(&options).unwrap();
    writer.publish(&meta(), &pattern(100, 1024)).unwrap();
    let mut buf = Vec::new();
    let mut got = Vec::new();
    for _ in 0..4 {
        let info = reader
            .wait_next(&mut buf, Duration::from_secs(5))
            .unwrap()
            .expect("a frame");
        got.push((info.number, info.missed, buf[0]));
    }
    let first_byte = |n: u64| pattern(n, 1)[0];
    assert_eq!(
        got,
        [
            (1, 0, first_byte(1)),
            (2, 0, first_byte(2)),
            (3, 0, first_byte(3)),
            (1, 0, first_byte(100))
        ]
    );
}

#[test]
fn writers_racing_to_replace_a_dead_segment_let_exactly_one_win() {
    use std::io::Write;
    for round in 0..5 {
        let name = unique_name(&format!("race-dead-{round}"));
        let mut dead = spawn_writer(&name, 4096, None);
        dead.expect_line("published");
        dead.kill();
        let envs = [
            ("SHMFRAME_TEST_NAME", name.clone()),
            ("CAPACITY", "4096".to_string()),
            ("WAIT_FOR_GO", "1".to_string()),
        ];
        let mut racers: Vec<_> = (0..4)
            .map(|_| ChildProcess::spawn("child_writer", &envs))
            .collect();
        for racer in &mut racers {
            racer.expect_line("creating");
        }
        for racer in &mut racers {
            writeln!(racer.child.stdin.as_mut().unwrap(), "go").unwrap();
        }
        // Each racer's next line: `published`, or `error ...`.
        let outcomes: Vec<String> = racers
            .iter_mut()
            .map(|racer| racer.expect_line(""))
            .collect();
        let winners = outcomes.iter().filter(|l| l.contains("published")).count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        for line in outcomes.iter().filter(|l| !l.contains("published")) {
            assert!(line.contains("already has a live writer"), "{line}");
        }
        let mut reader = Reader::open(&name).unwrap();
        let mut buf = Vec::new();
        assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 1);
        assert!(reader.writer_alive());
        for racer in racers {
            racer.finish();
        }
        assert!(matches!(Reader::open(&name), Err(Error::NoStream { .. })));
    }
}

/// Asks whether the writer is alive, and follows a new one, in a tight loop.
#[test]
#[ignore = "child role"]
fn child_liveness_poller() {
    let mut reader = Reader::open(&env("SHMFRAME_TEST_NAME")).unwrap();
    println!("polling");
    loop {
        std::hint::black_box(reader.writer_alive());
        let _ = reader.follow();
    }
}

#[test]
fn a_stopped_liveness_polling_reader_never_blocks_a_restart() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let name = unique_name("stopped-poller");
    let mut writer = spawn_writer(&name, 4096, None);
    writer.expect_line("published");
    let mut poller = ChildProcess::for_stream("child_liveness_poller", &name);
    poller.expect_line("polling");
    let poller_pid = Pid::from_raw(poller.child.id() as i32);
    let mut refused = Vec::new();
    for round in 0..20u64 {
        // The writer dies; the poller asks about the dead writer's segment
        // and is stopped wherever it is in its loop; then a writer restarts.
        writer.kill();
        std::thread::sleep(Duration::from_micros(100 + round * 37));
        kill(poller_pid, Signal::SIGSTOP).unwrap();
        match Writer::create(&name, &small()) {
            Ok(next) => drop(next),
            Err(e) => refused.push(e.to_string()),
        }
        kill(poller_pid, Signal::SIGCONT).unwrap();
        writer = spawn_writer(&name, 4096, None);
        writer.expect_line("published");
    }
    poller.kill();
    assert_eq!(writer.finish(), 0);
    assert!(
        refused.is_empty(),
        "{} of 20 restarts refused: {refused:?}",
        refused.len()
    );
}
