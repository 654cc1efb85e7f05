//! `shmframe publish`'s command line: the arguments every source (files,
//! video, pattern, raw stdin) reads, and their parsers. Kept apart from the
//! dispatcher in `publish.rs` so that the sources depend on it, not on the
//! dispatcher that calls them.

use crate::size::Size;
use clap::{Args, ValueEnum};
use shmframe::{ColorMatrix, ColorRange, PixelFormat, WriterOptions};
use std::path::PathBuf;

/// Publish images, a video, an animated test pattern or raw video from stdin as a stream
///
/// Files: one still image is published once and stays available until Ctrl-C.
/// Several images, directories (their PNG/JPEG/GIF/BMP files in name order) or
/// a GIF are streamed at --fps (default: the GIF's own frame delays, else 30);
/// after the last frame, the last frame stays available until Ctrl-C, unless
/// --loop starts over. Every file is checked before anything is published: a
/// file that is not a valid image is reported by name and nothing is published.
///
/// A video (one INPUT that is not an image: mp4, mkv, webm, mov, avi, ...,
/// recognised by its content) or a camera (/dev/video0) is decoded by ffmpeg
/// (apt-get install ffmpeg) and published at its own frame rate (--fps
/// overrides; a camera's frames as they come) in its own pixel format when
/// shmframe has it, else a close one; --loop repeats it. The last frame stays
/// available until Ctrl-C.
///
/// --pattern: moving colour bars with the frame number and timestamp drawn in,
/// at 60 fps by default, until Ctrl-C.
///
/// --raw: frames from standard input as ffmpeg writes them, for example
///   ffmpeg -re -i video.mp4 -f rawvideo -pix_fmt rgb24 -s 640x360 - | shmframe publish --raw 640x360 --format rgb24
/// Formats: rgb24, bgr24, rgba, bgra, gray, gray16le, grayf32le, nv12,
/// yuv420p, yuyv422 (ffmpeg's names); YUV is BT.601 limited range unless
/// --color-matrix/--color-range say otherwise.
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

    /// Frames per second (default: GIF timing, else 30 for images, a video's own rate, 60 for --pattern, as fast as stdin for --raw).
    #[arg(long, value_parser = parse_fps)]
    pub fps: Option<f64>,

    /// Start over after the last image, GIF frame or video frame, until Ctrl-C.
    #[arg(long = "loop", conflicts_with_all = ["pattern", "raw"])]
    pub repeat: bool,

    /// Slots in the ring (2 = double buffering; more lets in-order readers fall further behind).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(2..=1024))]
    pub slots: u16,

    /// Frames readers may hold in place at once (0: readers always copy); the
    /// ring gets at least holds + 2 slots, each of the slot capacity.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub holds: u16,

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

    /// Pixel format of --raw input, by ffmpeg's -pix_fmt name: rgb24, bgr24, rgba, bgra,
    /// gray, gray16le, grayf32le, nv12, yuv420p, yuyv422.
    #[arg(long, value_name = "PIX_FMT", requires = "raw", value_parser = parse_format)]
    pub format: Option<PixelFormat>,

    /// YUV matrix of --raw input (nv12, yuv420p, yuyv422).
    #[arg(
        long,
        value_enum,
        value_name = "MATRIX",
        requires = "raw",
        default_value = "bt601"
    )]
    pub color_matrix: MatrixArg,

    /// YUV range of --raw input (nv12, yuv420p, yuyv422): limited (tv) or full (pc).
    #[arg(
        long,
        value_enum,
        value_name = "RANGE",
        requires = "raw",
        default_value = "limited"
    )]
    pub color_range: RangeArg,

    /// With --raw: keep the last frame available after stdin ends, until Ctrl-C.
    #[arg(long, requires = "raw")]
    pub hold: bool,

    /// No status line or progress messages on stderr (errors are still shown).
    #[arg(long, short)]
    pub quiet: bool,

    /// Image files (PNG, JPEG, GIF, BMP) or directories of them; or one video
    /// file (anything ffmpeg decodes) or video device (/dev/video0).
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

/// A pixel format by ffmpeg's `-pix_fmt` name (or shmframe's own name).
pub fn parse_format(text: &str) -> Result<PixelFormat, String> {
    PixelFormat::from_name(text).ok_or_else(|| {
        let known: Vec<&str> = PixelFormat::ALL.iter().map(|f| f.ffmpeg_name()).collect();
        format!(
            "unknown pixel format `{text}`; use one of ffmpeg's -pix_fmt names: {}",
            known.join(", ")
        )
    })
}

/// The YUV to RGB matrix of a stream, as the command line names it.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MatrixArg {
    /// ITU-R BT.601 (SD video; what ffmpeg assumes for untagged video).
    Bt601,
    /// ITU-R BT.709 (HD video).
    Bt709,
}

/// The range of a stream's YUV values, as the command line names it.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RangeArg {
    /// Y 16..235, U and V 16..240 (ffmpeg's "tv").
    #[value(alias = "tv")]
    Limited,
    /// 0..255 (ffmpeg's "pc", JPEG).
    #[value(alias = "pc")]
    Full,
}

impl MatrixArg {
    /// The engine's matrix.
    pub fn matrix(self) -> ColorMatrix {
        match self {
            MatrixArg::Bt601 => ColorMatrix::Bt601,
            MatrixArg::Bt709 => ColorMatrix::Bt709,
        }
    }
}

impl RangeArg {
    /// The engine's range.
    pub fn range(self) -> ColorRange {
        match self {
            RangeArg::Limited => ColorRange::Limited,
            RangeArg::Full => ColorRange::Full,
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
            holds: usize::from(self.holds),
        }
    }

    /// Prints a progress message unless --quiet.
    pub fn say(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}
