//! `shmframe publish`: the choice between files, test pattern and stdin.

use crate::fail::{CliError, CliResult};
use crate::publish_args::PublishArgs;
use crate::{publish_files, publish_pattern, publish_raw};

/// Runs `shmframe publish`.
pub fn run(args: PublishArgs) -> CliResult<()> {
    // Check the name before decoding anything, so a typo fails fast.
    shmframe::validate_name(&args.name).map_err(CliError::from)?;
    if let Some(size) = args.pattern {
        publish_pattern::run(&args, size)
    } else if let (Some(size), Some(format)) = (args.raw, args.format) {
        publish_raw::run(&args, size, format)
    } else {
        publish_files::run(&args)
    }
}
