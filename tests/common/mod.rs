//! Helpers for tests that run real processes: the test binary re-runs itself
//! as a child playing one role, chosen by environment variables.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// How long a test waits for a child's line before declaring it hung.
const LINE_TIMEOUT: Duration = Duration::from_secs(60);

/// A private segment directory on tmpfs (for O_TMPFILE), named `prefix...`,
/// removed when dropped, even when the test fails.
pub fn private_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/dev/shm")
        .expect("a directory in /dev/shm")
}

/// Makes [`private_dir`] this process's segment directory (`SHMFRAME_DIR`):
/// the cases of one test then run one after another in it.
pub fn use_private_dir(prefix: &str) -> tempfile::TempDir {
    let dir = private_dir(prefix);
    std::env::set_var(shmframe::DIR_ENV, dir.path());
    dir
}

/// The arguments that make this test binary run only its ignored test `entry`.
pub fn child_args(entry: &str) -> [&str; 5] {
    [
        "--exact",
        entry,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]
}

/// A stream name unique to this test process and `tag`.
pub fn unique_name(tag: &str) -> String {
    format!("test-{}-{tag}", std::process::id())
}

/// Deterministic pixels of frame `number`: every byte is a function of both.
pub fn pattern(number: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(31).wrapping_add(number * 7) as u8)
        .collect()
}

/// A running child process whose stdout lines arrive on a channel.
pub struct ChildProcess {
    pub child: Child,
    lines: Receiver<String>,
}

impl ChildProcess {
    /// Runs the ignored test `entry` of this test binary as a child with `envs`.
    pub fn spawn(entry: &str, envs: &[(&str, String)]) -> ChildProcess {
        let mut command = Command::new(std::env::current_exe().expect("test binary path"));
        command.args(child_args(entry)).envs(envs.iter().cloned());
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("spawn child test process");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProcess { child, lines }
    }

    /// Runs the ignored test `entry` as a child working on stream `name`
    /// (`SHMFRAME_TEST_NAME`).
    pub fn for_stream(entry: &str, name: &str) -> ChildProcess {
        ChildProcess::spawn(entry, &[("SHMFRAME_TEST_NAME", name.to_string())])
    }

    /// Reads stdout lines until one contains `marker`; returns what follows it.
    /// (The test harness may print `test NAME ... ` before the first line.)
    pub fn expect_line(&mut self, marker: &str) -> String {
        loop {
            let line = match self.lines.recv_timeout(LINE_TIMEOUT) {
                Ok(line) => line,
                Err(e) => {
                    let _ = self.child.kill();
                    panic!("child did not print `{marker}`: {e}");
                }
            };
            if let Some((_, rest)) = line.split_once(marker) {
                return rest.trim().to_string();
            }
        }
    }

    /// The lines printed since the last call, without waiting.
    pub fn drain(&mut self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Sends SIGKILL and reaps the child.
    pub fn kill(mut self) {
        self.child.kill().expect("kill child");
        self.child.wait().expect("reap child");
    }

    /// Closes the child's stdin (its signal to finish) and waits for its exit code.
    pub fn finish(mut self) -> i32 {
        drop(self.child.stdin.take());
        self.child.wait().expect("wait child").code().unwrap_or(-1)
    }
}

/// Blocks until stdin is closed (the parent's signal to finish).
pub fn wait_for_stdin_close() {
    let mut sink = String::new();
    while std::io::stdin()
        .read_line(&mut sink)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        sink.clear();
    }
}

/// An environment variable the parent must have set for a child role.
pub fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("child role needs {key}"))
}
