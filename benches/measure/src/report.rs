//! One measurement, and the table and JSON that show a run.

use crate::stats::median_p99;
use std::fmt::Write as _;

/// One figure of one system in one case.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Case name, e.g. `latency_64B_poll`.
    pub case: String,
    /// System name: `shmframe`, `floor`, `classic-lock`, `unix-socket`, `iceoryx2`.
    pub system: String,
    /// Median one-way latency, nanoseconds (latency cases).
    pub median_ns: Option<f64>,
    /// 99th percentile one-way latency, nanoseconds (latency cases).
    pub p99_ns: Option<f64>,
    /// Bytes per second (throughput) or frames per second (writer rates).
    pub per_s: Option<f64>,
    /// Samples behind a latency figure.
    pub samples: usize,
    /// Frames each reader copied out per second, on average (writer rates with readers).
    pub reader_per_s: Option<f64>,
    /// Share of the published frames each reader copied out (writer rates with readers).
    pub reader_share: Option<f64>,
    /// The writer thread's CPU time per frame, nanoseconds (writer rates).
    pub writer_cpu_ns: Option<f64>,
    /// The reader thread's CPU time per frame, nanoseconds (throughput).
    pub reader_cpu_ns: Option<f64>,
}

impl Measurement {
    /// A latency figure from one-way samples in nanoseconds.
    pub fn latency(case: &str, system: &str, samples: &[u64]) -> Measurement {
        let (median, p99) = median_p99(samples);
        Measurement {
            case: case.to_owned(),
            system: system.to_owned(),
            median_ns: Some(median),
            p99_ns: Some(p99),
            per_s: None,
            samples: samples.len(),
            reader_per_s: None,
            reader_share: None,
            writer_cpu_ns: None,
            reader_cpu_ns: None,
        }
    }

    /// A rate figure.
    pub fn rate(case: &str, system: &str, per_s: f64) -> Measurement {
        Measurement {
            case: case.to_owned(),
            system: system.to_owned(),
            median_ns: None,
            p99_ns: None,
            per_s: Some(per_s),
            samples: 0,
            reader_per_s: None,
            reader_share: None,
            writer_cpu_ns: None,
            reader_cpu_ns: None,
        }
    }

    /// An end-to-end throughput figure (bytes per second of `len`-byte
    /// frames), with the reader's CPU time per frame.
    pub fn throughput(case: &str, system: &str, timed: &crate::Timed, len: usize) -> Measurement {
        Measurement {
            reader_cpu_ns: timed.reader_cpu_ns_per_frame(),
            ..Measurement::rate(case, system, timed.bytes_per_s(len))
        }
    }

    /// A writer-rate figure (frames per second), with what its readers got.
    pub fn writer_rate(case: &str, system: &str, timed: &crate::Timed) -> Measurement {
        Measurement {
            reader_per_s: timed.reader_frames_per_s(),
            reader_share: timed.reader_share(),
            writer_cpu_ns: timed.writer_cpu_ns_per_frame(),
            ..Measurement::rate(case, system, timed.frames_per_s())
        }
    }

    /// The figure that ratios compare: the median, or the rate.
    fn headline(&self) -> f64 {
        self.median_ns.or(self.per_s).unwrap_or(f64::NAN)
    }

    /// This figure relative to `other`'s, as "how many times as much".
    pub fn ratio_to(&self, other: &Measurement) -> f64 {
        self.headline() / other.headline()
    }
}

fn find<'a>(all: &'a [Measurement], case: &str, system: &str) -> Option<&'a Measurement> {
    all.iter().find(|m| m.case == case && m.system == system)
}

/// A human-readable value: nanoseconds as ns/µs/ms, rates as GB/s or frames/s.
fn show(m: &Measurement, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".into();
    };
    if m.per_s.is_some() {
        if m.case.starts_with("throughput") {
            format!("{:.2} GB/s", v / 1e9)
        } else {
            format!("{v:.0} fr/s")
        }
    } else if v < 10_000.0 {
        format!("{v:.0} ns")
    } else if v < 10_000_000.0 {
        format!("{:.1} µs", v / 1e3)
    } else {
        format!("{:.1} ms", v / 1e6)
    }
}

/// The table of a run: per case, each system's median (or rate), p99, and
/// its figure as a multiple of the floor's and of shmframe's in the same case.
/// Latency ratios above 1 are slower; rate ratios below 1 are slower.
pub fn table(all: &[Measurement]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<28} {:<22} {:>14} {:>12} {:>9} {:>11}  note",
        "case", "system", "median / rate", "p99", "x floor", "x shmframe"
    );
    let mut cases: Vec<&str> = Vec::new();
    for m in all {
        if !cases.contains(&m.case.as_str()) {
            cases.push(&m.case);
        }
    }
    for case in cases {
        let floor = find(all, case, "floor");
        // The case's `shmframe` row, or else its first shmframe row (cases of
        // shmframe variants only: holds, holding readers).
        let shm = find(all, case, "shmframe").or_else(|| {
            all.iter()
                .find(|m| m.case == case && m.system.starts_with("shmframe"))
        });
        for m in all.iter().filter(|m| m.case == case) {
            let ratio = |base: Option<&Measurement>| match base {
                Some(b) => format!("{:.2}", m.ratio_to(b)),
                None => "-".into(),
            };
            let note = note(m);
            let _ = writeln!(
                out,
                "{:<28} {:<22} {:>14} {:>12} {:>9} {:>11}  {}",
                m.case,
                m.system,
                show(m, m.median_ns.or(m.per_s)),
                show(m, m.p99_ns),
                ratio(floor),
                ratio(shm),
                note
            );
        }
    }
    out
}

/// What a rate row adds: the writer's CPU time per frame and what each reader
/// got (writer rates), or the reader's CPU time per frame (throughput).
fn note(m: &Measurement) -> String {
    let cpu = m
        .writer_cpu_ns
        .map(|ns| format!("writer CPU {ns:.0} ns/frame"))
        .or_else(|| {
            m.reader_cpu_ns
                .map(|ns| format!("reader CPU {ns:.0} ns/frame"))
        });
    let readers = m.reader_per_s.map(|r| {
        let share = m.reader_share.unwrap_or(f64::NAN) * 100.0;
        format!("each reader got {r:.0} fr/s ({share:.0}% of frames)")
    });
    cpu.into_iter()
        .chain(readers)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The run as a JSON array, one object per measurement.
pub fn json(all: &[Measurement]) -> String {
    let items: Vec<serde_json::Value> = all
        .iter()
        .map(|m| {
            let mut obj = serde_json::Map::new();
            obj.insert("case".into(), m.case.clone().into());
            obj.insert("system".into(), m.system.clone().into());
            let mut put = |key: &str, v: Option<f64>| {
                if let Some(v) = v {
                    obj.insert(key.into(), serde_json::json!(v.round()));
                }
            };
            put("median_ns", m.median_ns);
            put("p99_ns", m.p99_ns);
            put("per_s", m.per_s);
            put("reader_frames_per_s", m.reader_per_s);
            put("writer_cpu_ns_per_frame", m.writer_cpu_ns);
            put("reader_cpu_ns_per_frame", m.reader_cpu_ns);
            if let Some(share) = m.reader_share {
                obj.insert("reader_share".into(), serde_json::json!(share));
            }
            if m.samples > 0 {
                obj.insert("samples".into(), m.samples.into());
            }
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|e| format!("\"{e}\""))
}
