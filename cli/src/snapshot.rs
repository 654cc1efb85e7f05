//! `shmframe snapshot`: save a stream's latest frame as an image file.

use crate::attach::{open_until, parse_seconds};
use crate::fail::{CliError, CliResult};
use crate::frame_image::save_image;
use crate::output::outln;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Save the latest frame of a stream as an image file.
///
/// 8-bit frames (rgb24, bgr24, rgba, bgra, gray) are saved as a PNG with their
/// true colours; YUV frames (nv12, yuv420p, yuyv422) as an RGB PNG converted
/// with the frame's matrix and range; gray16le as a 16-bit PNG and grayf32le as
/// a 32-bit float TIFF (name it .tiff), both with the exact values.
/// Without --wait, a missing stream or a stream with no frame yet is an error.
#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// Stream name.
    #[arg(long, default_value = "default")]
    pub name: String,

    /// Wait up to this many seconds for the stream and its first frame.
    #[arg(long, value_name = "SECONDS", default_value = "0", value_parser = parse_seconds)]
    pub wait: Duration,

    /// Where to write the PNG (or, for grayf32le frames, the TIFF); overwritten if it exists.
    #[arg(value_name = "OUT.png")]
    pub out: PathBuf,
}

/// Runs `shmframe snapshot`.
pub fn run(args: SnapshotArgs) -> CliResult<()> {
    shmframe::validate_name(&args.name)?;
    let deadline = Instant::now() + args.wait;
    let mut reader = open_until(&args.name, deadline, "Publish an image first.", || None)?;
    let mut pixels = Vec::new();
    let frame = match reader.latest(&mut pixels)? {
        Some(frame) => frame,
        None => reader
            .wait_latest(
                &mut pixels,
                deadline.saturating_duration_since(Instant::now()),
            )?
            .ok_or_else(|| {
                CliError::new(format!(
                    "stream `{}` has no frame yet (use --wait SECONDS to wait for one)",
                    args.name
                ))
            })?,
    };
    save_image(&frame.meta, &pixels, &args.out)?;
    outln!(
        "saved frame {} of `{}` ({}x{} {}) to {}",
        frame.number,
        args.name,
        frame.meta.width,
        frame.meta.height,
        frame.meta.format,
        args.out.display()
    );
    Ok(())
}
