//! `shmframe demo`: a test-pattern publisher in a child process, shown in the
//! viewer, or measured headless when there is no display.

use crate::attach::{open_until, parse_seconds};
use crate::child::GuardedChild;
use crate::fail::{CliError, CliResult};
use crate::frame_image::save_image;
use crate::latency::percentile;
use crate::output::outln;
use crate::publish_args::parse_fps;
use crate::size::Size;
use crate::stop::Stop;
use clap::Args;
use shmframe::{monotonic_ns, FrameInfo, Reader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Name of the viewer binary, looked for next to this one, then on PATH.
const VIEWER: &str = "shmframe-viewer";
/// The viewer's exit code when it cannot open a window.
const VIEWER_NO_DISPLAY: i32 = 3;
/// How long the publisher child gets to create its stream.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest single wait for a frame, so a stop or a dead publisher is noticed.
const POLL: Duration = Duration::from_millis(100);

/// Run a test-pattern publisher and watch it: in the viewer, or headless.
///
/// Starts `shmframe publish --pattern` as a child process and the viewer
/// (shmframe-viewer, next to this program or on PATH). Without a display
/// (DISPLAY and WAYLAND_DISPLAY unset), without the viewer, with --headless,
/// or if the viewer fails, it reads frames for --seconds instead, prints the
/// frame rate and latency percentiles, and saves a snapshot PNG. The publisher
/// is stopped, and its stream removed, however the demo ends (Ctrl-C too).
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Stream name for the demo's publisher.
    #[arg(long, default_value = "demo")]
    pub name: String,

    /// Seconds the headless run reads frames.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub seconds: Duration,

    /// Size of the test pattern.
    #[arg(long, value_name = "WxH", default_value = "640x360")]
    pub size: Size,

    /// Frame rate of the test pattern.
    #[arg(long, default_value = "60", value_parser = parse_fps)]
    pub fps: f64,

    /// Do not start the viewer even if a display is available.
    #[arg(long)]
    pub headless: bool,

    /// Where the headless run saves its snapshot (default: shmframe-demo-NAME.png in the temp directory).
    #[arg(long, value_name = "OUT.png")]
    pub out: Option<PathBuf>,
}

/// Runs `shmframe demo`.
pub fn run(args: DemoArgs) -> CliResult<()> {
    shmframe::validate_name(&args.name)?;
    let stop = Stop::install()?;
    let exe = std::env::current_exe().map_err(|e| {
        CliError::new(format!(
            "cannot find this program's path to start the publisher: {e}"
        ))
    })?;
    if let Ok(existing) = Reader::open(&args.name) {
        if existing.writer_alive() {
            return Err(CliError::new(format!(
                "stream `{}` already has a live writer (pid {}); choose another --name",
                args.name,
                existing.status().writer_pid
            )));
        }
    }
    let mut publisher = Publisher::spawn(&exe, &args)?;
    let reader = publisher.attach()?;

    if let Some(reason) = headless_reason(&args) {
        outln!(
            "{reason}: running headless for {:.1} s",
            args.seconds.as_secs_f64()
        );
    } else if let Some(viewer) = find_viewer(&exe) {
        outln!(
            "showing `{}` in {}; close the window (Esc) to end the demo",
            args.name,
            viewer.display()
        );
        match watch_viewer(&viewer, &args.name, &mut publisher, &stop)? {
            ViewerEnd::Done => return Ok(()),
            ViewerEnd::Failed(status) => {
                let why = if status.code() == Some(VIEWER_NO_DISPLAY) {
                    "the viewer found no usable display".to_string()
                } else {
                    format!("the viewer exited with {status}")
                };
                outln!(
                    "{why}: running headless for {:.1} s",
                    args.seconds.as_secs_f64()
                );
            }
        }
    } else {
        outln!(
            "{VIEWER} is not built (cargo build -p shmframe-viewer): running headless for {:.1} s",
            args.seconds.as_secs_f64()
        );
    }
    headless(&args, reader, &mut publisher, &stop)
}

/// Why the viewer is not even tried, if it is not.
fn headless_reason(args: &DemoArgs) -> Option<&'static str> {
    let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    if args.headless {
        Some("--headless")
    } else if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
        Some("no display (DISPLAY and WAYLAND_DISPLAY are unset)")
    } else {
        None
    }
}

/// The viewer next to `exe`, else on PATH.
fn find_viewer(exe: &Path) -> Option<PathBuf> {
    let beside = exe.parent().map(|dir| dir.join(VIEWER));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(VIEWER));
    beside
        .into_iter()
        .chain(on_path)
        .find(|path| path.is_file())
}

enum ViewerEnd {
    /// The user closed the viewer, or the demo was stopped.
    Done,
    /// The viewer failed; the demo goes on headless.
    Failed(std::process::ExitStatus),
}

