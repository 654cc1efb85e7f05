//! 1080p RGBA between two GStreamer pipelines in two processes:
//! `shmframesink` -> `shmframesrc` (frames held in place, and with
//! `zero-copy=false`) against GStreamer's `shmsink` -> `shmsrc`, interleaved
//! in one run. Measures the frames per second a reader receives
//! from an unpaced writer, the latency of paced frames (each carries its
//! CLOCK_MONOTONIC push time in its first bytes), and the writer's rate while
//! the reading pipeline is paused.
//!
//! `shmframe-gst-bench run` orchestrates; it starts itself as `write` and
//! `read` children. The plugin must be on GST_PLUGIN_PATH, and `shmsink`
//! comes with Debian's gstreamer1.0-plugins-bad.

use clap::{Parser, Subcommand, ValueEnum};
use gst::prelude::*;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const FRAME_BYTES: usize = (WIDTH * HEIGHT * 4) as usize;
const CAPS: &str = "video/x-raw,format=RGBA,width=1920,height=1080,framerate=0/1";
/// GStreamer's shm area: room for eight frames, as a deployment would size it.
const SHM_SIZE: usize = 8 * FRAME_BYTES + (1 << 20);

#[derive(Parser)]
#[command(about = "shmframesink/shmframesrc against shmsink/shmsrc, 1080p RGBA")]
struct Cli {
    #[command(subcommand)]
    command: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Runs every measurement for both transports, interleaved, and prints a table.
    Run {
        /// Rounds of (shmframe, shm) measurements.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Frames per throughput measurement.
        #[arg(long, default_value_t = 600)]
        frames: u32,
        /// Frames per latency measurement (paced at --fps).
        #[arg(long, default_value_t = 300)]
        latency_frames: u32,
        /// Pace of the latency and pause measurements.
        #[arg(long, default_value_t = 60.0)]
        fps: f64,
    },
    /// The writing pipeline: appsrc into the transport's sink.
    Write {
        #[command(flatten)]
        end: End,
        /// 0 pushes as fast as the pipeline takes frames.
        #[arg(long)]
        fps: f64,
    },
    /// The reading pipeline: the transport's source into appsink.
    Read {
        #[command(flatten)]
        end: End,
        /// Pause the pipeline from this many seconds after the first frame...
        #[arg(long)]
        pause_at: Option<f64>,
        /// ...for this many seconds.
        #[arg(long, default_value_t = 1.0)]
        pause_for: f64,
        /// Read every pixel of a frame (as a consumer that uses it would) before taking the time.
        #[arg(long)]
        touch: bool,
    },
}

/// One end of a transport, as both roles take it.
#[derive(clap::Args)]
struct End {
    #[arg(long)]
    kind: Kind,
    /// Stream name (shmframe) or socket path (shm).
    #[arg(long)]
    target: String,
    /// Frames to write, or to read before stopping (a reader also stops after 2 s without one).
    #[arg(long)]
    frames: u32,
}

impl End {
    fn args(&self, role: &str) -> Vec<String> {
        vec![
            role.to_string(),
            "--kind".into(),
            self.kind
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string()),
            "--target".into(),
            self.target.clone(),
            "--frames".into(),
            self.frames.to_string(),
        ]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Kind {
    /// shmframesrc pushing frames held in place (its default).
    Shmframe,
    /// shmframesrc copying every frame (`zero-copy=false`).
    ShmframeCopy,
    Shm,
}

impl Kind {
    fn sink(self, target: &str) -> String {
        match self {
            // Eight slots: the same memory as the shm area, and room for a reader still copying.
            Kind::Shmframe | Kind::ShmframeCopy => {
                format!("shmframesink stream={target} slots=8 sync=false")
            }
            Kind::Shm => format!(
                "shmsink socket-path={target} shm-size={SHM_SIZE} wait-for-connection=true sync=false"
            ),
        }
    }

