//! What every connection's handler shares.

use crate::hub::Hub;
use crate::Config;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// What every connection's handler shares.
pub struct Context {
    pub config: Config,
    pub hub: Arc<Hub>,
    /// Connections being served now (counted by the server's slots).
    pub(crate) connections: AtomicUsize,
}
