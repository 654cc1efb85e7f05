//! `shmframe record --name N OUT`: every frame of a stream, in order, into a
//! video file through an ffmpeg child, or as raw frames or y4m on stdout.
//!
//! Timing comes from the frames' timestamps. The stream's rate is measured
//! from its first frames (the median time per frame; --fps declares it
//! instead) and given to ffmpeg as the input rate; each frame is then placed
//! at the output frame its timestamp falls on, and a gap (frames the writer
//! skipped, or the recorder missed) is filled by repeating the frame before
//! it, so a 60 fps stream records at 60 fps and a stall stays a stall. Raw
//! output on stdout carries no timing: every frame read is written once.
//!
//! A reading loop (this thread) and an output thread are joined by a bounded
//! queue, so a slow encoder is absorbed up to the queue's size before frames
//! are missed; missed frames are counted and reported at the end.

use crate::attach::{open_until, parse_seconds};
use crate::child::GuardedChild;
use crate::color_names;
use crate::fail::{CliError, CliResult};
use crate::ffmpeg;
use crate::publish_args::parse_fps;
use crate::rate::Rate;
use crate::stop::Stop;
use crate::y4m;
use clap::Args;
use shmframe::{ColorMatrix, ColorRange, FrameInfo, FrameMeta, Reader};
use shmframe_convert::FrameView;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest single wait for a frame, so a stop or a dead writer is noticed.
const POLL: Duration = Duration::from_millis(100);
/// Frames (at most this long) the rate is measured over before recording starts.
const MEASURE_FOR: Duration = Duration::from_millis(500);
/// Frames the rate is measured over at most.
const MEASURE_FRAMES: usize = 30;
/// Bytes of frames queued for the output before the recorder falls behind.
const QUEUE_BYTES: usize = 256 << 20;
/// Longest gap (in seconds of output) filled by repeating a frame.
const MAX_GAP_SECONDS: f64 = 60.0;
/// How long ffmpeg gets to finish the file after its input ends.
const FINISH_TIMEOUT: Duration = Duration::from_secs(120);

/// Record a stream into a video file (through ffmpeg), or raw frames to stdout.
///
/// OUT is a file whose extension picks the container (mp4, mkv, webm, mov,
/// avi, ...). mp4, mov and mkv default to H.264 (libx264, yuv420p), webm to
/// VP9; --codec and --crf are passed to ffmpeg. An existing file is replaced.
/// OUT `-` writes the frames to stdout: raw (ffmpeg's rawvideo layout of the
/// stream's format; the size and format are printed on stderr) or, with
/// --y4m, YUV4MPEG2 for YUV and gray streams.
///
/// Every frame is read in order. The output's timing follows the frames'
/// timestamps: the stream's rate is measured from its first frames (or given
/// with --fps), and frames the writer skipped or the recorder missed are
/// filled by repeating the previous frame (files only). Missed frames are
/// counted and reported at the end.
///
/// The recording ends after --frames or --seconds, on Ctrl-C, when the
/// writer stops, or when the stream changes its frame size or format: then
/// the file is finished cleanly with what was recorded and a message says
/// so (exit status 0; start another recording for the new format).
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct RecordArgs {
    /// Stream name.
    #[arg(long, default_value = "default")]
    pub name: String,

    /// Where to record: a video file, or `-` for stdout.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,

    /// Stop after this many frames of output.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,

    /// Stop after this many seconds of the stream.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    pub seconds: Option<Duration>,

    /// The stream's frame rate (default: measured from its frame timestamps).
    #[arg(long, value_parser = parse_fps)]
    pub fps: Option<f64>,

    /// ffmpeg video codec (default by extension: libx264 for mp4/mov/mkv, libvpx-vp9 for webm).
    #[arg(long)]
    pub codec: Option<String>,

    /// Constant rate factor passed to the codec (quality: lower is better; x264's default is 23).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=63))]
    pub crf: Option<u8>,

    /// With OUT `-`: write YUV4MPEG2 instead of raw frames.
    #[arg(long)]
    pub y4m: bool,

    /// Wait up to this many seconds for the stream to appear.
    #[arg(long, value_name = "SECONDS", default_value = "0", value_parser = parse_seconds)]
    pub wait: Duration,

    /// No progress messages on stderr (errors and the final summary are still shown).
    #[arg(long, short)]
    pub quiet: bool,
}

impl RecordArgs {
    fn to_stdout(&self) -> bool {
        self.out.as_os_str() == "-"
    }
}

/// Why a recording ended.
enum End {
    Limit,
    Stopped,
    WriterGone,
    Changed(FrameMeta, u64),
    OutputClosed,
}

