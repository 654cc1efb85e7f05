//! A segment truncated under its readers by another process (of its owner):
//! the read fails with `Error::Truncated`, the reader's process lives, a later
//! writer is followed, and a SIGBUS that is not shmframe's still reaches the
//! application's own handler, or ends the process as it would have.

mod common;

use common::{env, pattern, unique_name, ChildProcess};
use nix::libc;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use shmframe::{Error, FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LEN: usize = 64 * 64 * 4;

fn meta() -> FrameMeta {
    FrameMeta::packed(64, 64, PixelFormat::Rgba8)
}

fn options() -> WriterOptions {
    WriterOptions {
        slot_capacity: LEN,
        ..Default::default()
    }
}

// ---- child roles (run only as children, through `ChildProcess::spawn`) ----

/// Publishes a frame every 2 ms until something kills it.
#[test]
#[ignore = "child role"]
fn child_steady_writer() {
    let mut writer = Writer::create(&env("SHMFRAME_TEST_NAME"), &options()).unwrap();
    for n in 1u64.. {
        writer.publish(&meta(), &pattern(n, LEN)).unwrap();
        if n == 1 {
            println!("ready");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

static APP_HANDLER_CALLS: AtomicUsize = AtomicUsize::new(0);

/// The application's own SIGBUS handler: counts, and maps zeros over the page.
extern "C" fn app_handler(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    APP_HANDLER_CALLS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: a valid siginfo from the kernel; the page is the test's own
    // mapping of a file it truncated, replaced by a private zero page.
    unsafe {
        let page = ((*info).si_addr() as usize) & !4095;
        libc::mmap(
            page as *mut libc::c_void,
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
    }
}

/// Touches a truncated mapping that is not shmframe's, with a reader open;
/// with `APP_HANDLER` set, installs its own SIGBUS handler first.
#[test]
#[ignore = "child role"]
fn child_foreign_sigbus() {
    if std::env::var_os("APP_HANDLER").is_some() {
        let action = SigAction::new(
            SigHandler::SigAction(app_handler),
            SaFlags::SA_SIGINFO,
            SigSet::empty(),
        );
        // SAFETY: the handler only counts and calls mmap.
        unsafe { sigaction(Signal::SIGBUS, &action) }.unwrap();
    }
    // Opening a reader installs shmframe's handler over the application's.
    let reader = Reader::open(&env("SHMFRAME_TEST_NAME")).unwrap();
    let file = tempfile::tempfile().unwrap();
    file.set_len(4096).unwrap();
    // SAFETY: a fresh private file mapped read-only; read once below.
    let map = unsafe {
        nix::sys::mman::mmap(
            None,
            std::num::NonZeroUsize::new(4096).unwrap(),
            nix::sys::mman::ProtFlags::PROT_READ,
            nix::sys::mman::MapFlags::MAP_SHARED,
            &file,
            0,
        )
    }
    .unwrap();
    file.set_len(0).unwrap();
    // SAFETY: the mapping is live; past the end of file it raises SIGBUS.
    let byte = unsafe { std::ptr::read_volatile(map.as_ptr().cast::<u8>()) };
    println!(
        "survived {byte} {}",
        APP_HANDLER_CALLS.load(Ordering::SeqCst)
    );
    assert!(reader.writer_alive(), "the reader is untouched");
}

// ---- the tests ----

#[test]
fn a_reader_survives_its_segment_truncated_by_another_process_and_follows_the_next_writer() {
    let name = unique_name("truncated");
    let mut first = ChildProcess::for_stream("child_steady_writer", &name);
    first.expect_line("ready");
    let mut reader = Reader::open(&name).unwrap();
    let mut buf = Vec::new();
    let info = reader.latest(&mut buf).unwrap().unwrap();
    assert!(buf == pattern(info.number, LEN));
    let truncated = Command::new("truncate")
        .args(["-s", "0"])
        .arg(reader.path())
        .status()
        .unwrap();
    assert!(truncated.success());
    let err = reader.latest(&mut buf).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(matches!(
        reader.next(&mut buf),
        Err(Error::Truncated { .. })
    ));
    let waited = reader.wait_latest(&mut buf, Duration::from_millis(100));
    assert!(matches!(waited, Err(Error::Truncated { .. })), "{waited:?}");
    assert!(!reader.writer_alive());
    // The writer has no such protection: its next publish meets the same SIGBUS.
    let status = first.child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}");
    let mut next = Writer::create(&name, &options()).unwrap();
    next.publish(&meta(), &pattern(9, LEN)).unwrap();
    let info = reader
        .wait_latest(&mut buf, Duration::from_secs(5))
        .unwrap()
        .expect("the next writer's frame");
    assert_eq!(info.number, 1);
    assert!(buf == pattern(9, LEN), "not the next writer's frame");
    assert!(reader.writer_alive());
}

#[test]
fn a_sigbus_elsewhere_reaches_the_applications_handler_or_the_default_action() {
    let name = unique_name("foreign-sigbus");
    let _writer = Writer::create(&name, &options()).unwrap();
    let envs = [
        ("SHMFRAME_TEST_NAME", name.clone()),
        ("APP_HANDLER", "1".into()),
    ];
    let mut chained = ChildProcess::spawn("child_foreign_sigbus", &envs);
    assert_eq!(
        chained.expect_line("survived"),
        "0 1",
        "byte read, app handler calls"
    );
    assert_eq!(chained.finish(), 0);
    let mut unhandled = ChildProcess::for_stream("child_foreign_sigbus", &name);
    let status = unhandled.child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}");
    assert!(unhandled
        .drain()
        .iter()
        .all(|line| !line.contains("survived")));
}
