//! Every case, every system, side by side in one run.

use crate::{classic, iox, socket};
use shmframe_measure::{run_with, BenchResult, Measurement, Plan, System, ZeroCopy};

/// The peers measured beside shmframe and the floor.
pub const PEERS: [System; 3] = [
    System {
        name: "classic-lock",
        latency: classic::latency,
        throughput: classic::throughput,
        writer_rate: classic::writer_rate,
        needs_readers: false,
        zero_copy: None,
    },
    System {
        name: "unix-socket",
        latency: socket::latency,
        throughput: socket::throughput,
        writer_rate: socket::writer_rate,
        // A socket with nobody on the other end carries nothing.
        needs_readers: true,
        zero_copy: None,
    },
    System {
        name: "iceoryx2",
        latency: iox::latency,
        throughput: iox::throughput,
        writer_rate: iox::writer_rate,
        needs_readers: false,
        // Samples lent in place; subscribers that copy, timed the same way.
        zero_copy: Some(ZeroCopy {
            in_place_name: "iceoryx2-zero-copy",
            in_place: iox::latency_zero_copy,
            copy_name: "iceoryx2-copy",
            copy: iox::latency_copy_at_send,
        }),
    },
];

/// Runs all cases for all systems; `progress` hears each case's name as it starts.
pub fn run_all(plan: Plan, progress: impl FnMut(&str)) -> BenchResult<Vec<Measurement>> {
    run_with(plan, &PEERS, progress)
}
