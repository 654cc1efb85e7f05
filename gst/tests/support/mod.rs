//! Helpers for the tests that run real pipelines: a private environment
//! (plugin path, registry, segment directory), bounded waits on the bus, and
//! background processes that are always stopped.

#![allow(dead_code)]

use gst::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Longest any pipeline, process or wait in these tests may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// `target/<profile>`, where cargo put the plugin and the `shmframe` binary.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// A directory of this test binary's own under cargo's temporary directory
/// (the same on every run, so that runs do not pile files up).
fn own_dir(kind: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let stem = exe
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("gst-test");
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{stem}-{kind}"))
}

/// The directory that holds this test binary's segments (stream names carry the pid).
pub fn segment_dir() -> PathBuf {
    own_dir("segments")
}

/// Points GStreamer at the built plugin with a registry of its own, and
/// shmframe at a private segment directory, then initialises GStreamer.
/// Every test calls this first; the environment is set once, before any
/// test goes further.
///
/// `cargo test` leaves the fresh plugin in `target/<profile>/deps` (only
/// `cargo build` copies it up a level), among the other crates' shared
/// objects; it is copied into a directory of its own so that GStreamer loads
/// exactly this build and nothing else.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let built = target_dir().join("deps").join("libgstshmframe.so");
        assert!(built.exists(), "{} was not built", built.display());
        let plugin_dir = own_dir("plugin");
        std::fs::create_dir_all(&plugin_dir).expect("a private plugin directory");
        let plugin = plugin_dir.join("libgstshmframe.so");
        let _ = std::fs::remove_file(&plugin);
        std::fs::hard_link(&built, &plugin)
            .or_else(|_| std::fs::copy(&built, &plugin).map(drop))
            .expect("the plugin in its own directory");
        let registry = own_dir("registry.bin");
        std::fs::create_dir_all(segment_dir()).expect("a private segment directory");
        std::env::set_var("GST_PLUGIN_PATH", &plugin_dir);
        std::env::set_var("GST_REGISTRY", &registry);
        std::env::set_var(shmframe::DIR_ENV, segment_dir());
        gst::init().expect("GStreamer initialises");
        for element in ["shmframesink", "shmframesrc"] {
            assert!(
                gst::ElementFactory::find(element).is_some(),
                "{element} is not registered from {}",
                plugin_dir.display()
            );
        }
    });
}

/// A stream name unique to this process, `tag` and call.
pub fn unique_name(tag: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("gst-{}-{tag}-{n}", std::process::id())
}

/// The `shmframe` command, built by `cargo test --workspace` next to the plugin.
pub fn shmframe() -> Command {
    let path = target_dir().join("shmframe");
    assert!(
        path.exists(),
        "{} is missing: run the whole workspace's tests (cargo test --workspace) or `cargo build -p shmframe-cli` first",
        path.display()
    );
    Command::new(path)
}

/// `gst-launch-1.0 ARGS`, in this test's environment.
pub fn gst_launch(args: &[&str]) -> Command {
    gst_tool("gst-launch-1.0", args)
}

/// A GStreamer command-line tool (`gst-launch-1.0`, `gst-inspect-1.0`) with `args`.
pub fn gst_tool(tool: &str, args: &[&str]) -> Command {
    let mut command = Command::new(tool);
    command.args(args);
    command
}

/// Runs `command` to completion within [`TIMEOUT`], capturing its output.
pub fn run(command: &mut Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {command:?}: {e}"));
    let pid = child.id();
    // Until this thread hears that the child was reaped, its pid cannot be
    // reused, so killing it on a timeout hits only the child.
    let (reaped, watched) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let timed_out = watched.recv_timeout(TIMEOUT).is_err();
        if timed_out {
            signal(pid, rustix::process::Signal::KILL);
        }
        timed_out
    });
    let output = child.wait_with_output().expect("the command's output");
    let _ = reaped.send(());
    let killed = watchdog.join().unwrap_or(false);
    assert!(!killed, "{command:?} did not finish within {TIMEOUT:?}");
    output
}

