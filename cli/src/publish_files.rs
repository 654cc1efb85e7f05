//! `shmframe publish FILE...`: still images, image sequences and GIFs.

use crate::decode::{self, Frame, Kind, Probe};
use crate::fail::{CliError, CliResult};
use crate::ffmpeg::{self, NotVideo, VideoProbe};
use crate::inputs;
use crate::pace::{period_of, Pacer};
use crate::publish_args::PublishArgs;
use crate::publish_video;
use crate::status::StatusLine;
use crate::stop::Stop;
use shmframe::Writer;
use std::path::Path;

/// Frame period of an image sequence without --fps or GIF timing.
const DEFAULT_FPS: f64 = 30.0;
/// Most bytes of decoded frames kept for --loop; longer sequences are decoded again on every pass.
const CACHE_BUDGET: usize = 256 << 20;

/// Runs `publish` on image files and directories, or on one video.
pub fn run(args: &PublishArgs) -> CliResult<()> {
    if let [only] = args.inputs.as_slice() {
        if let Some(video) = video_input(only)? {
            return publish_video::run(args, only, &video);
        }
    }
    let files = inputs::expand(&args.inputs)?;
    // Read every header first: a bad file fails before anything is published.
    let probes = files
        .iter()
        .map(|path| decode::probe(path))
        .collect::<CliResult<Vec<Probe>>>()?;
    let capacity = probes.iter().map(|p| p.frame_len).max().unwrap_or(1);
    let stop = Stop::install()?;
    match probes.as_slice() {
        [only] if only.kind == Kind::Still => publish_still(args, only, &stop),
        _ => stream(args, &probes, capacity, &stop),
    }
}

/// The video at `path`, if it is one: a device, or a file the image decoders
/// do not recognise and ffprobe reads as video. A file that is neither is
/// reported with both verdicts.
fn video_input(path: &Path) -> CliResult<Option<VideoProbe>> {
    let is_file = path.is_file();
    if !ffmpeg::is_device(path) && (!is_file || decode::looks_like_image(path) || is_empty(path)) {
        return Ok(None);
    }
    match ffmpeg::probe(path) {
        Ok(video) => Ok(Some(video)),
        Err(_) if ffmpeg::is_device(path) => {
            // Let ffmpeg open it and say what is wrong.
            Err(CliError::new(format!(
                "{}: ffprobe cannot read this device as video",
                path.display()
            )))
        }
        Err(NotVideo::Refused(why)) => Err(CliError::new(format!(
            "{}: not an image (the content is not PNG, JPEG, GIF or BMP) and not a video ffmpeg can read ({why})",
            path.display()
        ))),
        Err(NotVideo::NoProbe(err)) => Err(CliError::new(format!(
            "{}: not an image (the content is not PNG, JPEG, GIF or BMP); if it is a video: {err}",
            path.display()
        ))),
    }
}

fn is_empty(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == 0)
}

/// Publishes one image once and keeps it available until a stop.
fn publish_still(args: &PublishArgs, probe: &Probe, stop: &Stop) -> CliResult<()> {
    let frame = decode_all(probe)?.remove(0);
    let mut writer = Writer::create(&args.name, &args.writer_options(frame.pixels.len()))?;
    writer.publish(&frame.meta, &frame.pixels)?;
    args.say(&format!(
        "publishing {} ({}x{} {}) as `{}`; Ctrl-C to stop",
        probe.path.display(),
        frame.meta.width,
        frame.meta.height,
        frame.meta.format,
        args.name
    ));
    stop.wait();
    Ok(())
}

/// Decodes every frame of a still image (exactly one).
fn decode_all(probe: &Probe) -> CliResult<Vec<Frame>> {
    decode::frames(probe)?.collect()
}

