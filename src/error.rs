//! The one error type of the crate, with messages a user can act on.

use std::path::PathBuf;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when writing or reading a stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The stream name is not allowed.
    #[error("invalid stream name \"{name}\": {reason}")]
    InvalidName { name: String, reason: String },

    /// No segment exists for the name.
    #[error("no stream named `{name}`: is a writer running?")]
    NoStream { name: String },

    /// Another process is publishing under the name.
    #[error(
        "stream `{name}` already has a live writer (pid {pid}); stop it or choose another --name"
    )]
    WriterExists { name: String, pid: u32 },

    /// The segment belongs to another user.
    #[error("{} is owned by uid {uid}, not by you (uid {me}); refusing to use it (a reader can trust that user explicitly)", path.display())]
    ForeignOwner { path: PathBuf, uid: u32, me: u32 },

    /// The segment path is a symlink or not a regular file.
    #[error("{} is not a regular file (a symlink or something else planted there); refusing to follow it", path.display())]
    NotRegularFile { path: PathBuf },

    /// The segment's header is not a valid shmframe header.
    #[error("not a valid shmframe segment: {reason}")]
    BadSegment { reason: String },

    /// The frame metadata in the segment is inconsistent.
    #[error("corrupt frame in the segment: {reason}")]
    CorruptFrame { reason: String },

    /// The frame uses a pixel format this build does not know (written by a newer shmframe).
    #[error("the frame's pixel format code {code} is unknown to this version of shmframe (a newer writer?): upgrade the reader")]
    UnknownFormat { code: u32 },

    /// Frame metadata given to the writer is inconsistent.
    #[error("invalid frame: {reason}")]
    BadFrame { reason: String },

    /// The frame does not fit in a slot.
    #[error("frame of {len} bytes does not fit the slot capacity of {capacity} bytes; create the writer with a larger capacity")]
    FrameTooLarge { len: usize, capacity: usize },

    /// The pixel slice does not match the frame metadata.
    #[error("got {got} bytes of pixels, but the frame metadata says {expected}")]
    LengthMismatch { got: usize, expected: usize },

    /// The caller's buffer is smaller than the frame; nothing was read.
    #[error("the frame is {len} bytes but the buffer holds only {got}: read its size first (the frame's metadata) and pass a buffer at least that large")]
    BufferTooSmall { len: usize, got: usize },

    /// The reader could not get a consistent copy in a bounded number of attempts.
    #[error("could not read a consistent frame after {attempts} attempts: the writer kept overwriting it (a reader slower than the writer needs more slots), or the segment is corrupt")]
    Starved { attempts: u32 },

    /// The segment file was truncated while this reader had it mapped.
    #[error("the segment of stream `{name}` was truncated while it was being read (by a process of its owner); this read failed and the reader follows the next writer of the name")]
    Truncated { name: String },

    /// A hold was asked for but none is free (all taken, none granted yet, or the writer honours none).
    #[error("no hold is free: every hold the writer honours is taken, or this reader's were not granted yet; read a copy instead")]
    NoHoldFree,

    /// Options out of range.
    #[error("invalid options: {0}")]
    InvalidOptions(String),

    /// The environment points somewhere unusable.
    #[error("invalid environment: {0}")]
    InvalidEnvironment(String),

    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an OS error with what was being done (unused in loom builds, which have no OS part).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn io(context: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        Error::Io {
            context: context.into(),
            source: source.into(),
        }
    }
}
