//! `shmframe rm`: remove a stream's name.

use crate::fail::{CliError, CliResult};
use crate::output::outln;
use clap::Args;
use shmframe::Error;

/// Remove a stream left behind by a writer that died.
///
/// A stream whose writer is alive is refused unless --force; with --force the
/// name is removed, readers lose it, and the writer keeps running unseen.
#[derive(Args, Debug)]
pub struct RmArgs {
    /// Name of the stream to remove.
    pub name: String,

    /// Remove it even if its writer is alive.
    #[arg(long)]
    pub force: bool,
}

/// Runs `shmframe rm`.
pub fn run(args: RmArgs) -> CliResult<()> {
    match shmframe::remove_stream(&args.name, args.force) {
        Ok(()) => {
            outln!("removed stream `{}`", args.name);
            Ok(())
        }
        Err(Error::WriterExists { name, pid }) => Err(CliError::new(format!(
            "stream `{name}` has a live writer (pid {pid}); stop that process, or use --force to remove the name anyway"
        ))),
        Err(err) => Err(err.into()),
    }
}
