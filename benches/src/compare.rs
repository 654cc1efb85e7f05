//! Every case, every system, side by side in one run.

use crate::{classic, iox, socket};
use shmframe::bench::{
    latency, latency_cases, throughput, throughput_cases, writer_rate, writer_rate_case,
    writer_rate_cases, BenchResult, Cpus, Measurement, Plan, Timed, Wake,
};
use std::time::Duration;

/// Runs all cases for all systems; `progress` hears each case's name as it starts.
pub fn run_all(plan: Plan, mut progress: impl FnMut(&str)) -> BenchResult<Vec<Measurement>> {
    let cpus = Cpus::split();
    let mut out = Vec::new();
    for (case, len, wake, samples) in latency_cases(plan) {
        progress(case);
        let floor = if len <= 64 {
            match wake {
                Wake::Poll => latency::floor_cache_line(cpus, samples)?,
                Wake::Sleep => latency::floor_futex(cpus, samples)?,
            }
        } else {
            latency::floor_memcpy(len, cpus, samples)?
        };
        out.push(Measurement::latency(case, "floor", &floor));
        let systems: [(&str, LatencyFn); 4] = [
            ("shmframe", latency::shmframe),
            ("classic-lock", classic::latency),
            ("unix-socket", socket::latency),
            ("iceoryx2", iox::latency),
        ];
        for (system, run) in systems {
            out.push(Measurement::latency(
                case,
                system,
                &run(len, wake, cpus, samples)?,
            ));
        }
    }
    for (case, len) in throughput_cases() {
        progress(case);
        let frames = plan.throughput_frames(len);
        let systems: [(&str, ThroughputFn); 5] = [
            ("floor", throughput::floor),
            ("shmframe", throughput::shmframe),
            ("classic-lock", classic::throughput),
            ("unix-socket", socket::throughput),
            ("iceoryx2", iox::throughput),
        ];
        for (system, run) in systems {
            let timed = run(len, cpus, frames, plan.budget())?;
            out.push(Measurement::rate(case, system, timed.bytes_per_s(len)));
        }
    }
    let frames = plan.writer_rate_frames();
    for (len, readers) in writer_rate_cases() {
        let case = writer_rate_case(len, readers);
        progress(&case);
        if readers == 0 {
            let floor = writer_rate::floor(len, cpus, frames, plan.budget())?;
            out.push(Measurement::writer_rate(&case, "floor", &floor));
        }
        let mut systems: Vec<(&str, RateFn)> = vec![
            ("shmframe", writer_rate::shmframe),
            ("classic-lock", classic::writer_rate),
            ("iceoryx2", iox::writer_rate),
        ];
        if readers > 0 {
            // A socket with nobody on the other end carries nothing.
            systems.insert(2, ("unix-socket", socket::writer_rate));
        }
        for (system, run) in systems {
            let timed = run(len, readers, cpus, frames, plan.budget())?;
            out.push(Measurement::writer_rate(&case, system, &timed));
        }
    }
    let case = "latency_64B_futex_same_core";
    progress(case);
    let same = Cpus::same();
    let samples = plan.small_latency_samples(Wake::Sleep);
    out.push(Measurement::latency(
        case,
        "floor",
        &latency::floor_futex(same, samples)?,
    ));
    let systems: [(&str, LatencyFn); 4] = [
        ("shmframe", latency::shmframe),
        ("classic-lock", classic::latency),
        ("unix-socket", socket::latency),
        ("iceoryx2", iox::latency),
    ];
    for (system, run) in systems {
        out.push(Measurement::latency(
            case,
            system,
            &run(64, Wake::Sleep, same, samples)?,
        ));
    }
    Ok(out)
}

type LatencyFn = fn(usize, Wake, Cpus, usize) -> BenchResult<Vec<u64>>;
type ThroughputFn = fn(usize, Cpus, u64, Duration) -> BenchResult<Timed>;
type RateFn = fn(usize, usize, Cpus, u64, Duration) -> BenchResult<Timed>;