    fn source(self, target: &str) -> String {
        match self {
            Kind::Shmframe => format!("shmframesrc name=src stream={target}"),
            Kind::ShmframeCopy => format!("shmframesrc name=src stream={target} zero-copy=false"),
            // shmsrc carries no caps: the reader repeats them.
            Kind::Shm => format!("shmsrc socket-path={target} is-live=true ! {CAPS}"),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = gst::init() {
        eprintln!("GStreamer does not initialise: {e}");
        std::process::exit(1);
    }
    let result = match cli.command {
        Role::Run {
            rounds,
            frames,
            latency_frames,
            fps,
        } => run(rounds, frames, latency_frames, fps),
        Role::Write { end, fps } => write(end.kind, &end.target, end.frames, fps),
        Role::Read {
            end,
            pause_at,
            pause_for,
            touch,
        } => read(&end, pause_at, pause_for, touch),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

type Result<T> = std::result::Result<T, String>;

fn pipeline(description: &str) -> Result<gst::Pipeline> {
    gst::parse::launch(description)
        .map_err(|e| format!("`{description}`: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_string())
}

fn bus_error(pipeline: &gst::Pipeline) -> Option<String> {
    let message = pipeline.bus()?.pop_filtered(&[gst::MessageType::Error])?;
    match message.view() {
        gst::MessageView::Error(e) => Some(format!("{} ({:?})", e.error(), e.debug())),
        _ => None,
    }
}

/// Pushes `frames` 1080p RGBA frames, each stamped with its push time, and
/// prints when the sink took each one (one line: seconds since the first push).
fn write(kind: Kind, target: &str, frames: u32, fps: f64) -> Result<()> {
    let pipeline = pipeline(&format!(
        "appsrc name=src format=time caps={CAPS} max-bytes={} block=true ! {}",
        2 * FRAME_BYTES,
        kind.sink(target)
    ))?;
    let appsrc = pipeline
        .by_name("src")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or("no appsrc")?;
    let sink = appsrc
        .src_pads()
        .first()
        .and_then(|pad| pad.peer())
        .ok_or("appsrc is not linked")?;
    let start = Instant::now();
    let taken = Arc::new(Mutex::new(Vec::with_capacity(frames as usize)));
    let record = Arc::clone(&taken);
    sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        if let Ok(mut taken) = record.lock() {
            taken.push(start.elapsed().as_secs_f64());
        }
        gst::PadProbeReturn::Ok
    });
    // shmsink waits for its client (wait-for-connection) with frames queued,
    // which would count the connection time as latency: push only once connected.
    let (connected, wait_connected) = std::sync::mpsc::channel::<()>();
    if kind == Kind::Shm {
        let connected = Mutex::new(connected);
        sink.parent_element().ok_or("no sink element")?.connect(
            "client-connected",
            false,
            move |_| {
                if let Ok(connected) = connected.lock() {
                    let _ = connected.send(());
                }
                None
            },
        );
    }
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| format!("{e}: {:?}", bus_error(&pipeline)))?;
    if kind == Kind::Shm {
        wait_connected
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| "no shmsrc connected within 20 s")?;
    }
    // A stalled sink would block the pushes forever: stop the pipeline at a
    // deadline, which unblocks them, and report the frames taken until then.
    let deadline = if fps > 0.0 {
        Duration::from_secs_f64(f64::from(frames) / fps + 5.0)
    } else {
        Duration::from_secs(30)
    };
    let (finished, watch) = std::sync::mpsc::channel::<()>();
    let watched = pipeline.clone();
    let watchdog = std::thread::spawn(move || {
        if watch.recv_timeout(deadline).is_err() {
            eprintln!("writer: stopped at the {deadline:?} deadline, the sink stalled");
            let _ = watched.set_state(gst::State::Null);
        }
    });
    // A few distinct frames, reused: a buffer the sink has released is ours to stamp again.
    let mut pool: Vec<gst::Buffer> = (0..4u8)
        .map(|i| gst::Buffer::from_mut_slice(vec![i.wrapping_mul(60); FRAME_BYTES]))
        .collect();
    let period = (fps > 0.0).then(|| Duration::from_secs_f64(1.0 / fps));
    let started = Instant::now();
    for i in 0..frames {
        if let Some(period) = period {
            let due = started + period * i;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let slot = &mut pool[i as usize % 4];
        {
            let buffer = slot.make_mut();
            let mut map = buffer.map_writable().map_err(|e| e.to_string())?;
            map[..8].copy_from_slice(&shmframe::monotonic_ns().to_le_bytes());
            map[8..16].copy_from_slice(&u64::from(i).to_le_bytes());
        }
        if appsrc.push_buffer(slot.clone()).is_err() {
            break;
        }
        if let Some(error) = bus_error(&pipeline) {
            return Err(error);
        }
    }
    // Let the last frames through before closing the stream.
    let _ = appsrc.end_of_stream();
    let _ = pipeline.bus().map(|bus| {
        bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(5),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
    });
    let _ = pipeline.set_state(gst::State::Null);
    let _ = finished.send(());
    let _ = watchdog.join();
    let taken = taken.lock().map_err(|_| "poisoned")?;
    let line: Vec<String> = taken.iter().map(|t| format!("{t:.6}")).collect();
    println!("{}", line.join(" "));
    Ok(())
}

/// Receives frames, printing one line: "<frames> <seconds from first to last> <latencies in µs...>".
fn read(end: &End, pause_at: Option<f64>, pause_for: f64, touch: bool) -> Result<()> {
    let (kind, target, frames) = (end.kind, end.target.as_str(), end.frames);
    let pipeline = pipeline(&format!(
        "{} ! appsink name=out sync=false max-buffers=2",
        kind.source(target)
    ))?;
    let appsink = pipeline
        .by_name("out")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or("no appsink")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| format!("{e}: {:?}", bus_error(&pipeline)))?;
    println!("ready");
    let mut latencies_us = Vec::new();
    // shmframesrc stamps each buffer with its frame's publish time (as running
    // time on the system clock, which counts CLOCK_MONOTONIC): the part of the
    // latency spent before the publish, in the writing pipeline.
    let mut before_publish_us = Vec::new();
    let base_time = pipeline.base_time().map(|t| t.nseconds());
    let mut first = None;
    let mut last = Instant::now();
    let mut paused = false;
    let mut idle_limit = Duration::from_secs(30);
    while latencies_us.len() < frames as usize {
        if let (Some(at), Some(first)) = (pause_at, first) {
            let since: Duration = Instant::now() - first;
            if !paused && since.as_secs_f64() >= at {
                let _ = pipeline.set_state(gst::State::Paused);
                std::thread::sleep(Duration::from_secs_f64(pause_for));
                let _ = pipeline.set_state(gst::State::Playing);
                paused = true;
            }
        }
        let timeout = gst::ClockTime::from_nseconds(idle_limit.as_nanos() as u64);
        let Some(sample) = appsink.try_pull_sample(timeout) else {
            break;
        };
        let buffer = sample.buffer().ok_or("a sample without a buffer")?;
        let map = buffer.map_readable().map_err(|e| e.to_string())?;
        if touch {
            let sum = map.chunks_exact(8).fold(0u64, |sum, word| {
                sum.wrapping_add(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])))
            });
            std::hint::black_box(sum);
        }
        let now_ns = shmframe::monotonic_ns();
        let now = Instant::now();
        let stamp = u64::from_le_bytes(map[..8].try_into().map_err(|_| "short frame")?);
        latencies_us.push(now_ns.saturating_sub(stamp) as f64 / 1e3);
        if let (Kind::Shmframe | Kind::ShmframeCopy, Some(pts), Some(base)) =
            (kind, buffer.pts(), base_time)
        {
            let published = pts.nseconds() + base;
            before_publish_us.push(published.saturating_sub(stamp) as f64 / 1e3);
        }
        first.get_or_insert(now);
        last = now;
        // After the first frame, a 2 s gap means the writer is done.
        idle_limit = Duration::from_secs(2);
    }
    if let Some(error) = bus_error(&pipeline) {
        return Err(error);
    }
    if let Some(source) = pipeline.by_name("src") {
        let settled = |v: &[f64]| median(&mut v[v.len() / 10..].to_vec());
        eprintln!(
            "reader: shmframesrc {}; median latency {:.0} us, of which before the publish {:.0} us",
            source.property::<gst::Structure>("stats"),
            settled(&latencies_us),
            settled(&before_publish_us),
        );
    }
    let _ = pipeline.set_state(gst::State::Null);
    let span = first.map_or(0.0, |first| (last - first).as_secs_f64());
    let values: Vec<String> = latencies_us.iter().map(|l| format!("{l:.1}")).collect();
    println!("{} {span:.6} {}", latencies_us.len(), values.join(" "));
    Ok(())
}

