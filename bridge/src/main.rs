//! `shmframe-bridge`: export a local shmframe stream to Zenoh, or import one
//! from Zenoh into a local stream.

use clap::{Parser, Subcommand};
use shmframe_bridge::net::{self, ExportOptions, ImportOptions, ZenohArgs};
use shmframe_bridge::{Codec, Error, Limits};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "shmframe-bridge",
    version,
    about = "Carry a shmframe stream to other hosts through Zenoh",
    after_help = "Host A: shmframe-bridge export --name cam0 --listen tcp/0.0.0.0:7447\n\
                  Host B: shmframe-bridge import --name cam0 --connect tcp/HOST-A:7447"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Put the frames of a local stream on a Zenoh key.
    Export {
        /// Local stream to read.
        #[arg(long)]
        name: String,
        /// Zenoh key (default shmframe/NAME).
        #[arg(long)]
        key: Option<String>,
        /// raw, lossless (= qoi), lz4, qoi, jpeg or jpeg:QUALITY (1-100, default 85).
        #[arg(long, default_value = "lossless", value_parser = parse_codec)]
        codec: Codec,
        /// Send every frame, in order and reliably (default: the latest frame; a slow link drops stale ones).
        #[arg(long)]
        every: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Republish the frames on a Zenoh key into a local stream.
    Import {
        /// Zenoh key (default shmframe/NAME).
        #[arg(long)]
        key: Option<String>,
        /// Local stream to create.
        #[arg(long)]
        name: String,
        /// Slots of the local stream (more let in-order readers fall further behind).
        #[arg(long, default_value_t = 2)]
        slots: usize,
        /// Take every message in order (default: the latest; use with `export --every`).
        #[arg(long)]
        every: bool,
        /// Largest frame accepted, in MiB; larger claims are refused.
        #[arg(long, default_value_t = 256, value_name = "MIB")]
        max_frame_mib: usize,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
struct Common {
    #[command(flatten)]
    zenoh: ZenohArgs,
    /// No live status line.
    #[arg(short, long)]
    quiet: bool,
    /// Write counters and latency percentiles as JSON to FILE (every second and at exit).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

fn parse_codec(text: &str) -> Result<Codec, String> {
    Codec::parse(text).map_err(|e| e.to_string())
}

/// The key for `name`: `key` if given (checked as a Zenoh key expression), else `shmframe/NAME`.
fn key_for(name: &str, key: Option<String>) -> Result<String, Error> {
    shmframe::validate_name(name).map_err(|e| Error::Usage(e.to_string()))?;
    let key = key.unwrap_or_else(|| format!("shmframe/{name}"));
    zenoh::key_expr::KeyExpr::try_from(key.as_str())
        .map_err(|e| Error::Usage(format!("invalid Zenoh key `{key}`: {e}")))?;
    Ok(key)
}

fn run(cli: Cli, stop: &AtomicBool) -> Result<(), Error> {
    match cli.command {
        Command::Export {
            name,
            key,
            codec,
            every,
            common,
        } => {
            let options = ExportOptions {
                key: key_for(&name, key)?,
                name,
                codec,
                every,
                quiet: common.quiet,
                report: common.report,
            };
            net::export(&options, common.zenoh.to_config()?, stop)
        }
        Command::Import {
            key,
            name,
            slots,
            every,
            max_frame_mib,
            common,
        } => {
            let max_frame_bytes = max_frame_mib
                .checked_mul(1 << 20)
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    Error::Usage(format!("--max-frame-mib {max_frame_mib} is out of range"))
                })?;
            let options = ImportOptions {
                key: key_for(&name, key)?,
                name,
                slots,
                every,
                limits: Limits { max_frame_bytes },
                quiet: common.quiet,
                report: common.report,
            };
            net::import(&options, common.zenoh.to_config()?, stop)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Ctrl-C and SIGTERM stop the loops, so the local stream is closed cleanly.
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)) {
        eprintln!("shmframe-bridge: cannot install the signal handler: {e}");
        return ExitCode::FAILURE;
    }
    match run(cli, &stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ Error::Usage(_)) => {
            eprintln!("shmframe-bridge: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("shmframe-bridge: {e}");
            ExitCode::FAILURE
        }
    }
}
