//! Child processes that are always ended, on every exit path.

use crate::fail::{CliError, CliResult};
use rustix::process::{kill_process, Pid, Signal};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// How long a child gets to exit cleanly after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// A running child, asked to stop (SIGTERM, then SIGKILL) when dropped.
///
/// SIGTERM first, because a `shmframe publish` child removes its stream's
/// name only when it exits cleanly.
pub struct GuardedChild {
    child: Child,
    what: String,
}

impl GuardedChild {
    /// Starts `command`; `what` names the child in messages.
    pub fn spawn(command: &mut Command, what: &str) -> CliResult<GuardedChild> {
        let child = command
            .spawn()
            .map_err(|e| CliError::new(format!("cannot start {what}: {e}")))?;
        Ok(GuardedChild {
            child,
            what: what.to_string(),
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's exit status, if it has exited.
    pub fn exited(&mut self) -> CliResult<Option<ExitStatus>> {
        self.child
            .try_wait()
            .map_err(|e| CliError::new(format!("checking on {}: {e}", self.what)))
    }

    /// Stops the child and waits for it; returns its status if that could be learned.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw);
        if let Some(pid) = pid {
            // The child is ours and not yet reaped, so the pid cannot have been reused.
            let _ = kill_process(pid, Signal::TERM);
            let deadline = Instant::now() + GRACE;
            while Instant::now() < deadline {
                match self.child.try_wait() {
                    Ok(Some(status)) => return Some(status),
                    Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => break,
                }
            }
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for GuardedChild {
    fn drop(&mut self) {
        self.stop();
    }
}
