//! `shmframe publish VIDEO`: a video file or device, decoded by an ffmpeg child.
//!
//! ffprobe gives the size, rate and pixel format first; ffmpeg then writes
//! raw frames of the chosen format to a pipe, and they are published at the
//! file's own rate (or --fps; a device's frames as they come). The video's
//! own format is kept when shmframe has it, else ffmpeg converts to a close one.

use crate::child::GuardedChild;
use crate::fail::{CliError, CliResult};
use crate::ffmpeg::{self, Published, VideoProbe};
use crate::publish_args::PublishArgs;
use crate::publish_raw::{Pumped, RawSource};
use crate::stop::Stop;
use shmframe::{FrameMeta, Writer};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Rate of a video file whose rate ffprobe does not know.
const FALLBACK_FPS: f64 = 30.0;

/// Publishes the video at `path`, which ffprobe described as `probe`.
pub fn run(args: &PublishArgs, path: &Path, probe: &VideoProbe) -> CliResult<()> {
    let device = ffmpeg::is_device(path);
    let published = ffmpeg::published_format(probe);
    let meta =
        FrameMeta::packed(probe.width, probe.height, published.format).with_color(published.color);
    let len = meta
        .checked_len()
        .map_err(|e| CliError::new(format!("{}: {e}", path.display())))?;
    // A device delivers at its own pace; a file is paced at its rate.
    let fps = match (args.fps, device) {
        (Some(fps), _) => Some(fps),
        (None, true) => None,
        (None, false) => Some(probe.fps.unwrap_or(FALLBACK_FPS)),
    };
    let stop = Stop::install()?;
    let mut writer = Writer::create(&args.name, &args.writer_options(len))?;
    let mut ffmpeg = start_ffmpeg(args, path, &published)?;
    let Some(frames) = ffmpeg.take_stdout() else {
        return Err(CliError::new("ffmpeg's output pipe is missing"));
    };
    let describe = format!(
        "{} ({}x{} {}{}, {}{})",
        path.display(),
        probe.width,
        probe.height,
        published.format.ffmpeg_name(),
        conversion_note(probe, &published),
        fps.map_or("as the device delivers".to_string(), |f| format!(
            "{f:.3} fps"
        )),
        if args.repeat { ", looping" } else { "" }
    );
    let source = RawSource {
        meta,
        from: "ffmpeg",
        describe: &describe,
        fps,
    };
    let published_frames = match source.publish(args, &mut writer, frames, Some(&mut ffmpeg), &stop)
    {
        Ok(Pumped::Stopped) => return Ok(()),
        Ok(Pumped::Ended(n)) => n,
        // ffmpeg's own message (on stderr) says why it stopped early.
        Err(err) => return Err(failed_with(&mut ffmpeg, err)),
    };
    match ffmpeg.finish(Duration::from_secs(5)) {
        Some(status) if status.success() => {}
        Some(status) => {
            return Err(CliError::new(format!(
                "ffmpeg exited with {status} after {published_frames} frames of {} (its message is above)",
                path.display()
            )))
        }
        None => {}
    }
    args.say(&format!(
        "{}: published {published_frames} frames of {}; holding the last one until Ctrl-C",
        args.name,
        path.display()
    ));
    stop.wait();
    Ok(())
}

/// `, converted from yuv444p` when ffmpeg converts, else nothing.
fn conversion_note(probe: &VideoProbe, published: &Published) -> String {
    if published.converted {
        format!(", converted from {}", probe.pix_fmt)
    } else {
        String::new()
    }
}

/// Starts ffmpeg decoding `path` to raw `published` frames on its stdout.
fn start_ffmpeg(args: &PublishArgs, path: &Path, published: &Published) -> CliResult<GuardedChild> {
    let mut command = ffmpeg::command("ffmpeg");
    command.arg("-nostdin");
    if args.repeat && !ffmpeg::is_device(path) {
        command.args(["-stream_loop", "-1"]);
    }
    command
        .args(ffmpeg::input_args(path))
        .args(["-map", "0:v:0", "-an", "-sn", "-f", "rawvideo"])
        // Every decoded frame once, in order: the pacing here sets the timing.
        .args(["-fps_mode", "passthrough"])
        .args(["-pix_fmt", published.ffmpeg_pix_fmt, "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    ffmpeg::spawn(&mut command, "ffmpeg", "ffmpeg (decoding the video)")
}

/// `err`, or ffmpeg's failure if ffmpeg failed (which is then the cause).
fn failed_with(ffmpeg: &mut GuardedChild, err: CliError) -> CliError {
    match ffmpeg.finish(Duration::from_secs(2)) {
        Some(status) if !status.success() => CliError::new(format!(
            "ffmpeg exited with {status} (its message is above); {err}"
        )),
        _ => err,
    }
}
