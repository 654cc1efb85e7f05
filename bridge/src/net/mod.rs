//! The network side: Zenoh sessions, the exporter and importer loops, and
//! their live status and reports.

mod config;
mod export;
mod import;
mod report;
mod status;

pub use config::{ZenohArgs, ZenohMode};
pub use export::{export, ExportOptions};
pub use import::{import, ImportOptions};

use std::time::{SystemTime, UNIX_EPOCH};

/// How often a loop looks up from a wait to check for a stop request.
const POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// CLOCK_REALTIME in nanoseconds since the Unix epoch (0 if the clock is before it).
fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