/// Streams every frame of every file, paced, once or (--loop) until a stop.
fn stream(args: &PublishArgs, probes: &[Probe], capacity: usize, stop: &Stop) -> CliResult<()> {
    let mut out = Paced::new(args, capacity, stop);
    let mut cache = args.repeat.then(FrameCache::default);
    if !args.quiet {
        let rate = match args.fps {
            Some(fps) => format!("{fps} fps"),
            None if probes.iter().any(|p| p.kind == Kind::Animation) => "the GIF's timing".into(),
            None => format!("{DEFAULT_FPS} fps"),
        };
        eprintln!(
            "streaming {} file(s) as `{}` at {rate}; Ctrl-C to stop",
            probes.len(),
            args.name
        );
    }
    // First pass: decode from the files, keeping frames for --loop if they fit.
    for probe in probes {
        for frame in decode::frames(probe)? {
            let frame = frame?;
            if !out.show(&frame)? {
                return Ok(());
            }
            if let Some(cache) = cache.as_mut() {
                cache.offer(frame);
            }
        }
    }
    if out.published == 0 {
        // Only a GIF can decode to no frames at all.
        return Err(CliError::new(
            "the input files hold no frames; nothing was published",
        ));
    }
    if args.repeat {
        loop {
            match cache.as_ref().filter(|c| !c.overflowed) {
                Some(cache) => {
                    for frame in &cache.frames {
                        if !out.show(frame)? {
                            return Ok(());
                        }
                    }
                }
                None => {
                    for probe in probes {
                        for frame in decode::frames(probe)? {
                            if !out.show(&frame?)? {
                                return Ok(());
                            }
                        }
                    }
                }
            }
        }
    }
    out.status.note(&format!(
        "{}: published {} frames; holding the last one until Ctrl-C",
        args.name, out.published
    ));
    stop.wait();
    Ok(())
}

/// A writer fed at deadlines, with the live status line.
struct Paced<'a> {
    args: &'a PublishArgs,
    stop: &'a Stop,
    capacity: usize,
    writer: Option<Writer>,
    pacer: Pacer,
    status: StatusLine,
    published: u64,
}

impl<'a> Paced<'a> {
    fn new(args: &'a PublishArgs, capacity: usize, stop: &'a Stop) -> Self {
        Paced {
            args,
            stop,
            capacity,
            writer: None,
            pacer: Pacer::new(),
            status: StatusLine::new(&args.name, args.quiet),
            published: 0,
        }
    }

    /// Publishes `frame` at its deadline; `false` if a stop came first.
    fn show(&mut self, frame: &Frame) -> CliResult<bool> {
        if self.pacer.wait(self.stop) {
            return Ok(false);
        }
        let len = frame.pixels.len();
        let writer = match self.writer.as_mut() {
            Some(writer) => writer,
            // Created at the first frame, so a file that fails to decode publishes nothing.
            None => self.writer.insert(Writer::create(
                &self.args.name,
                &self.args.writer_options(self.capacity.max(len)),
            )?),
        };
        if len > writer.slot_capacity() {
            // Only if a decoder produced more than its header promised; readers follow.
            writer.reconfigure(&self.args.writer_options(len))?;
        }
        writer.publish(&frame.meta, &frame.pixels)?;
        self.published += 1;
        let period = match (self.args.fps, frame.delay) {
            (Some(fps), _) => period_of(fps),
            (None, Some(delay)) => delay,
            (None, None) => period_of(DEFAULT_FPS),
        };
        self.pacer.advance(period);
        self.status.frame(self.published, self.pacer.skipped());
        Ok(true)
    }
}

/// Decoded frames kept for --loop while they fit in `CACHE_BUDGET`.
#[derive(Default)]
struct FrameCache {
    frames: Vec<Frame>,
    bytes: usize,
    overflowed: bool,
}

impl FrameCache {
    fn offer(&mut self, frame: Frame) {
        if self.overflowed {
            return;
        }
        self.bytes = self.bytes.saturating_add(frame.pixels.len());
        if self.bytes > CACHE_BUDGET {
            // Too long to keep: give the memory back and decode on every pass.
            self.overflowed = true;
            self.frames = Vec::new();
        } else {
            self.frames.push(frame);
        }
    }
}