/// Runs `shmframe record`.
pub fn run(args: RecordArgs) -> CliResult<()> {
    shmframe::validate_name(&args.name)?;
    if args.y4m && !args.to_stdout() {
        return Err(CliError::new(
            "--y4m is for OUT `-` (stdout); a file named .y4m is written by ffmpeg",
        ));
    }
    if args.to_stdout() && (args.codec.is_some() || args.crf.is_some()) {
        return Err(CliError::new(
            "--codec and --crf apply to a video file, not to OUT `-`",
        ));
    }
    let stop = Stop::install()?;
    let deadline = Instant::now() + args.wait;
    let mut reader = open_until(&args.name, deadline, "Start its publisher first.", || None)?;
    let Some((first, pixels)) = first_frame(&mut reader, &stop, &args.name)? else {
        return Ok(());
    };
    let meta = first.meta;
    FrameView::new(&meta, &pixels).map_err(|e| CliError::new(e.to_string()))?;
    let timed = !args.to_stdout() || args.y4m;
    let mut pending = vec![(first, pixels)];
    let rate = match args.fps {
        Some(fps) => Some(Rate::from_fps(fps)),
        None if timed => Some(measure(&mut reader, &mut pending, &stop)?),
        None => None,
    };
    let recording = Recording::new(&args, meta, rate)?;
    recording.record(&args, reader, pending, &stop)
}

/// Waits for the stream's first frame (until a stop, or the writer is gone).
fn first_frame(
    reader: &mut Reader,
    stop: &Stop,
    name: &str,
) -> CliResult<Option<(FrameInfo, Vec<u8>)>> {
    let mut pixels = Vec::new();
    loop {
        if stop.is_set() {
            return Ok(None);
        }
        if let Some(frame) = reader.wait_next(&mut pixels, POLL)? {
            return Ok(Some((frame, pixels)));
        }
        if !reader.writer_alive() {
            return Err(CliError::new(format!(
                "stream `{name}` has no frame and its writer is not running"
            )));
        }
    }
}

/// The stream's rate from its first frames (kept in `pending` to be recorded).
fn measure(
    reader: &mut Reader,
    pending: &mut Vec<(FrameInfo, Vec<u8>)>,
    stop: &Stop,
) -> CliResult<Rate> {
    let start = Instant::now();
    let meta = pending[0].0.meta;
    while pending.len() < MEASURE_FRAMES && start.elapsed() < MEASURE_FOR && !stop.is_set() {
        let mut pixels = Vec::new();
        if let Some(frame) = reader.wait_next(&mut pixels, POLL)? {
            pending.push((frame, pixels));
            if frame.meta != meta {
                break;
            }
        }
    }
    let samples: Vec<(u64, u64)> = pending
        .iter()
        .map(|(f, _)| (f.number, f.timestamp_ns))
        .collect();
    Ok(Rate::measured(&samples).unwrap_or_else(|| {
        eprintln!("shmframe: the stream published one frame in {MEASURE_FOR:?}; recording at 30 fps (use --fps to say its rate)");
        Rate::from_fps(30.0)
    }))
}

/// What the output thread is handed.
enum Item {
    /// A frame's packed bytes.
    Frame(Vec<u8>),
    /// Write the previous frame again this many times.
    Repeat(u64),
}

/// The output side: the queue to the output thread, and ffmpeg if it encodes.
struct Recording {
    meta: FrameMeta,
    rate: Option<Rate>,
    queue: SyncSender<Item>,
    output: JoinHandle<std::io::Result<()>>,
    ffmpeg: Option<GuardedChild>,
    what: String,
}

impl Recording {
    /// Starts the output: ffmpeg writing `args.out`, or stdout.
    fn new(args: &RecordArgs, meta: FrameMeta, rate: Option<Rate>) -> CliResult<Recording> {
        let len = meta.checked_len()?;
        let depth = (QUEUE_BYTES / len.max(1)).clamp(2, 240);
        let (queue, items) = sync_channel(depth);
        let format = meta.format.ffmpeg_name();
        let size = format!("{}x{}", meta.width, meta.height);
        let (sink, ffmpeg, what, header): (Box<dyn Write + Send>, _, _, _) = if args.to_stdout() {
            let header = match (args.y4m, rate) {
                (true, Some(rate)) => Some(y4m::header(&meta, rate).map_err(CliError::new)?),
                _ => None,
            };
            let what = if args.y4m {
                format!("y4m ({size} {format}) on stdout")
            } else {
                format!("raw {size} {format} frames on stdout (ffmpeg: -f rawvideo -pix_fmt {format} -video_size {size})")
            };
            (Box::new(std::io::stdout()), None, what, header)
        } else {
            let rate = rate.unwrap_or(Rate { num: 30, den: 1 });
            let mut child = start_ffmpeg(args, &meta, rate)?;
            let Some(stdin) = child.take_stdin() else {
                return Err(CliError::new("ffmpeg's input pipe is missing"));
            };
            let what = format!(
                "{} ({size} {format} at {:.3} fps)",
                args.out.display(),
                rate.fps()
            );
            (Box::new(stdin), Some(child), what, None)
        };
        let y4m_meta = args.y4m.then_some(meta);
        let output = std::thread::spawn(move || write_items(sink, header, y4m_meta, items));
        Ok(Recording {
            meta,
            rate,
            queue,
            output,
            ffmpeg,
            what,
        })
    }

