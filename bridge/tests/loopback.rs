//! The bridge on this host's loopback, no namespaces needed: always runs.
//! Each side has its own SHMFRAME_DIR, as two hosts would.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn loopback_carries_exact_pixels_refuses_hostile_messages_and_resumes() {
    let (a, b) = (Side::loopback(), Side::loopback());
    let (port, import_port) = (free_port(), free_port());
    let report = report_path(b.dir(), "import");
    let report_arg = report.to_str().expect("utf-8 path");
    let import_listen = format!("tcp/127.0.0.1:{import_port}");

    let mut imp = importer(
        &b,
        "loop",
        "127.0.0.1",
        port,
        &["--listen", &import_listen, "--report", report_arg],
    );
    let sent = send_hostile(&a, "loop", &import_listen);
    report_when(&report, Duration::from_secs(10), |r| {
        r["refused"] == sent && r["frames"] == 0
    })
    .expect("every hostile message refused and counted");
    assert!(imp.alive(), "the importer survived the hostile messages");

    let _source = source(&a, "loop", &[]);
    let exp = exporter(&a, "loop", port, "lossless", &[]);
    b.check("loop", 10, 0.0).unwrap();

    exp.kill();
    let _exp = exporter(&a, "loop", port, "lossless", &[]);
    let out = b
        .check("loop", 10, 0.0)
        .expect("frames flow again after the exporter restarts");
    // The check refuses a frame whose number is not the sender's. The frames
    // published while no exporter ran never arrived, so the importer's indexes
    // now lag the sender's numbers: the numbers it shows are kept, not its own.
    let out: serde_json::Value = serde_json::from_str(&out).expect("check JSON");
    assert!(
        out["renumbered"].as_u64() > Some(0),
        "imported frames carry the sender's numbers: {out}"
    );
}

#[test]
fn bad_options_are_usage_errors() {
    let side = Side::loopback();
    for args in [
        &["export", "--name", "x", "--codec", "png"][..],
        &["export", "--name", "x", "--connect", "tcp/1.2.3.4:5\",\"x"][..],
        &["import", "--name", "../etc", "--quiet"][..],
        &["import", "--name", "x", "--key", "a/**/#bad?", "--quiet"][..],
        &["import", "--name", "x", "--config", "/nonexistent.json5"][..],
    ] {
        let out = side.run(bridge(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
}

#[test]
fn every_mode_delivers_every_frame_in_order() {
    let (a, b) = (Side::loopback(), Side::loopback());
    let port = free_port();
    let export_report = report_path(a.dir(), "export");
    let import_report = report_path(b.dir(), "import");
    let _imp = importer(
        &b,
        "every",
        "127.0.0.1",
        port,
        &[
            "--every",
            "--report",
            import_report.to_str().expect("utf-8"),
        ],
    );
    let _exp = exporter(
        &a,
        "every",
        port,
        "lossless",
        &[
            "--every",
            "--report",
            export_report.to_str().expect("utf-8"),
        ],
    );
    report_when(&export_report, Duration::from_secs(20), |r| {
        r["subscribed"] == true
    })
    .expect("the importer subscribes");
    // 90 frames at 60 fps, published only once the importer listens, into a
    // ring deep enough that the exporter's in-order reader is never lapped.
    let _source = a.spawn(
        probe(),
        &[
            "source", "--name", "every", "--size", SIZE, "--frames", "90", "--fps", "60",
            "--slots", "128",
        ],
    );
    // In order, frame 90 is the last to arrive: wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !b
        .check("every", 1, 0.0)
        .is_ok_and(|latest| latest.contains("\"last\":90"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "frame 90 never arrived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The exporter attaches when the stream appears, perhaps a frame or two
    // late; from there on every frame arrived, none lost or skipped.
    std::thread::sleep(Duration::from_millis(1500)); // both reports rewritten since
    let read = |path: &std::path::Path| report_when(path, Duration::from_secs(1), |_| true);
    let (sent, got) = (read(&export_report).unwrap(), read(&import_report).unwrap());
    assert!(sent["frames"].as_u64().is_some_and(|n| n >= 80), "{sent}");
    assert_eq!(sent["frames"], got["frames"], "{sent} {got}");
    assert_eq!(
        (sent["skipped"].as_u64(), got["lost"].as_u64()),
        (Some(0), Some(0)),
        "{sent} {got}"
    );
    assert_eq!(got["skipped"], 0, "{got}");
}

#[test]
fn a_restarted_writer_with_bigger_frames_grows_the_imported_stream() {
    let (a, b) = (Side::loopback(), Side::loopback());
    let port = free_port();
    let _exp = exporter(&a, "grow", port, "lossless", &[]);
    let _imp = importer(&b, "grow", "127.0.0.1", port, &[]);
    let small = source(&a, "grow", &[]);
    b.check("grow", 5, 0.0).unwrap();
    // The local writer restarts with frames four times larger: the exporter
    // follows it, and the importer moves its stream to bigger slots.
    small.stop();
    let _big = a.spawn(
        probe(),
        &[
            "source", "--name", "grow", "--size", "800x480", "--fps", "30",
        ],
    );
    b.check_size("grow", "800x480", 5, 0.0)
        .expect("the larger frames arrive, exactly");
}
