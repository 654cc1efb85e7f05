//! `shmframe bench`: runs its measurements (briefly) and reports them in the
//! documented JSON shape. Only the shape is checked; timing decides nothing.

mod cli_support;

use cli_support::{run_command_within, shmframe, text};
use serde_json::Value;
use std::time::Duration;

#[test]
fn bench_quick_json_reports_every_case_beside_its_floor() {
    // A debug build measures slowly (about a minute here): a generous bound, only against hangs.
    let before = shmframe::list_streams().unwrap();
    let command = &mut shmframe();
    command.args(["bench", "--quick", "--json"]);
    let output = run_command_within(command, b"", Duration::from_secs(600));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON array ({e}): {}", text(&output.stdout)));
    let find = |case: &str, system: &str| {
        rows.iter()
            .find(|r| r["case"] == case && r["system"] == system)
            .unwrap_or_else(|| panic!("no {case}/{system} in {rows:?}"))
    };
    // The bare seqlocks are measured beside the floor for 64 B polling, and
    // the stamped one beside the 64 B writer rates; nowhere else.
    for reference in ["bare-seqlock", "bare-seqlock-unstamped"] {
        let bare = find("latency_64B_poll", reference)["median_ns"].as_f64();
        assert!(bare.is_some_and(|m| m > 0.0), "{reference}: {bare:?}");
    }
    for readers in [0, 8] {
        let row = find(
            &format!("writer_rate_64B_{readers}_readers"),
            "bare-seqlock",
        );
        let cpu = row["writer_cpu_ns_per_frame"].as_f64();
        assert!(cpu.is_some_and(|ns| ns > 0.0), "{row}");
    }
    let bare_cases: Vec<&Value> = rows
        .iter()
        .filter(|r| r["system"].as_str().is_some_and(|s| s.starts_with("bare-")))
        .map(|r| &r["case"])
        .collect();
    assert_eq!(bare_cases.len(), 4, "{bare_cases:?}");
    assert!(
        bare_cases.iter().all(|c| [
            "latency_64B_poll",
            "writer_rate_64B_0_readers",
            "writer_rate_64B_8_readers"
        ]
        .contains(&c.as_str().unwrap_or(""))),
        "{bare_cases:?}"
    );
    for case in [
        "latency_64B_poll",
        "latency_64B_futex",
        "latency_1080p_poll",
    ] {
        for system in ["shmframe", "floor"] {
            let row = find(case, system);
            let (median, p99) = (row["median_ns"].as_f64(), row["p99_ns"].as_f64());
            assert!(median.is_some_and(|m| m > 0.0), "{row}");
            assert!(p99 >= median, "{row}");
        }
    }
    // Beside every futex-sleeping reader: one woken through its readiness fd.
    for case in ["latency_64B_futex", "latency_64B_futex_same_core"] {
        let row = find(case, "shmframe-fd");
        assert!(row["median_ns"].as_f64().is_some_and(|m| m > 0.0), "{row}");
    }
    for case in [
        "throughput_1080p",
        "throughput_4k",
        "throughput_1080p_nv12",
        "writer_rate_0_readers",
    ] {
        for system in ["shmframe", "floor"] {
            assert!(find(case, system)["per_s"]
                .as_f64()
                .is_some_and(|r| r > 0.0));
        }
    }
    // Beside every end-to-end rate: the reading thread's CPU time per frame.
    for case in ["throughput_1080p", "throughput_4k", "throughput_1080p_nv12"] {
        for system in ["shmframe", "shmframe-in-order", "floor"] {
            let row = find(case, system);
            assert!(
                row["reader_cpu_ns_per_frame"]
                    .as_f64()
                    .is_some_and(|ns| ns > 0.0),
                "{row}"
            );
        }
    }
    assert!(find("writer_rate_8_readers", "shmframe")["per_s"]
        .as_f64()
        .is_some_and(|r| r > 0.0));
    // Beside every writer rate: the writer's CPU time per frame, and with
    // readers, what share of the frames each reader got.
    for readers in [0, 8] {
        let row = find(&format!("writer_rate_{readers}_readers"), "shmframe");
        assert!(
            row["writer_cpu_ns_per_frame"]
                .as_f64()
                .is_some_and(|ns| ns > 0.0),
            "{row}"
        );
    }
    let share = find("writer_rate_8_readers", "shmframe")["reader_share"].as_f64();
    assert!(share.is_some_and(|s| (0.0..=1.0).contains(&s)), "{share:?}");
    // Zero-copy: publish to a sleeping reader holding the frame, beside its
    // floors and the copy, at every size.
    for case in ["hold_latency_64B", "hold_latency_1080p", "hold_latency_4k"] {
        for system in ["floor", "futex-wake-only", "shmframe-hold", "shmframe-copy"] {
            let row = find(case, system);
            let (median, p99) = (row["median_ns"].as_f64(), row["p99_ns"].as_f64());
            assert!(median.is_some_and(|m| m > 0.0), "{row}");
            assert!(p99 >= median, "{row}");
        }
    }
    // The writer with readers holding frames, beside none and copying ones.
    for case in ["writer_rate_8_holding", "writer_rate_64B_8_holding"] {
        for system in [
            "shmframe-no-reader",
            "shmframe-8-holding",
            "shmframe-8-copying",
            "shmframe-8-holding-still",
        ] {
            let row = find(case, system);
            let cpu = row["writer_cpu_ns_per_frame"].as_f64();
            assert!(cpu.is_some_and(|ns| ns > 0.0), "{row}");
            // Each reader held (or copied) frames.
            let read = row["reader_frames_per_s"].as_f64();
            if system == "shmframe-no-reader" {
                assert_eq!(read, None, "{row}");
            } else {
                assert!(read.is_some_and(|r| r > 0.0), "{row}");
            }
        }
    }
    // Every stream the run created is gone again.
    let leftovers: Vec<String> = shmframe::list_streams()
        .unwrap()
        .into_iter()
        .filter(|name| name.starts_with("shmframe-bench") && !before.contains(name))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
