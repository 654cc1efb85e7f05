//! Child processes that are always ended, on every exit path: when this
//! process returns or unwinds (the guard's drop), and when it is killed
//! outright (the kernel's parent-death signal).

use crate::fail::{CliError, CliResult};
use rustix::process::{
    getpid, getppid, kill_process, set_parent_process_death_signal, Pid, Signal,
};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus};
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
    ///
    /// The child gets SIGTERM from the kernel if this process dies, even by
    /// SIGKILL. Call this from the main thread (or a thread that outlives the
    /// child): Linux sends the parent-death signal when the *thread* that
    /// forked the child exits, not only when the process does.
    pub fn spawn(command: &mut Command, what: &str) -> CliResult<GuardedChild> {
        Self::spawn_or(command, what, |e| {
            CliError::new(format!("cannot start {what}: {e}"))
        })
    }

    /// [`GuardedChild::spawn`], with the error for a failed start made by `failed`
    /// (for example to say how to install a missing program).
    pub fn spawn_or(
        command: &mut Command,
        what: &str,
        failed: impl FnOnce(std::io::Error) -> CliError,
    ) -> CliResult<GuardedChild> {
        die_with_parent(command);
        let child = command.spawn().map_err(failed)?;
        Ok(GuardedChild {
            child,
            what: what.to_string(),
        })
    }

    /// The child's standard input, if it was piped and not yet taken.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The child's standard error, if it was piped and not yet taken.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// The child's standard output, if it was piped and not yet taken.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Waits up to `within` for the child to exit by itself (then stops it);
    /// its status if that could be learned.
    pub fn finish(&mut self, within: Duration) -> Option<ExitStatus> {
        self.exit_within(within).or_else(|| self.stop())
    }

    /// The child's status once it exits, waiting up to `within`; `None` if it has not.
    fn exit_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => return None,
            }
        }
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
            if let Some(status) = self.exit_within(GRACE) {
                return Some(status);
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

/// Has the kernel send the child SIGTERM when this process (precisely: the
/// spawning thread) ends, so a child never outlives a killed parent.
///
/// SIGTERM rather than SIGKILL, because a `shmframe publish` child removes its
/// stream's name only when it exits cleanly, and ffmpeg ends its output file.
fn die_with_parent(command: &mut Command) {
    let parent = getpid();
    let hook = move || -> std::io::Result<()> {
        set_parent_process_death_signal(Some(Signal::TERM))?;
        // If the parent died between fork and prctl, the signal will never
        // come: the child has been re-parented already, so give up the exec.
        if getppid() != Some(parent) {
            return Err(rustix::io::Errno::SRCH.into());
        }
        Ok(())
    };
    // SAFETY: `pre_exec` runs the hook in the child between fork and exec,
    // where only async-signal-safe work is allowed (another thread of the
    // parent may have held a lock at the fork). The hook makes two system
    // calls through rustix (prctl(PR_SET_PDEATHSIG), getppid), which neither
    // allocate nor lock, compares two integers (`parent` is a copied pid), and
    // builds its error from an errno without allocating.
    unsafe {
        command.pre_exec(hook);
    }
}
