//! The tool's error: a message for the user, printed once by `main`.

use std::fmt;

/// Anything that stops a subcommand. The message is complete: it names the
/// file, stream or argument at fault and, where there is one, what to do.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl From<shmframe::Error> for CliError {
    fn from(err: shmframe::Error) -> Self {
        CliError(err.to_string())
    }
}

/// Result with the tool's error.
pub type CliResult<T> = Result<T, CliError>;
