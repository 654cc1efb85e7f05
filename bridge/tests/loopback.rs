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
    let out = a.run(
        probe(),
        &[
            "hostile",
            "--key",
            &key("loop"),
            "--connect",
            &import_listen,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe JSON");
    let sent = sent["sent"].as_u64().expect("a count");
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
    b.check("loop", 10, 0.0)
        .expect("frames flow again after the exporter restarts");
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
