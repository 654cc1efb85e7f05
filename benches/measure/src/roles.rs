//! The roles a benchmark child can run: which measurement's reader each role
//! name starts. Above the measurements (they spawn children through
//! `child.rs`), so nothing below imports it back.

use crate::affinity::pin;
use crate::child::{ChildArgs, ROLE_ENV};
use crate::{holds, latency, seqlock, throughput, writer_rate, BenchResult};

/// If this process is a benchmark child, runs its role and exits; otherwise returns.
pub fn child_entry() {
    child_entry_with(|_, _| None);
}

/// Like [`child_entry`], but offers the role to `extra` first (for roles
/// defined outside this crate); `extra` returns `None` for roles it does not know.
pub fn child_entry_with(extra: impl FnOnce(&str, &ChildArgs) -> Option<BenchResult<Vec<u64>>>) {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let args = ChildArgs::of_this_process();
    let result = args
        .get::<usize>("CPU")
        .ok()
        .map_or(Ok(None), |cpu| pin(Some(cpu)).map(Some))
        .and_then(|_pinned| {
            // The pin guard must outlive the role.
            let out = extra(&role, &args).unwrap_or_else(|| core_role(&role, &args));
            drop(_pinned);
            out
        });
    match result {
        Ok(values) => {
            let line: Vec<String> = values.iter().map(u64::to_string).collect();
            println!("{}", line.join(" "));
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("benchmark child `{role}`: {e}");
            std::process::exit(1);
        }
    }
}

fn core_role(role: &str, args: &ChildArgs) -> BenchResult<Vec<u64>> {
    match role {
        latency::ROLE_SHMFRAME => latency::shmframe_reader(args),
        holds::ROLE_HOLD_LATENCY => holds::hold_latency_reader(args),
        holds::ROLE_HOLD_RATE => holds::hold_rate_reader(args),
        latency::ROLE_SHMFRAME_FD => latency::shmframe_fd_reader(args),
        latency::ROLE_FLOOR_LINE => latency::floor_cache_line_reader(args),
        latency::ROLE_FLOOR_FUTEX => latency::floor_futex_reader(args),
        latency::ROLE_FLOOR_MEMCPY => latency::floor_memcpy_reader(args),
        seqlock::ROLE => seqlock::reader(args),
        seqlock::ROLE_RATE => seqlock::rate_reader(args),
        throughput::ROLE_SHMFRAME => throughput::shmframe_reader(args),
        throughput::ROLE_FLOOR => throughput::floor_reader(args),
        writer_rate::ROLE_SHMFRAME => writer_rate::shmframe_reader(args),
        _ => Err(format!("unknown benchmark role `{role}`")),
    }
}
