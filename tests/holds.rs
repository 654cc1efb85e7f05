//! Zero-copy reads: frames held in place never change, and no holder (slow,
//! stopped, killed, hostile or of another user) makes the writer wait or fail.

mod common;

use common::{env, pattern, unique_name, wait_for_stdin_close, ChildProcess};
use shmframe::{Error, FrameMeta, PixelFormat, Reader, ReaderOptions, Writer, WriterOptions};
use std::process::Command;
use std::time::{Duration, Instant};

const LEN: usize = 64 * 64 * 4;

fn meta() -> FrameMeta {
    FrameMeta::packed(64, 64, PixelFormat::Rgba8)
}

/// A writer of stream `name` (`holds` holds, file mode `mode`) that has
/// published until a reader asking for two holds was granted them, and that reader.
fn writer_and_holder(name: &str, holds: usize, mode: u32) -> (Writer, Reader) {
    let mut writer = Writer::create(name, &options(holds, mode)).unwrap();
    publish_next(&mut writer);
    let holder = reader_asking(name, 2);
    publish_until_granted(&mut writer, &holder, 2);
    (writer, holder)
}

/// The next value of a xorshift64 generator: garbage, repeatable.
fn xorshift(state: &mut u64) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
}

fn options(holds: usize, mode: u32) -> WriterOptions {
    WriterOptions {
        slots: 2,
        slot_capacity: LEN,
        mode,
        holds,
    }
}

fn reader_asking(name: &str, holds: usize) -> Reader {
    let options = ReaderOptions {
        holds,
        trusted_uids: vec![0],
        ..Default::default()
    };
    Reader::open_with(name, &options).unwrap()
}

