//! `shmframe bench`: runs its measurements (briefly) and reports them in the
//! documented JSON shape. Only the shape is checked; timing decides nothing.

mod cli_support;

use cli_support::{run, text};
use serde_json::Value;

#[test]
fn bench_quick_json_reports_every_case_beside_its_floor() {
    let output = run(&["bench", "--quick", "--json"], b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON array ({e}): {}", text(&output.stdout)));
    let find = |case: &str, system: &str| {
        rows.iter()
            .find(|r| r["case"] == case && r["system"] == system)
            .unwrap_or_else(|| panic!("no {case}/{system} in {rows:?}"))
    };
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
    for case in ["throughput_1080p", "throughput_4k", "writer_rate_0_readers"] {
        for system in ["shmframe", "floor"] {
            assert!(find(case, system)["per_s"]
                .as_f64()
                .is_some_and(|r| r > 0.0));
        }
    }
    assert!(find("writer_rate_8_readers", "shmframe")["per_s"]
        .as_f64()
        .is_some_and(|r| r > 0.0));
    let leftovers = shmframe::list_streams().unwrap();
    assert!(
        !leftovers.iter().any(|n| n.contains("bench")),
        "{leftovers:?}"
    );
}
