//! `shmframe list`: the streams that exist, and whether their writers live.

use crate::fail::CliResult;
use crate::output::outln;
use clap::Args;
use serde_json::Value;

/// List the streams in /dev/shm (or $SHMFRAME_DIR) with their writers.
///
/// A stream whose writer is not alive was left by a process that died; the
/// next writer of that name replaces it, or `shmframe rm NAME` removes it.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print a JSON array of objects: name, writer_pid, alive, slots,
    /// slot_capacity, frames_published, and the latest frame's width, height,
    /// stride, format, pix_fmt, number, timestamp_ns, age_ms (null before the
    /// first frame); or name, alive (false) and error if unreadable.
    #[arg(long)]
    pub json: bool,
}

/// Runs `shmframe list`.
pub fn run(args: ListArgs) -> CliResult<()> {
    let entries: Vec<Value> = shmframe::list_streams()?
        .iter()
        .map(|name| shmframe_web::describe_stream(name))
        .collect();
    if args.json {
        outln!("{}", Value::Array(entries));
        return Ok(());
    }
    if entries.is_empty() {
        outln!("no streams in {}", shmframe::segment_dir()?.display());
        return Ok(());
    }
    outln!(
        "{:<24} {:>8} {:<6} {:>5} {:>12} {:>10}",
        "NAME",
        "WRITER",
        "ALIVE",
        "SLOTS",
        "CAPACITY",
        "FRAMES"
    );
    for entry in &entries {
        let name = entry["name"].as_str().unwrap_or("?");
        if let Some(error) = entry["error"].as_str() {
            outln!("{name:<24} unreadable: {error}");
            continue;
        }
        let alive = if entry["alive"] == Value::Bool(true) {
            "yes"
        } else {
            "no"
        };
        // serde_json's Display ignores widths: format the numbers as strings.
        let field = |key: &str| entry[key].to_string();
        outln!(
            "{name:<24} {:>8} {alive:<6} {:>5} {:>12} {:>10}",
            field("writer_pid"),
            field("slots"),
            field("slot_capacity"),
            field("frames_published")
        );
    }
    Ok(())
}