/// Publishes frames (pixels `pattern(n)`) until `reader` was granted `holds`
/// holds; the writer looks for new hold files within milliseconds of a publish.
fn publish_until_granted(writer: &mut Writer, reader: &Reader, holds: usize) {
    // The first attempt makes the hold file and asks the writer to look.
    drop(reader.hold_latest());
    let give_up = Instant::now() + Duration::from_secs(20);
    while reader.holds_granted() < holds {
        assert!(Instant::now() < give_up, "holds never granted");
        let n = writer.frames_published() + 1;
        writer.publish(&meta(), &pattern(n, LEN)).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn publish_next(writer: &mut Writer) -> u64 {
    let n = writer.frames_published() + 1;
    assert_eq!(writer.publish(&meta(), &pattern(n, LEN)).unwrap(), n);
    n
}

#[test]
fn held_pixels_stay_byte_identical_over_thousands_of_publishes() {
    let name = unique_name("held-identical");
    let (mut writer, holder) = writer_and_holder(&name, 4, 0o600);
    let status = holder.status();
    assert_eq!((status.holds, status.holds_granted), (4, 2));
    let first = holder.hold_latest().unwrap().expect("a frame");
    publish_next(&mut writer);
    let second = holder.hold_latest().unwrap().expect("a frame");
    let held = [
        (first.info().index, first.pixels().to_vec()),
        (second.info().index, second.pixels().to_vec()),
    ];
    assert_eq!(held[0].1, pattern(held[0].0, LEN));
    assert_eq!(held[1].1, pattern(held[1].0, LEN));
    // This reader has both its holds in use: one more is refused at once.
    assert!(matches!(holder.hold_latest(), Err(Error::NoHoldFree)));
    let mut copier = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    for _ in 0..5000 {
        let n = publish_next(&mut writer);
        let info = copier.latest(&mut buf).unwrap().unwrap();
        assert_eq!((info.index, &buf), (n, &pattern(n, LEN)));
    }
    assert_eq!(first.pixels(), held[0].1);
    assert_eq!(second.pixels(), held[1].1);
    assert_eq!(holder.holding(), 2);
    drop(first);
    drop(second);
    assert_eq!(holder.holding(), 0);
    // Released: the hold is free again and holds the newest frame.
    let again = holder.hold_latest().unwrap().unwrap();
    assert_eq!(again.info().index, writer.frames_published());
    assert_eq!(again.pixels(), pattern(again.info().index, LEN));
}

#[test]
fn held_pixels_stay_byte_identical_while_frames_are_filled_in_place() {
    let name = unique_name("held-begin");
    let (mut writer, holder) = writer_and_holder(&name, 4, 0o600);
    let held = holder.hold_latest().unwrap().expect("a frame");
    let index = held.info().index;
    // begin/commit (the C API's in-place publish) must honour holds as publish does.
    for _ in 0..1000 {
        let n = writer.frames_published() + 1;
        let frame = writer.begin(&meta()).unwrap();
        let pixels = pattern(n, LEN);
        assert_eq!(frame.len(), LEN);
        // SAFETY: the pointer is valid for `len` bytes until the frame is
        // committed, and nothing else touches the writer meanwhile.
        unsafe { std::ptr::copy_nonoverlapping(pixels.as_ptr(), frame.as_mut_ptr(), LEN) };
        assert_eq!(writer.commit(frame).unwrap(), n);
    }
    assert!(
        held.pixels() == pattern(index, LEN),
        "an in-place publish wrote into a held frame"
    );
}

#[test]
fn an_owned_held_frame_outlives_its_reader_on_another_thread_and_its_drop_frees_the_hold() {
    let name = unique_name("held-owned");
    let (mut writer, holder) = writer_and_holder(&name, 2, 0o600);
    let owned = holder.hold_latest().unwrap().expect("a frame").into_owned();
    let index = owned.info().index;
    assert_eq!(holder.holding(), 1);
    drop(holder);
    // The reader is gone; its hold still stands, and the frame moves threads.
    let owned = std::thread::spawn(move || owned).join().unwrap();
    let mut copier = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    for _ in 0..2000 {
        let n = publish_next(&mut writer);
        assert_eq!(copier.latest(&mut buf).unwrap().unwrap().index, n);
    }
    assert_eq!(owned.pixels(), pattern(index, LEN));
    // Its drop ends the hold: the writer takes the ticket back once the
    // hold file (kept alive by the frame alone) is closed, and grants it anew.
    drop(owned);
    let again = reader_asking(&name, 2);
    publish_until_granted(&mut writer, &again, 2);
    let held = again.hold_latest().unwrap().unwrap();
    assert_eq!(held.pixels(), pattern(held.info().index, LEN));
}

#[test]
fn in_order_reads_count_missed_frames_exactly_while_holds_make_the_writer_skip_slots() {
    let name = unique_name("held-in-order");
    let (mut writer, holder) = writer_and_holder(&name, 2, 0o600);
    let mut copier = Reader::open(&name).unwrap();
    let in_place = reader_asking(&name, 1);
    let mut buf = Vec::new();
    let (mut copied_next, mut held_next) = (copier.next(&mut buf).unwrap().unwrap().index, 0u64);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut holds = Vec::new();
    let mut skipped = 0u64;
    for round in 0..400 {
        xorshift(&mut rng);
        // The holder keeps two old frames for a while, then lets go.
        if round % 7 == 0 {
            holds.clear();
        }
        if holds.len() < 2 {
            if let Ok(Some(frame)) = holder.hold_latest() {
                holds.push(frame);
            }
        }
        for _ in 0..rng % 6 {
            publish_next(&mut writer);
        }
        while let Some(info) = copier.next(&mut buf).unwrap() {
            assert_eq!(info.index, copied_next + 1 + info.missed, "missed is exact");
            assert_eq!(buf, pattern(info.index, LEN));
            skipped += info.missed;
            copied_next = info.index;
        }
        loop {
            match in_place.hold_next() {
                Ok(Some(frame)) => {
                    let info = *frame.info();
                    if held_next != 0 {
                        assert_eq!(info.index, held_next + 1 + info.missed, "missed is exact");
                    }
                    assert_eq!(frame.pixels(), pattern(info.index, LEN));
                    held_next = info.index;
                }
                Ok(None) => break,
                // Not granted yet: copy this one instead, as a caller would.
                Err(Error::NoHoldFree) => {
                    let Some(info) = in_place.latest_info().unwrap() else {
                        break;
                    };
                    let _ = info;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        for frame in &holds {
            assert_eq!(frame.pixels(), pattern(frame.info().index, LEN));
        }
    }
    assert_eq!(copied_next, writer.frames_published());
    // Bursts of up to five publishes into a ring of four slots, two of them
    // often held: the writer skipped held slots, and frames were missed.
    assert!(skipped > 0, "the test never lapped the in-order reader");
}

/// Child role: holds every hold it is granted, reports the frames, and checks
/// them again when its stdin closes.
#[test]
#[ignore = "child role"]
fn child_holder() {
    let reader = reader_asking(&env("SHMFRAME_TEST_NAME"), 16);
    let wanted: usize = env("SHMFRAME_TEST_HOLDS").parse().unwrap();
    let mut held = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(30);
    while held.len() < wanted {
        assert!(Instant::now() < give_up, "never got {wanted} holds");
        match reader.hold_latest() {
            Ok(Some(frame))
                if held
                    .iter()
                    .all(|f: &shmframe::HeldFrame<'_>| f.info().index != frame.info().index) =>
            {
                assert_eq!(frame.pixels(), pattern(frame.info().index, LEN));
                held.push(frame);
            }
            Ok(_) | Err(Error::NoHoldFree) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("{e}"),
        }
    }
    println!("holding {}", held.len());
    wait_for_stdin_close();
    for frame in &held {
        assert_eq!(
            frame.pixels(),
            pattern(frame.info().index, LEN),
            "a held frame changed"
        );
    }
    println!("intact");
}

/// Publishes from a thread while `body` runs, so a child can take its holds.
fn with_publisher<T>(writer: &mut Writer, body: impl FnOnce() -> T) -> T {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    /// Stops the publisher even when `body` panics (else the scope never ends).
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Relaxed);
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Relaxed) {
                publish_next(writer);
                std::thread::sleep(Duration::from_micros(500));
            }
        });
        let _stop = Stop(&stop);
        body()
    })
}