fn signal(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// A process running in the background, stopped (SIGINT, then SIGKILL) when dropped.
pub struct Background {
    child: Child,
}

impl Background {
    pub fn spawn(command: &mut Command) -> Background {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {command:?}: {e}"));
        Background { child }
    }

    /// Interrupts the process and waits for it to exit; returns its status and standard error.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let status = self.interrupt();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            use std::io::Read;
            let _ = pipe.read_to_string(&mut stderr);
        }
        (status, stderr)
    }

    fn interrupt(&mut self) -> ExitStatus {
        signal(self.child.id(), rustix::process::Signal::INT);
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let status = self.child.wait().expect("the killed process's status");
        panic!("the background process ignored SIGINT for {TIMEOUT:?} ({status})");
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A pipeline set to NULL when dropped, so that a failing test still closes its streams.
pub struct Pipeline {
    pub pipeline: gst::Pipeline,
}

impl Pipeline {
    /// Parses `description` (gst-launch syntax).
    pub fn parse(description: &str) -> Pipeline {
        let pipeline = gst::parse::launch(description)
            .unwrap_or_else(|e| panic!("could not build `{description}`: {e}"))
            .downcast::<gst::Pipeline>()
            .expect("a pipeline");
        Pipeline { pipeline }
    }

    /// The element called `name`.
    pub fn by_name<T: IsA<gst::Element>>(&self, name: &str) -> T {
        self.pipeline
            .by_name(name)
            .unwrap_or_else(|| panic!("no element {name}"))
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("{name} has another type"))
    }

    /// Sets the pipeline to PLAYING; panics if that fails.
    pub fn play(&self) {
        self.pipeline
            .set_state(gst::State::Playing)
            .unwrap_or_else(|e| {
                panic!(
                    "could not play: {e} ({:?})",
                    self.error_within(Duration::ZERO)
                )
            });
    }

    /// The first error posted within `timeout`, as "element: message (debug)".
    pub fn error_within(&self, timeout: Duration) -> Option<String> {
        let bus = self.pipeline.bus().expect("a pipeline has a bus");
        let message = bus.timed_pop_filtered(
            gst::ClockTime::from_nseconds(timeout.as_nanos() as u64),
            &[gst::MessageType::Error],
        )?;
        match message.view() {
            gst::MessageView::Error(error) => Some(format!(
                "{}: {} ({})",
                error
                    .src()
                    .map(|s| s.path_string().to_string())
                    .unwrap_or_default(),
                error.error(),
                error.debug().unwrap_or_default()
            )),
            _ => None,
        }
    }

    /// Waits for EOS; panics on an error or a timeout.
    pub fn wait_eos(&self) {
        let bus = self.pipeline.bus().expect("a pipeline has a bus");
        let message = bus
            .timed_pop_filtered(
                gst::ClockTime::from_nseconds(TIMEOUT.as_nanos() as u64),
                &[gst::MessageType::Error, gst::MessageType::Eos],
            )
            .expect("EOS within the timeout");
        if let gst::MessageView::Error(error) = message.view() {
            panic!(
                "error instead of EOS: {} ({:?})",
                error.error(),
                error.debug()
            );
        }
    }

    /// Sets the pipeline to NULL within [`TIMEOUT`]; panics if that hangs.
    pub fn stop(&self) {
        let pipeline = self.pipeline.clone();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = pipeline.set_state(gst::State::Null);
            let _ = done.send(());
        });
        finished
            .recv_timeout(TIMEOUT)
            .expect("the pipeline stopped within the timeout");
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Pulls the next sample from `sink` within [`TIMEOUT`].
pub fn pull(sink: &gst_app::AppSink) -> gst::Sample {
    sink.try_pull_sample(gst::ClockTime::from_nseconds(TIMEOUT.as_nanos() as u64))
        .expect("a sample within the timeout")
}

/// Opens stream `name`, waiting (bounded) for its writer to create it.
pub fn open_reader(name: &str) -> shmframe::Reader {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match shmframe::Reader::open(name) {
            Ok(reader) => return reader,
            Err(shmframe::Error::NoStream { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("could not open `{name}`: {e}"),
        }
    }
}

/// The rows of each plane of a video frame: exactly the pixels, no padding.
pub fn plane_rows(frame: &gst_video::VideoFrameRef<&gst::BufferRef>) -> Vec<Vec<Vec<u8>>> {
    use gst_video::prelude::*;
    let info = frame.info();
    let finfo = info.format_info();
    (0..frame.n_planes())
        .map(|plane| {
            let data = frame.plane_data(plane).expect("plane data");
            let stride = frame.plane_stride()[plane as usize] as usize;
            // The plane's first component gives its size (YUY2's Y steps 2 bytes, NV12's U 2).
            let component = (0..finfo.n_components())
                .find(|&c| finfo.plane()[c as usize] == plane)
                .expect("a component in the plane");
            let width = finfo.scale_width(component as u8, info.width()) as usize;
            let rows = finfo.scale_height(component as u8, info.height()) as usize;
            let row_bytes = width * finfo.pixel_stride()[component as usize] as usize;
            (0..rows)
                .map(|row| data[row * stride..row * stride + row_bytes].to_vec())
                .collect()
        })
        .collect()
}

/// The rows of each plane of a frame read from a stream.
pub fn stream_rows(meta: &shmframe::FrameMeta, pixels: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let planes = meta.planes().expect("valid frame metadata");
    planes
        .as_slice()
        .iter()
        .map(|plane| {
            (0..plane.rows)
                .map(|row| {
                    let start = plane.offset + row * plane.stride;
                    pixels[start..start + plane.row_bytes].to_vec()
                })
                .collect()
        })
        .collect()
}

/// A writer of 8x8 gray frames into `slots` slots that has published one frame of zeros.
pub fn gray_writer(name: &str, slots: usize) -> (shmframe::Writer, shmframe::FrameMeta) {
    let options = shmframe::WriterOptions {
        slots,
        slot_capacity: 4096,
        // Exactly `slots` slots: holds would raise the ring to holds + 2.
        holds: 0,
        ..shmframe::WriterOptions::default()
    };
    let mut writer = shmframe::Writer::create(name, &options).expect("a writer");
    let meta = shmframe::FrameMeta::packed(8, 8, shmframe::PixelFormat::Gray8);
    writer.publish(&meta, &[0; 64]).expect("a frame");
    (writer, meta)
}

/// The first byte of a sample's buffer: which of the gray frames it is.
pub fn first_byte(sample: gst::Sample) -> u8 {
    sample
        .buffer()
        .expect("a buffer")
        .map_readable()
        .expect("readable")[0]
}
