//! Child processes: this executable started again in a role.
//!
//! [`spawn`] starts the current executable with the same arguments and
//! [`ROLE_ENV`] naming the role; the child's `main` calls [`child_entry`]
//! first, which runs the role, prints its results (numbers, one line) on
//! stdout and exits. Parameters travel as `SHMFRAME_BENCH_ARG_*` variables.

use crate::affinity::pin;
use crate::{latency, seqlock, throughput, writer_rate, BenchResult};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The variable that makes a process a benchmark child, naming its role.
pub const ROLE_ENV: &str = "SHMFRAME_BENCH_ROLE";
const ARG_PREFIX: &str = "SHMFRAME_BENCH_ARG_";

/// The parameters a child was started with.
pub struct ChildArgs(());

impl ChildArgs {
    /// Parameter `key`, parsed.
    pub fn get<T: FromStr>(&self, key: &str) -> BenchResult<T> {
        let raw = std::env::var(format!("{ARG_PREFIX}{key}"))
            .map_err(|_| format!("benchmark child: missing parameter {key}"))?;
        raw.parse()
            .map_err(|_| format!("benchmark child: bad parameter {key}={raw}"))
    }
}

/// A running child; killed if dropped before [`RoleChild::finish`].
pub struct RoleChild {
    child: Option<std::process::Child>,
    role: String,
}

impl RoleChild {
    /// Waits for the child to exit and returns the numbers it printed.
    pub fn finish(mut self) -> BenchResult<Vec<u64>> {
        let child = self.child.take().ok_or("child already finished")?;
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for the {} child: {e}", self.role))?;
        if !out.status.success() {
            return Err(format!("the {} child failed ({})", self.role, out.status));
        }
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(|w| {
                w.parse()
                    .map_err(|_| format!("the {} child printed `{w}`", self.role))
            })
            .collect()
    }

    /// Whether the child has already exited.
    pub fn exited(&mut self) -> bool {
        match &mut self.child {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }
}

impl Drop for RoleChild {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts this executable again as a `role` child pinned to `cpu`, with parameters `args`.
pub fn spawn(role: &str, cpu: Option<usize>, args: &[(&str, String)]) -> BenchResult<RoleChild> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1))
        .env(ROLE_ENV, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(cpu) = cpu {
        cmd.env(format!("{ARG_PREFIX}CPU"), cpu.to_string());
    }
    for (key, value) in args {
        cmd.env(format!("{ARG_PREFIX}{key}"), value);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting the {role} child: {e}"))?;
    Ok(RoleChild {
        child: Some(child),
        role: role.to_owned(),
    })
}

/// Spins (or yields, if `polite`) until `done()` holds; fails after `limit`.
pub fn wait_until(
    limit: Duration,
    polite: bool,
    mut done: impl FnMut() -> bool,
) -> BenchResult<()> {
    let start = Instant::now();
    let mut spins = 0u32;
    while !done() {
        spins = spins.wrapping_add(1);
        if polite {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
        if spins % 4096 == 0 && start.elapsed() > limit {
            return Err("a benchmark process stopped answering".into());
        }
    }
    Ok(())
}

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
    let args = ChildArgs(());
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
