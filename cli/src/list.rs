//! `shmframe list`: the streams that exist, and whether their writers live.

use crate::fail::CliResult;
use crate::output::outln;
use clap::Args;
use serde_json::{json, Value};
use shmframe::Reader;

/// List the streams in /dev/shm (or $SHMFRAME_DIR) with their writers.
///
/// A stream whose writer is not alive was left by a process that died; the
/// next writer of that name replaces it, or `shmframe rm NAME` removes it.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print a JSON array of objects: name, writer_pid, alive, slots,
    /// slot_capacity, frames_published (or name and error if unreadable).
    #[arg(long)]
    pub json: bool,
}

/// Runs `shmframe list`.
pub fn run(args: ListArgs) -> CliResult<()> {
    let entries: Vec<Value> = shmframe::list_streams()?
        .iter()
        .map(|name| describe(name))
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

/// One stream's entry; an unreadable segment is described, not fatal.
fn describe(name: &str) -> Value {
    match Reader::open(name) {
        Ok(reader) => {
            let status = reader.status();
            json!({
                "name": name,
                "writer_pid": status.writer_pid,
                "alive": status.alive,
                "slots": status.slots,
                "slot_capacity": status.slot_capacity,
                "frames_published": status.frames_published,
            })
        }
        Err(err) => json!({ "name": name, "error": err.to_string() }),
    }
}