    /// Reads frames in order and queues them until the recording ends.
    fn record(
        mut self,
        args: &RecordArgs,
        mut reader: Reader,
        pending: Vec<(FrameInfo, Vec<u8>)>,
        stop: &Stop,
    ) -> CliResult<()> {
        if !args.quiet {
            eprintln!("recording `{}` to {}; Ctrl-C to stop", args.name, self.what);
        }
        let mut tally = Tally::default();
        let started = Instant::now();
        let first_ts = pending[0].0.timestamp_ns;
        let mut pending = pending.into_iter();
        let mut pixels = Vec::new();
        let end = loop {
            let frame = match pending.next() {
                Some((frame, buf)) => {
                    pixels = buf;
                    frame
                }
                None => {
                    if stop.is_set() {
                        break End::Stopped;
                    }
                    if args
                        .seconds
                        .is_some_and(|s| started.elapsed() > s + POLL * 10)
                    {
                        break End::Limit;
                    }
                    match reader.wait_next(&mut pixels, POLL)? {
                        Some(frame) => frame,
                        None if reader.writer_alive() => continue,
                        None => break End::WriterGone,
                    }
                }
            };
            tally.missed += frame.missed;
            if frame.meta != self.meta {
                break End::Changed(frame.meta, frame.number);
            }
            let since_start = frame.timestamp_ns.saturating_sub(first_ts);
            if args
                .seconds
                .is_some_and(|s| u128::from(since_start) >= s.as_nanos())
            {
                break End::Limit;
            }
            if let Some(end) = self.queue_frame(args, &frame, &pixels, since_start, &mut tally) {
                break end;
            }
            if args.frames.is_some_and(|k| tally.written >= k) {
                break End::Limit;
            }
        };
        self.finish(args, end, &tally)
    }

    /// Queues `frame` (and any repeats its timestamp calls for); an end if the output is gone.
    fn queue_frame(
        &mut self,
        args: &RecordArgs,
        frame: &FrameInfo,
        pixels: &[u8],
        since_start: u64,
        tally: &mut Tally,
    ) -> Option<End> {
        // Only encoded files carry timing; y4m and raw take frames as they come.
        if let (Some(rate), false) = (self.rate, args.to_stdout()) {
            let slot = (since_start as f64 / rate.period_ns()).round() as u64;
            let cap = (MAX_GAP_SECONDS * rate.fps()) as u64;
            let room = args
                .frames
                .map_or(u64::MAX, |k| k.saturating_sub(tally.written + 1));
            let gap = slot.saturating_sub(tally.written).min(cap).min(room);
            if gap > 0 {
                if self.queue.send(Item::Repeat(gap)).is_err() {
                    return Some(End::OutputClosed);
                }
                tally.written += gap;
                tally.repeated += gap;
            }
        }
        let packed = match FrameView::new(&frame.meta, pixels) {
            Ok(view) => view.packed(),
            // The engine validated the frame: this is a defect, reported as such.
            Err(e) => {
                eprintln!("shmframe: frame {} skipped: {e}", frame.number);
                tally.missed += 1;
                return None;
            }
        };
        if self.queue.send(Item::Frame(packed)).is_err() {
            return Some(End::OutputClosed);
        }
        tally.written += 1;
        tally.read += 1;
        None
    }

