//! Benchmarks of shmframe against the physical floor and the alternatives a
//! user would otherwise pick, measured in the same run:
//!
//! - `floor`: one cache line, a raw shared futex, plain `memcpy` (from `shmframe_measure`);
//! - `classic-lock`: one buffer in shared memory under a process-shared pthread
//!   mutex, the reader holding it while it copies ([`classic`]);
//! - `unix-socket`: the frames through a Unix domain stream socket ([`socket`]);
//! - `iceoryx2`: iceoryx2 publish-subscribe, polling or waiting on its event service ([`iox`]).
//!
//! Every binary of this crate calls [`child_entry`] first: cross-process
//! measurements start the binary again as a child in a role.

pub mod classic;
pub mod compare;
pub mod criterion_setup;
pub mod iox;
pub mod socket;

use shmframe_measure::child::ChildArgs;
use shmframe_measure::BenchResult;

/// A reader child: runs with its arguments, returns the numbers it reports.
pub type RoleFn = fn(&ChildArgs) -> BenchResult<Vec<u64>>;

/// If this process is a benchmark child, runs its role and exits.
pub fn child_entry() {
    shmframe_measure::child_entry_with(|role, args| {
        [&classic::READERS[..], &socket::READERS, &iox::READERS]
            .into_iter()
            .flatten()
            .find(|(name, _)| *name == role)
            .map(|(_, reader)| reader(args))
    });
}

/// Removes files this process's iceoryx2 services left behind.
pub fn cleanup() {
    iox::cleanup();
}