/// The companion files (wake and hold files) of stream `name`.
fn companions(name: &str) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::FileExt;
    let segment = std::fs::File::open(shmframe::segment_path(name).unwrap()).unwrap();
    let mut token = [0u8; 8];
    segment.read_exact_at(&mut token, 56).unwrap();
    let token = format!("{:016x}", u64::from_le_bytes(token));
    let dir = shmframe::segment_dir().unwrap();
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let file = e.file_name().to_string_lossy().to_string();
            file.starts_with(".shmframe-") && file.contains(&token)
        })
        .map(|e| e.path())
        .collect()
}

fn signal(child: &ChildProcess, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}

#[test]
fn a_stopped_or_killed_reader_holding_every_hold_stalls_nothing_and_dead_holds_come_back() {
    let name = unique_name("held-stopped");
    let mut writer = Writer::create(&name, &options(4, 0o600)).unwrap();
    publish_next(&mut writer);
    let envs = [
        ("SHMFRAME_TEST_NAME", name.clone()),
        ("SHMFRAME_TEST_HOLDS", "4".to_string()),
    ];
    let mut holder = ChildProcess::spawn("child_holder", &envs);
    with_publisher(&mut writer, || {
        assert_eq!(holder.expect_line("holding"), "4")
    });
    signal(&holder, rustix::process::Signal::STOP);
    // Every hold is taken by a stopped process: others copy, the writer goes on.
    let other = reader_asking(&name, 1);
    let mut copier = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    for _ in 0..3000 {
        let n = publish_next(&mut writer);
        assert!(matches!(other.hold_latest(), Err(Error::NoHoldFree)));
        let info = copier.latest(&mut buf).unwrap().unwrap();
        assert_eq!((info.index, &buf), (n, &pattern(n, LEN)));
    }
    signal(&holder, rustix::process::Signal::CONT);
    drop(holder.child.stdin.take());
    holder.expect_line("intact");
    assert_eq!(holder.finish(), 0);
    // A killed holder's holds come back to the others.
    drop(other);
    let mut killed = ChildProcess::spawn("child_holder", &envs);
    with_publisher(&mut writer, || {
        assert_eq!(killed.expect_line("holding"), "4")
    });
    killed.kill();
    let other = reader_asking(&name, 1);
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let n = publish_next(&mut writer);
        match other.hold_latest() {
            Ok(Some(frame)) => {
                assert_eq!(frame.pixels(), pattern(n, LEN));
                break;
            }
            Err(Error::NoHoldFree) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            Instant::now() < give_up,
            "a dead reader's holds were never reclaimed"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_writer_removes_the_hold_file_a_killed_reader_of_its_user_left() {
    let name = unique_name("held-killed-file");
    let mut writer = Writer::create(&name, &options(2, 0o600)).unwrap();
    publish_next(&mut writer);
    let envs = [
        ("SHMFRAME_TEST_NAME", name.clone()),
        ("SHMFRAME_TEST_HOLDS", "2".to_string()),
    ];
    let mut killed = ChildProcess::spawn("child_holder", &envs);
    with_publisher(&mut writer, || {
        assert_eq!(killed.expect_line("holding"), "2")
    });
    let hold_files = || {
        companions(&name)
            .into_iter()
            .filter(|path| path.to_string_lossy().contains(".shmframe-hold."))
            .count()
    };
    assert_eq!(hold_files(), 1);
    killed.kill();
    // No other reader sweeps here: the writer's own scan (every second) must.
    let give_up = Instant::now() + Duration::from_secs(20);
    while hold_files() != 0 {
        assert!(
            Instant::now() < give_up,
            "the dead reader's hold file stayed"
        );
        publish_next(&mut writer);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs this test binary's child role `entry` as user nobody.
fn spawn_as_nobody(entry: &str, envs: &[(&str, String)]) -> std::process::Child {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(std::env::current_exe().unwrap())
        .args(common::child_args(entry))
        .envs(envs.iter().cloned())
        .spawn()
        .expect("run setpriv")
}

/// Child role (another user): takes what holds it can, then for a while
/// writes garbage into every companion file it can open for writing: its
/// own hold file (entries naming every slot and frame), the wake file, and
/// tries the other readers' hold files.
#[test]
#[ignore = "child role"]
fn child_hostile_other_user() {
    let name = env("SHMFRAME_TEST_NAME");
    let reader = reader_asking(&name, 16);
    let _ = reader.hold_latest();
    let until = Instant::now() + Duration::from_millis(1500);
    let mut rng = 1u64;
    let mut refused = 0;
    while Instant::now() < until {
        for path in companions(&name) {
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
                refused += 1;
                continue;
            };
            use std::os::unix::fs::FileExt;
            for word in 0..24u64 {
                xorshift(&mut rng);
                // Hold words naming each slot with recent frames, and noise.
                let value = if word % 2 == 0 {
                    (rng % 4096) << 16 | (rng % 8)
                } else {
                    rng
                };
                let _ = file.write_at(&value.to_le_bytes(), word * 8);
            }
        }
    }
    // Another reader's hold file must have been there, and refused us.
    println!("refused {refused}");
    assert!(refused > 0);
}

#[test]
fn a_reader_of_another_user_cannot_change_a_held_frame() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run a reader as another user");
        return;
    }
    let name = unique_name("held-other-user");
    let (mut writer, holder) = writer_and_holder(&name, 4, 0o644);
    let held = holder.hold_latest().unwrap().unwrap();
    let expected = pattern(held.info().index, LEN);
    let mut hostile = spawn_as_nobody(
        "child_hostile_other_user",
        &[("SHMFRAME_TEST_NAME", name.clone())],
    );
    let mut copier = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    while hostile.try_wait().unwrap().is_none() {
        let n = publish_next(&mut writer);
        assert_eq!(held.pixels(), expected, "a held frame changed");
        let info = copier.latest(&mut buf).unwrap().unwrap();
        assert_eq!((info.index, &buf), (n, &pattern(n, LEN)));
    }
    assert!(hostile.wait().unwrap().success());
    for _ in 0..1000 {
        publish_next(&mut writer);
    }
    assert_eq!(held.pixels(), expected, "a held frame changed");
}

#[test]
fn garbage_in_hold_and_wake_files_by_the_same_user_never_stalls_the_writer() {
    let name = unique_name("held-garbage");
    let (mut writer, victim) = writer_and_holder(&name, 4, 0o600);
    let mut copier = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    let mut rng = 7u64;
    for round in 0..300 {
        for path in companions(&name) {
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
                continue;
            };
            use std::os::unix::fs::FileExt;
            xorshift(&mut rng);
            let value = if round % 3 == 0 {
                (rng % 512) << 16 | (rng % 6)
            } else {
                rng
            };
            let _ = file.write_at(&value.to_le_bytes(), (rng % 24) * 8);
            if round == 150 && path.to_string_lossy().contains("hold") {
                file.set_len(8).unwrap();
            }
        }
        let n = publish_next(&mut writer);
        let info = copier.latest(&mut buf).unwrap().unwrap();
        assert_eq!((info.index, &buf), (n, &pattern(n, LEN)));
        // Holds may be refused (their entries are garbage), never wrong.
        if let Ok(Some(frame)) = victim.hold_latest() {
            assert_eq!(frame.pixels(), pattern(frame.info().index, LEN));
        }
    }
    assert_eq!(
        writer.frames_published(),
        copier.latest_info().unwrap().unwrap().index
    );
}

