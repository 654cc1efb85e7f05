//! ffmpeg and ffprobe as child processes: finding them, asking ffprobe what
//! a video is, and choosing the pixel format a video is published in.
//!
//! ffmpeg is an external program, never linked: every child is a
//! [`GuardedChild`] (stopped on every exit path, SIGTERM from the kernel if
//! shmframe dies) in its own process group, so that a Ctrl-C on the terminal
//! reaches shmframe alone, which then ends the child in order.

use crate::child::GuardedChild;
use crate::fail::{CliError, CliResult};
use serde_json::Value;
use shmframe::{ColorMatrix, ColorRange, Colorimetry, PixelFormat};
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long ffprobe may take to describe an input (a camera may be slow to open).
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The message for a missing ffmpeg or ffprobe.
pub fn missing(program: &str) -> String {
    format!(
        "{program} is not installed (or not on PATH); shmframe runs ffmpeg and ffprobe for \
         video files, devices and recording: install them with `apt-get install ffmpeg`"
    )
}

/// A command for `program` (ffmpeg or ffprobe), quiet but for errors, in its own process group.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .args(["-hide_banner", "-loglevel", "error"])
        .stdin(Stdio::null())
        .process_group(0);
    command
}

/// Starts `command` (of `program`), saying how to install it if it is missing.
pub fn spawn(command: &mut Command, program: &str, what: &str) -> CliResult<GuardedChild> {
    GuardedChild::spawn_or(command, what, |e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError::new(missing(program))
        } else {
            CliError::new(format!("cannot start {program}: {e}"))
        }
    })
}

/// Whether `path` is a video device (a character device such as /dev/video0),
/// read through ffmpeg's v4l2 input.
pub fn is_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// The ffmpeg input options for `path`: `-f v4l2` for a device, then `-i PATH`.
pub fn input_args(path: &Path) -> Vec<&OsStr> {
    let mut args: Vec<&OsStr> = Vec::new();
    if is_device(path) {
        args.extend(["-f", "v4l2"].map(OsStr::new));
    }
    args.push(OsStr::new("-i"));
    args.push(path.as_os_str());
    args
}

/// What ffprobe says about a video's first video stream.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoProbe {
    pub width: u32,
    pub height: u32,
    /// ffmpeg's name of the stream's pixel format.
    pub pix_fmt: String,
    /// Frames per second (`None` if ffprobe does not know).
    pub fps: Option<f64>,
    /// Tagged BT.709 (else BT.601, ffmpeg's assumption).
    pub bt709: bool,
    /// Tagged full range ("pc").
    pub full_range: bool,
}

/// Why ffprobe did not give a video.
#[derive(Debug)]
pub enum NotVideo {
    /// ffprobe is missing or failed to run.
    NoProbe(CliError),
    /// ffprobe read the file and found no video in it (its reason).
    Refused(String),
}

/// Asks ffprobe for the first video stream of `path`.
pub fn probe(path: &Path) -> Result<VideoProbe, NotVideo> {
    let mut command = command("ffprobe");
    command
        .args(["-select_streams", "v:0", "-show_entries"])
        .arg("stream=width,height,pix_fmt,r_frame_rate,avg_frame_rate,color_space,color_range:format=format_name")
        .args(["-of", "json"])
        .args(input_args(path))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut command, "ffprobe", "ffprobe").map_err(NotVideo::NoProbe)?;
    let (stdout, stderr) = (child.take_stdout(), child.take_stderr());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        if let Some(mut stdout) = stdout {
            let _ = stdout.read_to_end(&mut out);
        }
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_end(&mut err);
        }
        let _ = tx.send((out, err));
    });
    let Ok((out, err)) = rx.recv_timeout(PROBE_TIMEOUT) else {
        return Err(NotVideo::Refused(format!(
            "ffprobe did not answer within {} s",
            PROBE_TIMEOUT.as_secs()
        )));
    };
    let status = child.finish(Duration::from_secs(5));
    let reason = String::from_utf8_lossy(&err).trim().to_string();
    if !status.is_some_and(|s| s.success()) {
        let reason = reason
            .rsplit_once(": ")
            .map_or(reason.as_str(), |(_, why)| why)
            .to_string();
        return Err(NotVideo::Refused(if reason.is_empty() {
            "ffprobe cannot read it".into()
        } else {
            format!("ffprobe: {reason}")
        }));
    }
    parse_probe(&out).map_err(NotVideo::Refused)
}

