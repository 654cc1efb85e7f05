//! `shmframe publish`: the arguments, and the choice between files, test pattern and stdin.

use crate::fail::{CliError, CliResult};
use crate::size::Size;
use crate::{publish_files, publish_pattern, publish_raw};
use clap::{Args, ValueEnum};
use shmframe::{PixelFormat, WriterOptions};
use std::path::PathBuf;

/// Publish images, an animated test pattern or raw video from stdin as a stream
///
/// Files: one still image is published once and stays available until Ctrl-C.
/// Several images, directories (their PNG/JPEG/GIF/BMP files in name order) or
/// a GIF are streamed at --fps (default: the GIF's own frame delays, else 30);
/// after the last frame, the last frame stays available until Ctrl-C, unless
/// --loop starts over. Every file is checked before anything is published: a
/// file that is not a valid image is reported by name and nothing is published.
///
/// --pattern: moving colour bars with the frame number and timestamp drawn in,
/// at 60 fps by default, until Ctrl-C.
///
/// --raw: frames from standard input as ffmpeg writes them, for example
///   ffmpeg -re -i video.mp4 -f rawvideo -pix_fmt rgb24 -s 640x360 - | shmframe publish --raw 640x360 --format rgb24
/// Frames are published as they arrive (or at --fps). When stdin ends the
/// stream is removed and publish exits 0, unless --hold keeps the last frame
/// available until Ctrl-C. A short final frame is reported, not published;
/// if no whole frame came at all (the size or format does not match the
/// producer), or stdin was empty, publish exits 1.
///
/// On Ctrl-C (or SIGTERM) the writer closes and the stream's name is removed.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct PublishArgs {
    /// Stream name (letters, digits, `.`, `_`, `-`).
    #[arg(long, default_value = "default")]
    pub name: String,

    /// Frames per second (default: GIF timing, else 30 for files, 60 for --pattern, as fast as stdin for --raw).
    #[arg(long, value_parser = parse_fps)]
    pub fps: Option<f64>,

    /// Start over after the last image or GIF frame, until Ctrl-C.
    #[arg(long = "loop", conflicts_with_all = ["pattern", "raw"])]
    pub repeat: bool,

    /// Slots in the ring (2 = double buffering; more lets in-order readers fall further behind).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(2..=1024))]
    pub slots: u16,

    /// Permissions of the stream: 600 (you only), 640 (group may read) or 644 (everyone may read).
    #[arg(long, value_enum, default_value = "600")]
    pub mode: Mode,

    /// Publish an animated test pattern of this size instead of files.
    #[arg(long, value_name = "WxH", num_args = 0..=1, default_missing_value = "640x360",
          conflicts_with_all = ["raw", "inputs"])]
    pub pattern: Option<Size>,

    /// Read raw frames of this size from standard input instead of files.
    #[arg(
        long,
        value_name = "WxH",
        requires = "format",
        conflicts_with = "inputs"
    )]
    pub raw: Option<Size>,

    /// Pixel format of --raw input (ffmpeg's -pix_fmt name).
    #[arg(long, value_enum, requires = "raw")]
    pub format: Option<RawFormat>,

    /// With --raw: keep the last frame available after stdin ends, until Ctrl-C.
    #[arg(long, requires = "raw")]
    pub hold: bool,

    /// No status line or progress messages on stderr (errors are still shown).
    #[arg(long, short)]
    pub quiet: bool,

    /// Image files (PNG, JPEG, GIF, BMP) or directories of them.
    #[arg(value_name = "INPUT", required_unless_present_any = ["pattern", "raw"])]
    pub inputs: Vec<PathBuf>,
}

/// File mode of the stream's segment.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Mode {
    #[value(name = "600")]
    Private,
    #[value(name = "640")]
    Group,
    #[value(name = "644")]
    Everyone,
}

/// Raw pixel formats, named as ffmpeg's `-pix_fmt`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RawFormat {
    Rgb24,
    Rgba,
    Bgra,
    Gray,
}

impl RawFormat {
    /// The stream format of the same bytes.
    pub fn pixel_format(self) -> PixelFormat {
        match self {
            RawFormat::Rgb24 => PixelFormat::Rgb8,
            RawFormat::Rgba => PixelFormat::Rgba8,
            RawFormat::Bgra => PixelFormat::Bgra8,
            RawFormat::Gray => PixelFormat::Gray8,
        }
    }

    /// ffmpeg's name for the format.
    pub fn name(self) -> &'static str {
        match self {
            RawFormat::Rgb24 => "rgb24",
            RawFormat::Rgba => "rgba",
            RawFormat::Bgra => "bgra",
            RawFormat::Gray => "gray",
        }
    }
}

pub fn parse_fps(text: &str) -> Result<f64, String> {
    let fps: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of frames per second"))?;
    if !(fps.is_finite() && (0.01..=10_000.0).contains(&fps)) {
        return Err(format!("{text} fps is outside 0.01..=10000"));
    }
    Ok(fps)
}

impl PublishArgs {
    /// Writer options with `slot_capacity` bytes per slot.
    pub fn writer_options(&self, slot_capacity: usize) -> WriterOptions {
        WriterOptions {
            slots: usize::from(self.slots),
            slot_capacity,
            mode: match self.mode {
                Mode::Private => 0o600,
                Mode::Group => 0o640,
                Mode::Everyone => 0o644,
            },
        }
    }

    /// Prints a progress message unless --quiet.
    pub fn say(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}

/// Runs `shmframe publish`.
pub fn run(args: PublishArgs) -> CliResult<()> {
    // Check the name before decoding anything, so a typo fails fast.
    shmframe::validate_name(&args.name).map_err(CliError::from)?;
    if let Some(size) = args.pattern {
        publish_pattern::run(&args, size)
    } else if let (Some(size), Some(format)) = (args.raw, args.format) {
        publish_raw::run(&args, size, format)
    } else {
        publish_files::run(&args)
    }
}