#[test]
fn the_ring_grows_to_holds_plus_two_slots_but_a_count_below_two_is_refused() {
    let name = unique_name("held-geometry");
    let refused = Writer::create(
        &name,
        &WriterOptions {
            slots: 1,
            ..options(4, 0o600)
        },
    );
    assert!(matches!(refused, Err(Error::InvalidOptions(_))));
    let writer = Writer::create(&name, &options(4, 0o600)).unwrap();
    assert_eq!(Reader::open(&name).unwrap().status().slots, 6);
    drop(writer);
    let writer = Writer::create(&name, &options(0, 0o600)).unwrap();
    let reader = Reader::open(&name).unwrap();
    assert_eq!(reader.status().slots, 2);
    assert!(matches!(reader.hold_latest(), Err(Error::NoHoldFree)));
    drop(writer);
}

#[test]
fn the_hold_file_of_a_reader_killed_holding_is_removed_when_the_writer_closes() {
    let name = unique_name("held-killed-file");
    let mut writer = Writer::create(&name, &options(4, 0o600)).unwrap();
    publish_next(&mut writer);
    let envs = [
        ("SHMFRAME_TEST_NAME", name.clone()),
        ("SHMFRAME_TEST_HOLDS", "2".to_string()),
    ];
    let mut holder = ChildProcess::spawn("child_holder", &envs);
    with_publisher(&mut writer, || {
        assert_eq!(holder.expect_line("holding"), "2")
    });
    let hold_files: Vec<_> = companions(&name)
        .into_iter()
        .filter(|path| path.to_string_lossy().contains(".shmframe-hold."))
        .collect();
    assert_eq!(hold_files.len(), 1, "{hold_files:?}");
    // Killed holding: no reader of this stream makes a hold file again.
    holder.kill();
    drop(writer);
    assert!(!hold_files[0].exists(), "{:?} left behind", hold_files[0]);
}
