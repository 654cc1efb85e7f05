//! `shmframe bench`: shmframe's latency and throughput on this machine, beside
//! the physical floor measured in the same run.
//!
//! The measurements live in the `shmframe-measure` crate (benches/measure/),
//! shared with the `shmframe-benches` crate, which adds the peer systems
//! (a locked buffer, a Unix socket, iceoryx2). Reader processes are this
//! executable started again with the same arguments and
//! `SHMFRAME_BENCH_ROLE` set: [`run`] hands such a process to its role first.

use crate::fail::{CliError, CliResult};
use crate::output::outln;
use clap::Args;
use shmframe_measure::{report, run_all, Plan};

/// Measure shmframe's latency and throughput on this machine, beside the physical floor.
///
/// Cases: one-way latency (64 B with a polling and a futex-sleeping reader,
/// 1920x1080 RGBA with a polling one), end-to-end throughput (1080p and 4K
/// RGBA), the writer's publish rate with 0 and 8 reading readers, and the
/// futex latency with writer and reader on one CPU. Each case is set beside
/// its floor: one cache line, a raw shared futex wake, plain memcpy; each
/// futex case also beside a reader woken through its readiness fd (`poll`).
/// Readers run in child processes, pinned to another CPU than the writer.
/// The machine should be otherwise idle; figures from a busy one are noise.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Measure briefly (well under a minute) instead of for a few minutes.
    #[arg(long)]
    pub quick: bool,

    /// Print a JSON array, one object per measurement: case, system, and
    /// median_ns and p99_ns (latency) or per_s (bytes/s or frames/s).
    #[arg(long)]
    pub json: bool,
}

/// Runs `shmframe bench` (or, in a reader child, that child's role).
pub fn run(args: BenchArgs) -> CliResult<()> {
    // A reader child started by a measurement runs its role and exits here.
    shmframe_measure::child_entry();
    let cpus = shmframe_measure::affinity::allowed_cpus();
    if cpus.len() < 2 {
        eprintln!("shmframe bench: only one CPU available; writer and readers share it");
    }
    let plan = Plan {
        quick: args.quick,
        only: None,
    };
    let all = run_all(plan, |case| eprintln!("measuring {case} ..."))
        .map_err(|e| CliError::new(format!("benchmark failed: {e}")))?;
    if args.json {
        outln!("{}", report::json(&all));
    } else {
        outln!("{}", report::table(&all).trim_end());
    }
    Ok(())
}
