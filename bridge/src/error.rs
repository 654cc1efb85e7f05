//! The one error type of the bridge, with messages a user can act on.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while exporting or importing a stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A received message is not a valid bridge message; it was dropped.
    #[error("refused a message: {reason}")]
    Refused { reason: String },

    /// A frame could not be encoded with the chosen codec.
    #[error("cannot encode the frame: {reason}")]
    Encode { reason: String },

    /// The local stream failed.
    #[error(transparent)]
    Stream(#[from] shmframe::Error),

    /// Zenoh refused the configuration or failed to open a session.
    #[error("zenoh: {0}")]
    Zenoh(String),

    /// A command-line option or configuration value is unusable.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// A refusal of received input, with the reason.
    pub(crate) fn refused(reason: impl Into<String>) -> Self {
        Error::Refused {
            reason: reason.into(),
        }
    }
}