/// A child in a role of this binary, its standard output piped.
fn spawn(args: &[String]) -> Result<Child> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())
}

/// What one reader/writer pair measured.
struct Pair {
    writer_times: Vec<f64>,
    received: usize,
    span: f64,
    latencies_us: Vec<f64>,
}

/// Runs a reader, waits until it is ready, runs a writer, and collects both.
fn pair(kind: Kind, frames: u32, fps: f64, pause_at: Option<f64>, touch: bool) -> Result<Pair> {
    use std::io::{BufRead, BufReader};
    let target = match kind {
        Kind::Shmframe | Kind::ShmframeCopy => format!("gst-bench-{}", std::process::id()),
        Kind::Shm => format!("/tmp/gst-bench-{}.sock", std::process::id()),
    };
    let end = End {
        kind,
        target: target.clone(),
        frames,
    };
    let mut read_args = end.args("read");
    if let Some(at) = pause_at {
        read_args.extend(["--pause-at".into(), at.to_string()]);
    }
    if touch {
        read_args.push("--touch".into());
    }
    let mut write_args = end.args("write");
    write_args.extend(["--fps".into(), fps.to_string()]);
    // shmsink creates the socket that shmsrc connects to; shmframesrc waits for its stream.
    let (first, second) = match kind {
        Kind::Shmframe | Kind::ShmframeCopy => (read_args, write_args),
        Kind::Shm => (write_args, read_args),
    };
    let mut first_child = spawn(&first)?;
    let mut first_out = BufReader::new(first_child.stdout.take().ok_or("no stdout")?);
    if kind != Kind::Shm {
        let mut ready = String::new();
        first_out.read_line(&mut ready).map_err(|e| e.to_string())?;
    } else {
        // shmsink waits for its client (wait-for-connection), so starting both is enough
        // once the socket exists.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::path::Path::new(&target).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let mut second_child = spawn(&second)?;
    let mut second_out = BufReader::new(second_child.stdout.take().ok_or("no stdout")?);
    let lines = |out: &mut dyn BufRead| -> Result<String> {
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("a child exited without a result".into());
            }
            if line.trim() != "ready" {
                return Ok(line);
            }
        }
    };
    let first_line = lines(&mut first_out)?;
    let second_line = lines(&mut second_out)?;
    let _ = first_child.wait();
    let _ = second_child.wait();
    let _ = std::fs::remove_file(&target);
    let (reader_line, writer_line) = match kind {
        Kind::Shmframe | Kind::ShmframeCopy => (first_line, second_line),
        Kind::Shm => (second_line, first_line),
    };
    let numbers = |line: &str| -> Vec<f64> {
        line.split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect()
    };
    let reader = numbers(&reader_line);
    if reader.len() < 2 {
        return Err(format!("reader said: {reader_line}"));
    }
    Ok(Pair {
        writer_times: numbers(&writer_line),
        received: reader[0] as usize,
        span: reader[1],
        latencies_us: reader[2..].to_vec(),
    })
}

