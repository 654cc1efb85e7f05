//! The bridge between two hosts, simulated: two network namespaces joined by
//! a veth pair (192.0.2.1 and 192.0.2.2), the exporter in one, the importer in
//! the other, each side with its own SHMFRAME_DIR. Needs root; where
//! namespaces cannot be created the tests say SKIPPED and pass (the loopback
//! tests cover the same paths without them).

mod support;

use std::time::Duration;
use support::*;

#[test]
fn raw_and_lossless_codecs_carry_exact_pixels() {
    let Some((_pair, a, b)) = netns_or_skip("raw_and_lossless_codecs_carry_exact_pixels") else {
        return;
    };
    let mut running = Vec::new();
    let mut streams = Vec::new();
    for (i, codec) in ["raw", "lossless", "lz4"].into_iter().enumerate() {
        for (j, still) in [false, true].into_iter().enumerate() {
            let name = format!("{codec}-{}", if still { "still" } else { "pattern" });
            let port = 7450 + (2 * i + j) as u16;
            running.push(source(&a, &name, if still { &["--still"] } else { &[] }));
            running.push(exporter(&a, &name, port, codec, &[]));
            running.push(importer(&b, &name, &a.addr, port, &[]));
            streams.push((name, if still { 1 } else { 10 }));
        }
    }
    for (name, frames) in &streams {
        b.check(name, *frames, 0.0).unwrap();
    }
}

#[test]
fn jpeg_stays_within_tolerance() {
    let Some((_pair, a, b)) = netns_or_skip("jpeg_stays_within_tolerance") else {
        return;
    };
    let _pattern = source(&a, "jpeg-pattern", &[]);
    let _still = source(&a, "jpeg-still", &["--still"]);
    let _e1 = exporter(&a, "jpeg-pattern", 7460, "jpeg:90", &[]);
    let _e2 = exporter(&a, "jpeg-still", 7461, "jpeg:90", &[]);
    let _i1 = importer(&b, "jpeg-pattern", &a.addr, 7460, &[]);
    let _i2 = importer(&b, "jpeg-still", &a.addr, 7461, &[]);
    // The stated tolerance (docs/bridge.md): at quality 90 a mean absolute
    // error of at most 6 levels per byte (about 4.2 measured: chroma is subsampled).
    let pattern = b.check("jpeg-pattern", 10, 6.0).unwrap();
    let still = b.check("jpeg-still", 1, 6.0).unwrap();
    eprintln!("jpeg:90 pattern {pattern}still {still}");
}

#[test]
fn exporter_and_importer_restart_and_the_stream_resumes() {
    let Some((_pair, a, b)) = netns_or_skip("exporter_and_importer_restart_and_the_stream_resumes")
    else {
        return;
    };
    let _source = source(&a, "restart", &[]);
    let exp = exporter(&a, "restart", 7470, "lossless", &[]);
    let imp = importer(&b, "restart", &a.addr, 7470, &[]);
    b.check("restart", 5, 0.0).unwrap();

    // The exporter crashes: the imported stream keeps its last frame readable.
    exp.kill();
    b.check("restart", 1, 0.0).unwrap();
    let _exp = exporter(&a, "restart", 7470, "lossless", &[]);
    b.check("restart", 10, 0.0)
        .expect("frames flow again after the exporter restarts");

    // The importer crashes (its segment is left stale); a new one takes over.
    imp.kill();
    let _imp = importer(&b, "restart", &a.addr, 7470, &[]);
    b.check("restart", 10, 0.0)
        .expect("frames flow again after the importer restarts");
}

#[test]
fn link_down_for_two_seconds_then_frames_flow_again() {
    let Some((_pair, a, b)) = netns_or_skip("link_down_for_two_seconds_then_frames_flow_again")
    else {
        return;
    };
    let _source = source(&a, "link", &[]);
    let _exp = exporter(&a, "link", 7480, "lossless", &[]);
    let _imp = importer(&b, "link", &a.addr, 7480, &[]);
    b.check("link", 5, 0.0).unwrap();

    a.link(false);
    let down = std::time::Instant::now();
    // Meanwhile the local stream on B stays readable: its last frame, intact.
    let during = b.check("link", 1, 0.0);
    std::thread::sleep(Duration::from_secs(2).saturating_sub(down.elapsed()));
    a.link(true);
    during.expect("the imported stream is readable while the link is down");
    b.check("link", 10, 0.0)
        .expect("frames flow again after the link comes back");
}

#[test]
fn hostile_messages_are_refused_and_counted() {
    let Some((_pair, a, b)) = netns_or_skip("hostile_messages_are_refused_and_counted") else {
        return;
    };
    let report = report_path(b.dir(), "import");
    let report_arg = report.to_str().expect("utf-8 path");
    let listen = format!("tcp/{}:7491", b.addr);
    let mut imp = importer(
        &b,
        "hostile",
        &a.addr,
        7490,
        &["--listen", &listen, "--report", report_arg],
    );
    // Garbage, truncations and huge claimed sizes from a peer in the other namespace.
    let sent = send_hostile(&a, "hostile", &listen);
    let counted = report_when(&report, Duration::from_secs(10), |r| r["refused"] == sent)
        .expect("every hostile message refused and counted");
    assert_eq!(counted["frames"], 0, "nothing hostile was published");
    assert!(imp.alive(), "the importer survived");

    // The same importer still carries real frames afterwards.
    let _source = source(&a, "hostile", &[]);
    let _exp = exporter(&a, "hostile", 7490, "lossless", &[]);
    b.check("hostile", 5, 0.0).unwrap();
}
