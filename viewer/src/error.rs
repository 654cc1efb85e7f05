//! The viewer's one error type, and the exit code for each kind.

/// Why the viewer stopped.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    /// No window can be opened.
    #[error("no display ({0}): set DISPLAY or use `shmframe snapshot`/`shmframe demo` headless")]
    NoDisplay(String),

    /// The stream name is not allowed.
    #[error("{0}")]
    BadName(shmframe::Error),

    /// The window failed after it opened.
    #[error("window: {0}")]
    Window(String),
}

impl ViewerError {
    /// The process exit code: 2 for usage errors, as clap uses, 3 for no display.
    pub fn exit_code(&self) -> i32 {
        match self {
            ViewerError::BadName(_) => 2,
            ViewerError::NoDisplay(_) => 3,
            ViewerError::Window(_) => 1,
        }
    }
}