fn median(values: &mut [f64]) -> f64 {
    percentile(values, 0.5)
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// Frames per second the writer's sink took within [from, to) seconds.
fn rate(times: &[f64], from: f64, to: f64) -> f64 {
    times.iter().filter(|&&t| t >= from && t < to).count() as f64 / (to - from)
}

/// What one transport measured, one value per round.
#[derive(Default)]
struct Figures {
    reader_fps: [Vec<f64>; 2],
    writer_fps: Vec<f64>,
    latency_median_us: [Vec<f64>; 2],
    latency_p99_us: Vec<f64>,
    before_pause: Vec<f64>,
    during_pause: Vec<f64>,
}

fn run(rounds: u32, frames: u32, latency_frames: u32, fps: f64) -> Result<()> {
    let kinds = [Kind::Shmframe, Kind::ShmframeCopy, Kind::Shm];
    let mut figures = [Figures::default(), Figures::default(), Figures::default()];
    for round in 1..=rounds {
        for (kind, figures) in kinds.into_iter().zip(figures.iter_mut()) {
            // Unpaced: frames per second reaching the reader, and leaving the writer;
            // with a reader that only looks at the stamp, then one that reads every pixel.
            for touch in [false, true] {
                let p = pair(kind, frames, 0.0, None, touch)?;
                let span = |t: &[f64]| t.last().unwrap_or(&0.0) - t.first().unwrap_or(&0.0);
                let writer_fps =
                    (p.writer_times.len().max(1) - 1) as f64 / span(&p.writer_times).max(1e-9);
                let reader_fps = (p.received.max(1) - 1) as f64 / p.span.max(1e-9);
                eprintln!(
                    "round {round} {kind:?} throughput (touch {touch}): reader {reader_fps:.1} fps ({} of {frames} frames), writer {writer_fps:.1} fps",
                    p.received
                );
                figures.reader_fps[usize::from(touch)].push(reader_fps);
                if !touch {
                    figures.writer_fps.push(writer_fps);
                }
            }

            // Paced: latency from the push into the sink to the reader's appsink.
            for touch in [false, true] {
                let p = pair(kind, latency_frames, fps, None, touch)?;
                // The first tenth is dropped, for both transports alike: first
                // touches of the shared memory, allocations and negotiation.
                let mut settled = p.latencies_us[p.latencies_us.len() / 10..].to_vec();
                let med = median(&mut settled);
                let p99 = percentile(&mut settled, 0.99);
                eprintln!(
                    "round {round} {kind:?} latency (touch {touch}) at {fps} fps: median {med:.0} us, p99 {p99:.0} us ({} frames)",
                    p.received
                );
                figures.latency_median_us[usize::from(touch)].push(med);
                if !touch {
                    figures.latency_p99_us.push(p99);
                }
            }

            // Paced, reader paused for 1 s from 1 s after its first frame.
            let mut p = pair(kind, (fps * 3.5) as u32, fps, Some(1.0), false)?;
            // The writer's times from its first frame, as the reader counts from its first.
            let origin = p.writer_times.first().copied().unwrap_or(0.0);
            p.writer_times.iter_mut().for_each(|t| *t -= origin);
            let before = rate(&p.writer_times, 0.3, 1.0);
            let during = rate(&p.writer_times, 1.3, 2.0);
            eprintln!(
                "round {round} {kind:?} writer while the reader is paused: {during:.1} fps (before: {before:.1} fps)"
            );
            figures.before_pause.push(before);
            figures.during_pause.push(during);
        }
    }
    println!(
        "| 1080p RGBA, {rounds} interleaved rounds (medians) | shmframesink -> shmframesrc, zero-copy | shmframesrc zero-copy=false | shmsink -> shmsrc | zero-copy / shm: median of the rounds' ratios (range) | copy / shm |"
    );
    println!("|---|---|---|---|---|---|");
    let row = |what: &str, pick: &dyn Fn(&Figures) -> &Vec<f64>| {
        let [held, copied, theirs] = [0, 1, 2].map(|i| pick(&figures[i]));
        let ratio = |ours: &Vec<f64>| {
            let mut ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
            let (low, high) = (percentile(&mut ratios, 0.0), percentile(&mut ratios, 1.0));
            format!("{:.2}x ({low:.2}-{high:.2})", median(&mut ratios))
        };
        println!(
            "| {what} | {:.1} | {:.1} | {:.1} | {} | {} |",
            median(&mut held.clone()),
            median(&mut copied.clone()),
            median(&mut theirs.clone()),
            ratio(held),
            ratio(copied),
        );
    };
    row(
        "frames/s received, unpaced writer, reader looks at the stamp",
        &|f| &f.reader_fps[0],
    );
    row(
        "frames/s received, unpaced writer, reader reads every pixel",
        &|f| &f.reader_fps[1],
    );
    row("frames/s the unpaced writer's sink takes", &|f| {
        &f.writer_fps
    });
    row(
        &format!("latency at {fps} fps, stamp only: median (us)"),
        &|f| &f.latency_median_us[0],
    );
    row(
        &format!("latency at {fps} fps, every pixel read: median (us)"),
        &|f| &f.latency_median_us[1],
    );
    row(
        &format!("latency at {fps} fps, stamp only: p99 (us)"),
        &|f| &f.latency_p99_us,
    );
    row("writer frames/s before the reader pauses", &|f| {
        &f.before_pause
    });
    row("writer frames/s while the reader is paused", &|f| {
        &f.during_pause
    });
    Ok(())
}