/// Runs the viewer until it exits or the demo is stopped.
fn watch_viewer(
    viewer: &Path,
    name: &str,
    publisher: &mut Publisher,
    stop: &Stop,
) -> CliResult<ViewerEnd> {
    let mut child = GuardedChild::spawn(Command::new(viewer).args(["--name", name]), "the viewer")?;
    loop {
        if stop.sleep(POLL) {
            return Ok(ViewerEnd::Done);
        }
        if let Some(err) = publisher.failure() {
            return Err(err);
        }
        match child.exited()? {
            None => continue,
            Some(status) if status.success() => return Ok(ViewerEnd::Done),
            Some(status) => return Ok(ViewerEnd::Failed(status)),
        }
    }
}

/// Reads frames for `args.seconds`, then reports rate and latency and saves a snapshot.
fn headless(
    args: &DemoArgs,
    mut reader: Reader,
    publisher: &mut Publisher,
    stop: &Stop,
) -> CliResult<()> {
    let mut pixels = Vec::new();
    let mut latencies_ns = Vec::new();
    let mut first: Option<FrameInfo> = None;
    let mut last: Option<FrameInfo> = None;
    let start = Instant::now();
    let end = start + args.seconds;
    while !stop.is_set() {
        let now = Instant::now();
        if now >= end {
            break;
        }
        match reader.wait_latest(&mut pixels, (end - now).min(POLL))? {
            Some(frame) => {
                latencies_ns.push(monotonic_ns().saturating_sub(frame.published_ns));
                first.get_or_insert(frame);
                last = Some(frame);
            }
            None => {
                if let Some(err) = publisher.failure() {
                    return Err(err);
                }
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (Some(first), Some(last)) = (first, last) else {
        if stop.is_set() {
            outln!("stopped before any frame arrived");
            return Ok(());
        }
        return Err(CliError::new(format!(
            "no frame arrived from the publisher in {elapsed:.1} s"
        )));
    };
    latencies_ns.sort_unstable();
    let received = latencies_ns.len();
    let span_ns = last.published_ns.saturating_sub(first.published_ns);
    let published_fps = if span_ns == 0 {
        0.0
    } else {
        (last.index - first.index) as f64 * 1e9 / span_ns as f64
    };
    outln!(
        "received {received} frames in {elapsed:.2} s: {:.1} fps (publisher: {published_fps:.1} fps, frames {}..={})",
        received as f64 / elapsed,
        first.number,
        last.number
    );
    let micros = |q: f64| percentile(&latencies_ns, q).map_or(0.0, |ns| ns as f64 / 1e3);
    outln!(
        "latency (publish to read, {received} frames): p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, max {:.0} us",
        micros(0.5),
        micros(0.9),
        micros(0.99),
        micros(1.0)
    );
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("shmframe-demo-{}.png", args.name)));
    save_image(&last.meta, &pixels, &out)?;
    outln!(
        "snapshot of frame {} ({}x{} {}) saved to {}",
        last.number,
        last.meta.width,
        last.meta.height,
        last.meta.format,
        out.display()
    );
    Ok(())
}

/// The demo's publisher child; stopping it removes its stream.
struct Publisher {
    child: GuardedChild,
    name: String,
}

impl Publisher {
    fn spawn(exe: &Path, args: &DemoArgs) -> CliResult<Publisher> {
        let mut command = Command::new(exe);
        command
            .args(["publish", "--quiet", "--name", &args.name])
            .args([
                "--pattern",
                &args.size.to_string(),
                "--fps",
                &args.fps.to_string(),
            ])
            .stdin(Stdio::null());
        Ok(Publisher {
            child: GuardedChild::spawn(&mut command, "the test-pattern publisher")?,
            name: args.name.clone(),
        })
    }

    /// Opens the stream once this publisher has created it (not a stale one it will replace).
    fn attach(&mut self) -> CliResult<Reader> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let name = self.name.clone();
            let reader = open_until(&name, deadline, "", || self.failure())?;
            if reader.status().writer_pid == self.child.id() {
                return Ok(reader);
            }
            if let Some(err) = self.failure() {
                return Err(err);
            }
            if Instant::now() >= deadline {
                return Err(CliError::new(format!(
                    "the test-pattern publisher did not create `{}` within {} s",
                    self.name,
                    START_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An error if the publisher has exited (it runs until stopped).
    fn failure(&mut self) -> Option<CliError> {
        match self.child.exited() {
            Ok(None) => None,
            Ok(Some(status)) => Some(CliError::new(format!(
                "the test-pattern publisher exited with {status} (its message is above)"
            ))),
            Err(err) => Some(err),
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.child.stop();
        // If it had to be killed, its stale segment is left: remove it. This
        // never removes a live writer's stream (no --force).
        let _ = shmframe::remove_stream(&self.name, false);
    }
}
