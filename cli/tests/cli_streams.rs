//! `info`, `list`, `rm` and `snapshot` against live, dead and missing streams,
//! and the test pattern.

mod cli_support;

use cli_support::{latest_frame, run, snapshot, stream_exists, text, unique_name, Background};
use rustix::process::Signal;
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let output = run(args, b"");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", text(&output.stdout)))
}

/// Holds the latest frame of a writer publishing at 30 fps: the first tries
/// are refused until the writer grants this reader's hold (bounded).
fn hold_a_frame(reader: &shmframe::Reader) -> shmframe::HeldFrame<'_> {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match reader.hold_latest() {
            Ok(Some(held)) => return held,
            Ok(None) | Err(shmframe::Error::NoHoldFree) => {}
            Err(e) => panic!("holding a frame: {e}"),
        }
        assert!(std::time::Instant::now() < give_up, "no hold granted");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn info_reports_a_live_writer_then_a_dead_one() {
    let name = unique_name("info");
    let mut publisher = Background::pattern(
        &name,
        "64x48",
        &["--fps", "30", "--slots", "3", "--holds", "1"],
    );
    let mut reader = publisher.reader();
    latest_frame(&mut reader);

    let info = json(&["info", "--name", &name, "--json"]);
    assert_eq!(info["name"], name.as_str());
    assert_eq!(info["writer_pid"], publisher.pid());
    assert_eq!(info["alive"], true);
    assert_eq!(info["slots"], 3);
    assert_eq!(info["slot_capacity"], 64 * 48 * 4);
    assert!(info["frames_published"].as_u64().unwrap() >= 1, "{info}");
    let latest = &info["latest"];
    assert_eq!(
        (latest["width"].as_u64(), latest["height"].as_u64()),
        (Some(64), Some(48))
    );
    assert_eq!(latest["format"], "rgba8");
    assert!(
        latest["age_ms"].as_f64().is_some_and(|age| age >= 0.0),
        "{info}"
    );
    // A local writer's frame: its number is its index, its timestamp the publish time.
    assert!(latest["index"].as_u64() >= Some(1), "{info}");
    assert_eq!(latest["number"], latest["index"], "{info}");
    assert!(latest["published_ns"].as_u64() > Some(0), "{info}");
    assert_eq!(latest["timestamp_ns"], latest["published_ns"], "{info}");
    assert!(info["fps"].as_f64().is_some_and(|fps| fps >= 0.0), "{info}");

    // This process holds a frame in place: info names its pid.
    assert_eq!(info["holds"], 1);
    let held = hold_a_frame(&reader);
    let info = json(&["info", "--name", &name, "--json", "--sample", "0"]);
    let holders = info["holders"].as_array().expect("holders");
    assert_eq!(holders.len(), 1, "{info}");
    assert_eq!(holders[0]["pid"], std::process::id(), "{info}");
    assert_eq!(
        (
            &holders[0]["granted"],
            &holders[0]["holding"],
            &holders[0]["alive"]
        ),
        (&Value::from(1), &Value::from(1), &Value::Bool(true)),
        "{info}"
    );

    // The text form says the same in words.
    let output = run(&["info", "--name", &name, "--sample", "0"], b"");
    let stdout = text(&output.stdout);
    let holder_line = format!("holder   pid {}", std::process::id());
    assert!(
        output.status.success()
            && stdout.contains("alive")
            && stdout.contains("64x48 rgba8")
            && stdout.contains(&holder_line)
            && stdout.contains("holds 1 of 1 granted"),
        "{stdout}"
    );
    drop(held);

    // A killed writer cannot clean up: its stream stays, and says it is dead.
    publisher.signal(Signal::KILL);
    publisher.wait();
    let info = json(&["info", "--name", &name, "--json"]);
    assert_eq!(info["alive"], false, "{info}");
    assert_eq!(info["writer_pid"], publisher.pid());

    let list = json(&["list", "--json"]);
    let entry = list
        .as_array()
        .expect("an array")
        .iter()
        .find(|e| e["name"] == name.as_str())
        .unwrap_or_else(|| panic!("`{name}` not listed: {list}"));
    assert_eq!(entry["alive"], false);
    assert_eq!(entry["slots"], 3);

    // A dead writer's stream is removed without --force.
    let output = run(&["rm", &name], b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!stream_exists(&name));
    let output = run(&["info", "--name", &name], b"");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains(&format!("no stream named `{name}`")));
}

#[test]
fn rm_refuses_a_live_writer_unless_forced() {
    let name = unique_name("rm-live");
    let mut publisher = Background::pattern(&name, "8x8", &["--fps", "10"]);
    publisher.reader();
    let output = run(&["rm", &name], b"");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("live writer") && stderr.contains(&publisher.pid().to_string()),
        "{stderr}"
    );
    assert!(stream_exists(&name), "refused, so still there");

    let output = run(&["rm", "--force", &name], b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!stream_exists(&name));
    let output = run(&["rm", &name], b"");
    assert_eq!(output.status.code(), Some(1), "nothing left to remove");
}

#[test]
fn snapshot_of_a_missing_stream_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.png");
    let name = unique_name("missing");
    let output = run(&["snapshot", "--name", &name, out.to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(1));
    let expected =
        format!("no stream named `{name}`: is a writer running? Publish an image first.");
    assert!(
        text(&output.stderr).contains(&expected),
        "{}",
        text(&output.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn the_test_pattern_animates_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("pattern");
    let mut publisher = Background::pattern(&name, "96x64", &["--fps", "100"]);
    let mut reader = publisher.reader();
    let (first, first_pixels) = latest_frame(&mut reader);
    let mut pixels = Vec::new();
    let second = reader
        .wait_latest(&mut pixels, cli_support::TIMEOUT)
        .unwrap()
        .expect("a second frame");
    assert!(second.number > first.number && second.timestamp_ns > first.timestamp_ns);
    assert_ne!(
        first_pixels, pixels,
        "the caption and bars change from frame to frame"
    );

    let saved = snapshot(&name, &dir.path().join("pattern.png")).to_rgba8();
    assert_eq!(saved.dimensions(), (96, 64));
    // Some caption pixels are white and the bars below are opaque colours.
    assert!(saved.pixels().any(|p| p.0 == [255, 255, 255, 255]));
    assert!(saved.pixels().all(|p| p.0[3] == 255));
}

#[test]
fn list_shows_a_live_stream() {
    let name = unique_name("list");
    let mut publisher = Background::pattern(&name, "8x8", &["--fps", "10"]);
    publisher.reader();
    let output = run(&["list"], b"");
    let stdout = text(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&name))
        .unwrap_or_else(|| panic!("`{name}` not in: {stdout}"));
    assert!(
        line.contains("yes") && line.contains(&publisher.pid().to_string()),
        "{line}"
    );
}