/// Parses ffprobe's JSON answer.
fn parse_probe(json: &[u8]) -> Result<VideoProbe, String> {
    let value: Value =
        serde_json::from_slice(json).map_err(|e| format!("ffprobe's answer is not JSON: {e}"))?;
    let format = value["format"]["format_name"].as_str().unwrap_or("");
    // ffprobe reads still images as one-frame videos: those are not videos here.
    if format == "image2" || format.ends_with("_pipe") {
        return Err(format!("ffprobe reads it as a still image ({format})"));
    }
    let stream = &value["streams"][0];
    let side = |key: &str| -> Result<u32, String> {
        let n = stream[key].as_u64().unwrap_or(0);
        u32::try_from(n)
            .ok()
            .filter(|&n| (1..=crate::size::MAX_SIDE).contains(&n))
            .ok_or_else(|| {
                if stream.is_null() {
                    "ffprobe finds no video stream in it".to_string()
                } else {
                    format!(
                        "its video {key} {n} is outside 1..={}",
                        crate::size::MAX_SIDE
                    )
                }
            })
    };
    let (width, height) = (side("width")?, side("height")?);
    let rate = |key: &str| stream[key].as_str().and_then(parse_rate);
    Ok(VideoProbe {
        width,
        height,
        pix_fmt: stream["pix_fmt"].as_str().unwrap_or("").to_string(),
        fps: rate("avg_frame_rate").or_else(|| rate("r_frame_rate")),
        bt709: stream["color_space"].as_str() == Some("bt709"),
        full_range: stream["color_range"].as_str() == Some("pc"),
    })
}

/// `30000/1001` or `25` as frames per second, if it is a usable rate.
fn parse_rate(text: &str) -> Option<f64> {
    let (num, den) = text.split_once('/').unwrap_or((text, "1"));
    let fps = num.trim().parse::<f64>().ok()? / den.trim().parse::<f64>().ok()?;
    (fps.is_finite() && (0.01..=10_000.0).contains(&fps)).then_some(fps)
}

/// The pixel format a video is published in, and what ffmpeg is asked to output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// The stream's format.
    pub format: PixelFormat,
    /// ffmpeg's `-pix_fmt` for the output (the stream format's name, or a
    /// layout-identical alias such as yuvj420p).
    pub ffmpeg_pix_fmt: &'static str,
    /// The frames' colorimetry (YUV only).
    pub color: Colorimetry,
    /// Whether ffmpeg converts (the video's own format is not supported).
    pub converted: bool,
}

