//! `shmframe`: publish, inspect and save shared-memory frame streams.
//!
//! Each subcommand lives in its own file; this one only parses the command
//! line, dispatches, and turns an error into a message and an exit code
//! (0 ok, 1 runtime error, 2 usage error from clap).

mod attach;
mod bench;
mod child;
mod color_names;
mod decode;
mod demo;
mod fail;
mod ffmpeg;
mod font;
mod frame_image;
mod info;
mod inputs;
mod latency;
mod list;
mod output;
mod pace;
mod pattern;
mod publish;
mod publish_args;
mod publish_files;
mod publish_pattern;
mod publish_raw;
mod publish_video;
mod rate;
mod record;
mod rm;
mod size;
mod snapshot;
mod status;
mod stop;
mod web;
mod y4m;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Stream image frames between processes through shared memory.
///
/// One `publish` writes a named stream; any number of readers (`snapshot`,
/// `info`, the viewer `shmframe-viewer`) read it. Streams live in /dev/shm
/// (or $SHMFRAME_DIR) as `shmframe.NAME`.
#[derive(Parser, Debug)]
#[command(name = "shmframe", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Publish(publish_args::PublishArgs),
    Snapshot(snapshot::SnapshotArgs),
    Info(info::InfoArgs),
    List(list::ListArgs),
    Record(record::RecordArgs),
    Rm(rm::RmArgs),
    Demo(demo::DemoArgs),
    Bench(bench::BenchArgs),
    Web(web::WebArgs),
}

fn run(cli: Cli) -> Result<(), fail::CliError> {
    match cli.command {
        Command::Publish(args) => publish::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Info(args) => info::run(args),
        Command::List(args) => list::run(args),
        Command::Record(args) => record::run(args),
        Command::Rm(args) => rm::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Web(args) => web::run(args),
    }
}

fn main() -> ExitCode {
    // Usage errors exit with clap's code 2 from inside `parse`.
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shmframe: {err}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
