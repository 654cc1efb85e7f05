//! Hostile input and access: names, planted files, other users, modes,
//! corrupt and truncated segments, a full tmpfs, racing writers, stopped and
//! killed readers, and leaks under attach/detach churn.

mod common;

use common::{env, unique_name, wait_for_stdin_close, ChildProcess};
use shmframe::{Error, FrameMeta, PixelFormat, Reader, ReaderOptions, Writer, WriterOptions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const NOBODY: u32 = 65534;

fn small() -> WriterOptions {
    WriterOptions {
        slot_capacity: 4096,
        ..Default::default()
    }
}

fn meta() -> FrameMeta {
    FrameMeta::packed(16, 16, PixelFormat::Rgba8)
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Removes a path on drop, whatever the test's outcome.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn bad_names_are_refused_by_writers_readers_and_rm() {
    for name in [
        "",
        ".",
        "..",
        "a/b",
        "../../etc/passwd",
        "a\0b",
        "sp ace",
        &"x".repeat(201),
    ] {
        let w = Writer::create(name, &small());
        assert!(
            matches!(w, Err(Error::InvalidName { .. })),
            "writer accepted {name:?}"
        );
        assert!(
            matches!(Reader::open(name), Err(Error::InvalidName { .. })),
            "{name:?}"
        );
        assert!(matches!(
            shmframe::remove_stream(name, true),
            Err(Error::InvalidName { .. })
        ));
    }
    let message = Writer::create("a/b", &small()).err().unwrap().to_string();
    assert!(
        message.contains("a/b") && message.contains("letters"),
        "{message}"
    );
}

#[test]
fn a_symlink_at_the_segment_path_is_never_followed() {
    let name = unique_name("symlink");
    let path = shmframe::segment_path(&name).unwrap();
    let target = std::env::temp_dir().join(format!("{name}-target"));
    std::fs::write(&target, b"precious").unwrap();
    let _cleanup = (Cleanup(path.clone()), Cleanup(target.clone()));
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert!(matches!(
        Writer::create(&name, &small()),
        Err(Error::NotRegularFile { .. })
    ));
    assert!(matches!(
        Reader::open(&name),
        Err(Error::NotRegularFile { .. })
    ));
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn segments_of_other_users_are_refused_unless_trusted_and_never_reused() {
    if !is_root() {
        eprintln!("skipped: needs root to give a segment to another user");
        return;
    }
    let name = unique_name("foreign");
    let path = shmframe::segment_path(&name).unwrap();
    let _cleanup = Cleanup(path.clone());
    {
        let mut writer = Writer::create(&name, &small()).unwrap();
        writer.publish(&meta(), &[7; 1024]).unwrap();
        // Keep the file after the writer goes: link it aside, then back.
        std::fs::hard_link(&path, path.with_extension("keep")).unwrap();
    }
    std::fs::rename(path.with_extension("keep"), &path).unwrap();
    std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();

    let refused = Reader::open(&name).err().expect("foreign segment refused");
    assert!(
        matches!(refused, Error::ForeignOwner { uid: NOBODY, .. }),
        "{refused}"
    );
    let trusted = ReaderOptions {
        trusted_uids: vec![NOBODY],
        ..Default::default()
    };
    let mut reader = Reader::open_with(&name, &trusted).unwrap();
    let mut buf = Vec::new();
    assert_eq!(reader.latest(&mut buf).unwrap().unwrap().number, 1);
    assert!(matches!(
        Writer::create(&name, &small()),
        Err(Error::ForeignOwner { .. })
    ));
    assert!(matches!(
        shmframe::remove_stream(&name, true),
        Err(Error::ForeignOwner { .. })
    ));
    assert_eq!(
        std::fs::metadata(&path).unwrap().uid(),
        NOBODY,
        "left alone"
    );
}

/// Runs `sh -c script` as user nobody; returns whether it succeeded.
fn as_nobody(script: &str) -> bool {
    Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run setpriv")
        .success()
}

#[test]
fn modes_default_to_private_and_others_only_ever_read() {
    let name = unique_name("mode");
    let path = shmframe::segment_path(&name).unwrap();
    let mode_of = |p: &PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for (mode, others_read) in [(0o600, false), (0o640, false), (0o644, true)] {
        let options = WriterOptions { mode, ..small() };
        let _writer = Writer::create(&name, &options).unwrap();
        assert_eq!(mode_of(&path), mode, "umask must not change the mode");
        if is_root() {
            let p = path.display();
            assert_eq!(
                as_nobody(&format!("cat {p} > /dev/null")),
                others_read,
                "{mode:o} read"
            );
            assert!(
                !as_nobody(&format!("echo x >> {p}")),
                "{mode:o}: others must not write"
            );
        }
    }
    for mode in [0o666, 0o400, 0o700, 0o604 | 0o002] {
        let result = Writer::create(&name, &WriterOptions { mode, ..small() });
        assert!(
            matches!(result, Err(Error::InvalidOptions(_))),
            "{mode:o} accepted"
        );
    }
}

/// Writes `bytes` as the segment of `name`; returns the cleanup guard.
fn plant(name: &str, bytes: &[u8]) -> Cleanup {
    let path = shmframe::segment_path(name).unwrap();
    std::fs::write(&path, bytes).unwrap();
    Cleanup(path)
}

fn valid_header(slots: u32, capacity: u64) -> Vec<u8> {
    let stride = 64u64.wrapping_add(capacity).div_ceil(64).wrapping_mul(64);
    let mut h = Vec::new();
    h.extend_from_slice(b"SHMFRAME");
    for v in [shmframe::layout::VERSION, 128, slots, 64] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&capacity.to_le_bytes());
    h.extend_from_slice(&stride.to_le_bytes());
    h.resize(128, 0);
    h
}

#[test]
fn truncated_and_garbage_segments_fail_at_attach_without_sigbus() {
    let name = unique_name("garbage");
    let bad = |bytes: Vec<u8>| {
        let _g = plant(&name, &bytes);
        match Reader::open(&name) {
            Err(Error::BadSegment { reason }) => reason,
            Err(other) => panic!("wrong error {other}"),
            Ok(_) => panic!("attached to garbage"),
        }
    };
    assert!(bad(vec![]).contains("less than a header"));
    assert!(bad(vec![0xAB; 100]).contains("less than a header"));
    assert!(bad(vec![0xAB; 4096]).contains("magic"));
    // A header claiming more than the file holds: refused before mapping.
    assert!(bad(valid_header(2, 1 << 20)).contains("holds 128"));
    // Claims past any sane size, and overflow bait.
    assert!(bad(valid_header(1 << 31, u64::MAX - 10)).contains("geometry"));
    let mut wrong_version = valid_header(2, 64);
    wrong_version[8] = 9;
    wrong_version.resize(128 + 2 * 128, 0);
    assert!(bad(wrong_version).contains("version 9"));
    // A well-formed header over zeroed slots (and the zeroed placement
    // table after them) attaches and simply has no frame.
    let mut empty = valid_header(2, 64);
    empty.resize(128 + 2 * 128 + 64, 0);
    let _g = plant(&name, &empty);
    let mut reader = Reader::open(&name).unwrap();
    assert_eq!(reader.latest(&mut Vec::new()).unwrap(), None);
    assert!(!reader.writer_alive());
}

/// Child role: creates a writer with `CAPACITY` bytes per slot and reports.
#[test]
#[ignore = "child role"]
fn child_create_writer() {
    let capacity: usize = env("CAPACITY").parse().unwrap();
    let options = WriterOptions {
        slot_capacity: capacity,
        ..Default::default()
    };
    match Writer::create(&env("SHMFRAME_TEST_NAME"), &options) {
        Ok(_writer) => {
            println!("created");
            wait_for_stdin_close();
        }
        Err(e) => println!("error {e}"),
    }
}

#[test]
fn a_full_tmpfs_gives_a_clear_error_and_leaves_nothing_behind() {
    if !is_root() {
        eprintln!("skipped: needs root to mount a small tmpfs");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(dir.path())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(dir.path().to_path_buf());
    let run = |capacity: usize| {
        let envs = [
            ("SHMFRAME_DIR", dir.path().display().to_string()),
            ("SHMFRAME_TEST_NAME", "full".to_string()),
            ("CAPACITY", capacity.to_string()),
        ];
        let mut child = ChildProcess::spawn("child_create_writer", &envs);
        let line = child.expect_line(if capacity > 1 << 20 {
            "error"
        } else {
            "created"
        });
        child.finish();
        line
    };
    let error = run(8 << 20);
    assert!(error.contains("tmpfs full"), "{error}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "partial segment left"
    );
    // The same directory works for a stream that fits.
    run(64 << 10);
}

#[test]
fn writers_racing_for_one_name_let_exactly_one_win() {
    for round in 0..5 {
        let name = unique_name(&format!("race{round}"));
        let envs = [
            ("SHMFRAME_TEST_NAME", name.clone()),
            ("CAPACITY", "4096".into()),
        ];
        let mut children: Vec<_> = (0..4)
            .map(|_| ChildProcess::spawn("child_create_writer", &envs))
            .collect();
        let outcomes: Vec<String> = children
            .iter_mut()
            .map(|c| c.expect_line("child_create_writer ..."))
            .collect();
        let winners = outcomes.iter().filter(|l| l.starts_with("created")).count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        for line in outcomes.iter().filter(|l| !l.starts_with("created")) {
            assert!(line.contains("already has a live writer"), "{line}");
        }
        for child in children {
            child.finish();
        }
        assert!(matches!(Reader::open(&name), Err(Error::NoStream { .. })));
    }
}

/// Child role: opens a reader and loops reading the latest frame, forever.
#[test]
#[ignore = "child role"]
fn child_busy_reader() {
    let mut reader = Reader::open(&env("SHMFRAME_TEST_NAME")).unwrap();
    let mut buf = Vec::new();
    println!("reading");
    loop {
        let _ = reader
            .wait_latest(&mut buf, Duration::from_millis(50))
            .unwrap();
    }
}

#[test]
fn stopped_and_killed_readers_do_not_disturb_the_writer_or_other_readers() {
    let name = unique_name("stopped");
    let options = WriterOptions {
        slot_capacity: 1 << 20,
        ..Default::default()
    };
    let mut writer = Writer::create(&name, &options).unwrap();
    let big = FrameMeta::packed(512, 512, PixelFormat::Rgba8);
    writer.publish(&big, &[1; 1 << 20]).unwrap();
    let envs = [("SHMFRAME_TEST_NAME", name.clone())];
    let mut stopped = ChildProcess::spawn("child_busy_reader", &envs);
    let mut killed = ChildProcess::spawn("child_busy_reader", &envs);
    stopped.expect_line("reading");
    killed.expect_line("reading");
    let mut other = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    // Stop one reader wherever it is (often mid-copy) and kill the other.
    for n in 2..=200u64 {
        if n == 50 {
            let pid = rustix::process::Pid::from_raw(stopped.child.id() as i32).unwrap();
            rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
            killed.child.kill().unwrap();
        }
        writer.publish(&big, &vec![n as u8; 1 << 20]).unwrap();
        let info = other.latest(&mut buf).unwrap().unwrap();
        assert_eq!(info.number, n);
        assert!(buf.iter().all(|&b| b == n as u8));
    }
    assert_eq!(writer.frames_published(), 200);
    let pid = rustix::process::Pid::from_raw(stopped.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    stopped.kill();
    killed.child.wait().unwrap();
}

/// Child role: attaches and detaches readers in a loop while a writer thread
/// streams, then compares open descriptors and mappings before and after.
#[test]
#[ignore = "child role"]
fn child_churn() {
    let count = |path: &str| std::fs::read_to_string(path).map(|s| s.lines().count());
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let name = env("SHMFRAME_TEST_NAME");
    let mut writer = Writer::create(&name, &small()).unwrap();
    writer.publish(&meta(), &[0; 1024]).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let streamer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u8;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n = n.wrapping_add(1);
                writer.publish(&meta(), &[n; 1024]).unwrap();
            }
            writer
        })
    };
    let mut buf = Vec::new();
    let mut churn = |times| {
        let mut latest = 0;
        for _ in 0..times {
            let mut reader = Reader::open(&name).unwrap();
            latest = reader.latest(&mut buf).unwrap().unwrap().number;
            reader
                .wait_next(&mut buf, Duration::from_millis(10))
                .unwrap();
        }
        latest
    };
    // Warm up until the streaming thread runs, so that its stack and the
    // allocator's arenas are counted in both figures.
    while churn(10) < 1000 {}
    let (before_fds, before_maps) = (fds(), count("/proc/self/maps").unwrap());
    churn(500);
    let (after_fds, after_maps) = (fds(), count("/proc/self/maps").unwrap());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(streamer.join().unwrap());
    println!("fds {before_fds} {after_fds} maps {before_maps} {after_maps}");
}

#[test]
fn attaching_and_detaching_in_a_loop_leaks_no_descriptors_or_mappings() {
    let envs = [("SHMFRAME_TEST_NAME", unique_name("churn"))];
    let mut child = ChildProcess::spawn("child_churn", &envs);
    let line = child.expect_line("fds");
    let n: Vec<usize> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(n.len(), 4, "{line}");
    assert_eq!(n[0], n[1], "descriptors leaked: {line}");
    assert_eq!(n[2], n[3], "mappings leaked: {line}");
    assert_eq!(child.finish(), 0);
}