/// The supported format closest to the video's own `probe.pix_fmt`: the same
/// when shmframe has it (no conversion), else one with the same chroma
/// subsampling or depth, else RGB.
pub fn published_format(probe: &VideoProbe) -> Published {
    let source = probe.pix_fmt.as_str();
    let color = Colorimetry {
        matrix: if probe.bt709 {
            ColorMatrix::Bt709
        } else {
            ColorMatrix::Bt601
        },
        range: if probe.full_range {
            ColorRange::Full
        } else {
            ColorRange::Limited
        },
    };
    let same = |format: PixelFormat| Published {
        format,
        ffmpeg_pix_fmt: format.ffmpeg_name(),
        color: if format.is_yuv() {
            color
        } else {
            Colorimetry::default()
        },
        converted: false,
    };
    if let Some(format) = PixelFormat::ALL
        .into_iter()
        .find(|f| f.ffmpeg_name() == source)
    {
        return same(format);
    }
    if source == "yuvj420p" {
        // JPEG-range 4:2:0 has yuv420p's layout: published as is, tagged full range.
        return Published {
            ffmpeg_pix_fmt: "yuvj420p",
            color: Colorimetry {
                range: ColorRange::Full,
                ..color
            },
            ..same(PixelFormat::I420)
        };
    }
    let format = if source.starts_with("yuvj") || source.contains("444") {
        // Full chroma or JPEG-range planes: RGB keeps the colours.
        PixelFormat::Rgb8
    } else if source.contains("420") || source.starts_with("nv") || source.starts_with("p01") {
        PixelFormat::I420
    } else if source.contains("422") && probe.width % 2 == 0 {
        PixelFormat::Yuyv
    } else if source.contains("422") || source.contains("411") || source.contains("410") {
        PixelFormat::I420
    } else if source.starts_with("grayf32") {
        PixelFormat::GrayF32
    } else if source.starts_with("gray") {
        PixelFormat::Gray16
    } else if source == "ya8" {
        PixelFormat::Gray8
    } else if source.contains('a') && !source.contains("bayer") {
        // Anything with alpha (rgba64, argb, pal8, yuva..., gbrap...).
        PixelFormat::Rgba8
    } else {
        PixelFormat::Rgb8
    };
    Published {
        converted: true,
        ..same(format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(pix_fmt: &str, width: u32) -> VideoProbe {
        VideoProbe {
            width,
            height: 2,
            pix_fmt: pix_fmt.into(),
            fps: Some(25.0),
            bt709: true,
            full_range: false,
        }
    }

    #[test]
    fn native_formats_are_kept_and_others_get_a_close_one() {
        let cases = [
            ("yuv420p", PixelFormat::I420, false),
            ("nv12", PixelFormat::Nv12, false),
            ("yuyv422", PixelFormat::Yuyv, false),
            ("bgr24", PixelFormat::Bgr8, false),
            ("gray16le", PixelFormat::Gray16, false),
            ("yuvj420p", PixelFormat::I420, false),
            ("yuv420p10le", PixelFormat::I420, true),
            ("yuv422p", PixelFormat::Yuyv, true),
            ("uyvy422", PixelFormat::Yuyv, true),
            ("yuv444p", PixelFormat::Rgb8, true),
            ("gray10le", PixelFormat::Gray16, true),
            ("rgba64le", PixelFormat::Rgba8, true),
            ("pal8", PixelFormat::Rgba8, true),
            ("gbrp", PixelFormat::Rgb8, true),
        ];
        for (pix_fmt, format, converted) in cases {
            let published = published_format(&video(pix_fmt, 4));
            assert_eq!(
                (published.format, published.converted),
                (format, converted),
                "{pix_fmt}"
            );
        }
        // Odd widths cannot be YUYV.
        assert_eq!(
            published_format(&video("yuv422p", 3)).format,
            PixelFormat::I420
        );
        let jpeg = published_format(&video("yuvj420p", 4));
        assert_eq!(jpeg.ffmpeg_pix_fmt, "yuvj420p");
        assert_eq!(jpeg.color.range, ColorRange::Full);
        assert_eq!(
            published_format(&video("yuv420p", 4)).color.matrix,
            ColorMatrix::Bt709
        );
    }

    #[test]
    fn probe_answers_are_checked() {
        let ok = br#"{"streams":[{"width":320,"height":240,"pix_fmt":"yuv420p","r_frame_rate":"25/1","avg_frame_rate":"30000/1001","color_range":"pc"}],"format":{"format_name":"matroska,webm"}}"#;
        let probe = parse_probe(ok).unwrap();
        assert_eq!((probe.width, probe.height), (320, 240));
        assert!((probe.fps.unwrap() - 29.97).abs() < 0.01);
        assert!(probe.full_range && !probe.bt709);
        let still = br#"{"streams":[{"width":3,"height":3}],"format":{"format_name":"png_pipe"}}"#;
        assert!(parse_probe(still).unwrap_err().contains("still image"));
        let none = br#"{"streams":[],"format":{"format_name":"mp3"}}"#;
        assert!(parse_probe(none).unwrap_err().contains("no video stream"));
        let huge = br#"{"streams":[{"width":99999,"height":3}],"format":{"format_name":"avi"}}"#;
        assert!(parse_probe(huge).is_err());
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("60"), Some(60.0));
    }
}