    /// Ends the output (ffmpeg finishes the file) and reports.
    fn finish(self, args: &RecordArgs, end: End, tally: &Tally) -> CliResult<()> {
        let Recording {
            meta,
            queue,
            output,
            mut ffmpeg,
            what,
            ..
        } = self;
        drop(queue);
        let written = output
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the output thread panicked")));
        let status = ffmpeg.as_mut().and_then(|f| f.finish(FINISH_TIMEOUT));
        if let Some(status) = status.filter(|s| !s.success()) {
            return Err(CliError::new(format!(
                "ffmpeg exited with {status} while writing {} (its message is above)",
                args.out.display()
            )));
        }
        let closed = match written {
            Ok(()) => false,
            Err(e) if e.kind() == ErrorKind::BrokenPipe => true,
            Err(e) => return Err(CliError::new(format!("writing {what}: {e}"))),
        };
        let why = match end {
            _ if closed && ffmpeg.is_some() => "ffmpeg stopped reading frames".to_string(),
            _ if closed => "the reader of stdout closed it".to_string(),
            End::OutputClosed => "the output closed".to_string(),
            End::Limit => "the requested length was reached".to_string(),
            End::Stopped => "stopped".to_string(),
            End::WriterGone => format!("the writer of `{}` stopped", args.name),
            End::Changed(new, number) => format!(
                "the stream changed from {} to {} at frame {number}; the recording ends here (record again for the new format)",
                describe(&meta),
                describe(&new)
            ),
        };
        eprintln!(
            "recorded {} frames to {what}: {} read, {} missed, {} repeated to keep the timing ({why})",
            tally.written, tally.read, tally.missed, tally.repeated
        );
        Ok(())
    }
}

/// `WxH format` (with the colorimetry for YUV).
fn describe(meta: &FrameMeta) -> String {
    let mut text = format!(
        "{}x{} {}",
        meta.width,
        meta.height,
        meta.format.ffmpeg_name()
    );
    if meta.format.is_yuv() {
        text += &format!(" ({})", color_names::describe(meta.color));
    }
    text
}

/// Counts for the final report.
#[derive(Default)]
struct Tally {
    /// Frames written to the output, repeats included.
    written: u64,
    /// Frames read from the stream and written.
    read: u64,
    /// Frames the writer published that the recorder never got.
    missed: u64,
    /// Output frames that repeat the one before (gaps in the timestamps).
    repeated: u64,
}

/// The output thread: writes each queued frame (and repeats) to `sink`.
fn write_items(
    sink: Box<dyn Write + Send>,
    header: Option<String>,
    y4m_meta: Option<FrameMeta>,
    items: Receiver<Item>,
) -> std::io::Result<()> {
    let mut sink = std::io::BufWriter::with_capacity(1 << 20, sink);
    if let Some(header) = header {
        sink.write_all(header.as_bytes())?;
    }
    let mut encoded = Vec::new();
    for item in items {
        match item {
            Item::Frame(packed) => {
                encoded.clear();
                match y4m_meta {
                    Some(meta) => y4m::frame(&meta, &packed, &mut encoded),
                    None => encoded.extend_from_slice(&packed),
                }
                sink.write_all(&encoded)?;
            }
            Item::Repeat(times) => {
                for _ in 0..times {
                    sink.write_all(&encoded)?;
                }
            }
        }
    }
    sink.flush()
}

/// Starts ffmpeg encoding raw `meta` frames at `rate` from its stdin into `args.out`.
fn start_ffmpeg(args: &RecordArgs, meta: &FrameMeta, rate: Rate) -> CliResult<GuardedChild> {
    let mut command = ffmpeg::command("ffmpeg");
    command
        .args(["-f", "rawvideo", "-pix_fmt", meta.format.ffmpeg_name()])
        .args(["-video_size", &format!("{}x{}", meta.width, meta.height)])
        .args(["-framerate", &rate.to_string()]);
    if meta.format.is_yuv() {
        // The decoder tags the frames, so the encoder converts from the right colours.
        let range = match meta.color.range {
            ColorRange::Limited => "tv",
            ColorRange::Full => "pc",
        };
        let matrix = match meta.color.matrix {
            ColorMatrix::Bt601 => "smpte170m",
            ColorMatrix::Bt709 => "bt709",
        };
        command.args(["-color_range", range, "-colorspace", matrix]);
    }
    command.args(["-i", "pipe:0"]);
    let codec = args
        .codec
        .clone()
        .or_else(|| default_codec(&args.out).map(str::to_string));
    if let Some(codec) = &codec {
        command.args(["-c:v", codec]);
        if ["libx264", "libx265", "libvpx", "libaom", "libsvtav1"]
            .iter()
            .any(|c| codec.starts_with(c))
        {
            // Players expect 4:2:0, which needs even sides: pad an odd one by a pixel.
            command.args([
                "-pix_fmt",
                "yuv420p",
                "-vf",
                "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            ]);
        }
    }
    if let Some(crf) = args.crf {
        command.args(["-crf", &crf.to_string()]);
    }
    command
        .arg("-y")
        .arg(&args.out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    ffmpeg::spawn(&mut command, "ffmpeg", "ffmpeg (encoding the recording)")
}

/// The codec a file of this extension gets by default, if shmframe picks one.
fn default_codec(out: &Path) -> Option<&'static str> {
    let ext = out.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "m4v" | "mov" | "mkv" => Some("libx264"),
        "webm" => Some("libvpx-vp9"),
        _ => None,
    }
}
