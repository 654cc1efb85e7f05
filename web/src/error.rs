//! The server's error: why it could not start.

/// What stops `shmframe web` from serving.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source} (is another server using the port? choose another with --listen)")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}
