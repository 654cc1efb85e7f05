//! What the server is told on the command line.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How `shmframe web` serves.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address and port to listen on (loopback by default).
    pub listen: SocketAddr,
    /// A secret every request must carry (`?token=` or `Authorization: Bearer`).
    pub token: Option<String>,
    /// JPEG quality (1-100) when a client names none.
    pub quality: u8,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// How long a client may take to send its request head, or to take one
    /// write (a client that stops reading is cut off after this).
    pub io_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            token: None,
            quality: 80,
            max_connections: 1024,
            io_timeout: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Checks the settings' ranges.
    pub fn validate(&self) -> Result<(), crate::WebError> {
        if !(1..=100).contains(&self.quality) {
            return Err(crate::WebError::Config(format!(
                "JPEG quality {} is not in 1..=100",
                self.quality
            )));
        }
        if self.token.as_deref() == Some("") {
            return Err(crate::WebError::Config(
                "an empty token would let anyone in: give a secret or leave --token out".into(),
            ));
        }
        if self.io_timeout.is_zero() {
            return Err(crate::WebError::Config(
                "the I/O timeout must be above zero".into(),
            ));
        }
        if self.max_connections == 0 {
            return Err(crate::WebError::Config(
                "at least one connection must be allowed".into(),
            ));
        }
        Ok(())
    }

    /// Whether the server can be reached from other machines.
    pub fn beyond_loopback(&self) -> bool {
        !self.listen.ip().is_loopback()
    }
}
