//! Helpers for the bridge's end-to-end tests: the two sides of a link (a
//! private SHMFRAME_DIR each, optionally inside a network namespace), child
//! processes that are always stopped, and the namespace pair itself.

#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Frame size used by the tests: wide enough for the pattern's index blocks, small enough for CI.
pub const SIZE: &str = "400x240";

/// One side of the link: its own segment directory, and its namespace if any.
pub struct Side {
    dir: tempfile::TempDir,
    netns: Option<String>,
    /// The address the other side reaches this one on.
    pub addr: String,
}

impl Side {
    /// A side on this host's loopback.
    pub fn loopback() -> Side {
        Side {
            dir: tempfile::tempdir().expect("temporary directory"),
            netns: None,
            addr: "127.0.0.1".into(),
        }
    }

    /// The side's segment directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A command for `program` that runs on this side.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        };
        cmd.args(args)
            .env("SHMFRAME_DIR", self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    /// Starts `program` here; it is stopped when the returned guard drops.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Proc {
        let child = self
            .command(program, args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Proc { child: Some(child) }
    }

    /// Runs `program` here to completion.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    /// Checks that stream `name` here carries at least `min_frames` distinct
    /// pattern frames, exactly (`max_mae` 0) or within `max_mae`.
    pub fn check(&self, name: &str, min_frames: usize, max_mae: f64) -> Result<String, String> {
        self.check_size(name, SIZE, min_frames, max_mae)
    }

    /// `check`, for frames of `size` (WIDTHxHEIGHT).
    pub fn check_size(
        &self,
        name: &str,
        size: &str,
        min_frames: usize,
        max_mae: f64,
    ) -> Result<String, String> {
        let out = self.run(
            probe(),
            &[
                "check",
                "--name",
                name,
                "--size",
                size,
                "--min-frames",
                &min_frames.to_string(),
                "--max-mae",
                &max_mae.to_string(),
                "--timeout",
                "30",
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "check of `{name}` failed: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Takes this side's link down or up.
    pub fn link(&self, up: bool) {
        let ns = self.netns.as_ref().expect("a namespace side");
        let state = if up { "up" } else { "down" };
        ip(&["netns", "exec", ns, "ip", "link", "set", "veth0", state]).expect("ip link set");
    }
}

/// The bridge binary.
pub fn bridge() -> &'static str {
    env!("CARGO_BIN_EXE_shmframe-bridge")
}

/// The probe binary.
pub fn probe() -> &'static str {
    env!("CARGO_BIN_EXE_shmframe-bridge-probe")
}

/// A child process stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Proc {
    child: Option<Child>,
}

impl From<Child> for Proc {
    fn from(child: Child) -> Proc {
        Proc { child: Some(child) }
    }
}

impl Proc {
    /// Stops it with SIGTERM and returns what it printed on stderr (if piped).
    pub fn stop_and_stderr(mut self) -> String {
        let mut stderr = self.child.as_mut().and_then(|c| c.stderr.take());
        self.terminate();
        let mut text = String::new();
        if let Some(err) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(err, &mut text);
        }
        text
    }

    /// Stops it with SIGTERM, as Ctrl-C would, and waits up to 5 s.
    pub fn stop(mut self) {
        self.terminate();
    }

    /// Kills it with SIGKILL, as a crash would: nothing is cleaned up.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it still runs.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a child pid");
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Runs `ip ARGS`; the error carries its stderr.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Two network namespaces joined by a veth pair, removed when dropped.
pub struct NetnsPair {
    names: [String; 2],
}

/// Distinguishes the pairs of one test process.
static PAIRS: AtomicU32 = AtomicU32::new(0);

impl NetnsPair {
    /// Creates the pair with 192.0.2.1 (A) and 192.0.2.2 (B) on its link, or
    /// says why it cannot (not root, no `ip`, no namespace support).
    pub fn create() -> Result<(NetnsPair, Side, Side), String> {
        let n = PAIRS.fetch_add(1, Ordering::Relaxed);
        let tag = format!("sfb{}x{n}", std::process::id());
        let pair = NetnsPair {
            names: [format!("{tag}a"), format!("{tag}b")],
        };
        let [a, b] = &pair.names;
        ip(&["netns", "add", a])?;
        ip(&["netns", "add", b])?;
        // The veth ends are made inside the namespaces, so no interface name
        // ever exists on the host side.
        ip(&[
            "-n", a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", b,
        ])?;
        for (ns, addr) in [(a, "192.0.2.1/30"), (b, "192.0.2.2/30")] {
            ip(&["-n", ns, "addr", "add", addr, "dev", "veth0"])?;
            ip(&["-n", ns, "link", "set", "veth0", "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        let side = |ns: &str, addr: &str| Side {
            dir: tempfile::tempdir().expect("temporary directory"),
            netns: Some(ns.to_string()),
            addr: addr.into(),
        };
        let (sa, sb) = (side(a, "192.0.2.1"), side(b, "192.0.2.2"));
        Ok((pair, sa, sb))
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        // Deleting a namespace destroys the veth end inside it, and so its peer.
        for ns in &self.names {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// The namespace pair, or `None` after printing why the test is skipped.
pub fn netns_or_skip(test: &str) -> Option<(NetnsPair, Side, Side)> {
    match NetnsPair::create() {
        Ok(sides) => Some(sides),
        Err(e) => {
            eprintln!("SKIPPED {test}: network namespaces cannot be created here ({e}); the loopback tests still ran");
            None
        }
    }
}

/// Reads the JSON report at `path` once it satisfies `ready`, within `timeout`.
pub fn report_when(
    path: &Path,
    timeout: Duration,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if ready(&v) {
                    return Ok(v);
                }
                last = Some(v);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "report {} never got there; last: {last:?}",
        path.display()
    ))
}

/// A path for a report file in `dir`.
pub fn report_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Starts a pattern source for stream `name` on `side`.
pub fn source(side: &Side, name: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["source", "--name", name, "--size", SIZE, "--fps", "30"];
    args.extend_from_slice(extra);
    side.spawn(probe(), &args)
}

/// Starts an exporter of `name` on `side`, listening on `port` there.
pub fn exporter(side: &Side, name: &str, port: u16, codec: &str, extra: &[&str]) -> Proc {
    let listen = format!("tcp/{}:{port}", side.addr);
    let key = key(name);
    let mut args = vec![
        "export", "--name", name, "--key", &key, "--codec", codec, "--listen", &listen, "--quiet",
    ];
    args.extend_from_slice(extra);
    side.spawn(bridge(), &args)
}

/// Starts an importer on `side` of the exporter at `peer:port`, into stream `name`.
pub fn importer(side: &Side, name: &str, peer: &str, port: u16, extra: &[&str]) -> Proc {
    let connect = format!("tcp/{peer}:{port}");
    let key = key(name);
    let mut args = vec![
        "import",
        "--name",
        name,
        "--key",
        &key,
        "--connect",
        &connect,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    side.spawn(bridge(), &args)
}

/// The Zenoh key the tests use for stream `name`, unique to this test process.
pub fn key(name: &str) -> String {
    format!("shmframe-test/{}/{name}", std::process::id())
}

/// A TCP port that was free on loopback a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Has the probe on `side` put its malformed messages on stream `name`'s key
/// through `connect`; returns how many it sent.
pub fn send_hostile(side: &Side, name: &str, connect: &str) -> u64 {
    let out = side.run(
        probe(),
        &["hostile", "--key", &key(name), "--connect", connect],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe JSON");
    sent["sent"].as_u64().expect("a count")
}
