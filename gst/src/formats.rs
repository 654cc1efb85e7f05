//! How shmframe's pixel formats and colorimetry map onto GStreamer's raw video caps.
//!
//! Every engine format has a GStreamer twin except `GrayF32`: GStreamer 1.22
//! has no floating-point gray format (its gray formats are GRAY8, GRAY16_LE/BE
//! and GRAY10_LE32), so float frames cannot be expressed as `video/x-raw` and
//! are left out of the caps.

use gst_video::{VideoColorMatrix, VideoColorPrimaries, VideoColorRange, VideoTransferFunction};
use shmframe::{ColorMatrix, ColorRange, Colorimetry, FrameMeta, PixelFormat};

/// The engine formats the elements carry, paired with GStreamer's names for them.
const PAIRS: [(PixelFormat, gst_video::VideoFormat); 9] = [
    (PixelFormat::Rgba8, gst_video::VideoFormat::Rgba),
    (PixelFormat::Bgra8, gst_video::VideoFormat::Bgra),
    (PixelFormat::Rgb8, gst_video::VideoFormat::Rgb),
    (PixelFormat::Bgr8, gst_video::VideoFormat::Bgr),
    (PixelFormat::Gray8, gst_video::VideoFormat::Gray8),
    (PixelFormat::Gray16, gst_video::VideoFormat::Gray16Le),
    (PixelFormat::Nv12, gst_video::VideoFormat::Nv12),
    (PixelFormat::I420, gst_video::VideoFormat::I420),
    (PixelFormat::Yuyv, gst_video::VideoFormat::Yuy2),
];

/// GStreamer's format for an engine format, if it has one.
pub fn to_video_format(format: PixelFormat) -> Option<gst_video::VideoFormat> {
    PAIRS.iter().find(|(f, _)| *f == format).map(|(_, v)| *v)
}

/// The engine format for a GStreamer format, if the engine has it.
pub fn from_video_format(format: gst_video::VideoFormat) -> Option<PixelFormat> {
    PAIRS.iter().find(|(_, v)| *v == format).map(|(f, _)| *f)
}

/// `video/x-raw` in every format both sides know, any size the engine accepts, any rate.
pub fn template_caps() -> gst::Caps {
    let max = shmframe::layout::MAX_DIMENSION as i32;
    gst_video::VideoCapsBuilder::new()
        .format_list(PAIRS.iter().map(|(_, v)| *v))
        .width_range(1..=max)
        .height_range(1..=max)
        .build()
}

/// The engine's colorimetry for GStreamer's, choosing the nearest for what the engine cannot say.
///
/// Matrices other than BT.601 and BT.709 (BT.2020, SMPTE 240M, FCC) are sent
/// as BT.709, the nearest HD matrix; the caller logs that.
pub fn to_colorimetry(color: &gst_video::VideoColorimetry) -> (Colorimetry, bool) {
    let (matrix, exact_matrix) = match color.matrix() {
        VideoColorMatrix::Bt601 => (ColorMatrix::Bt601, true),
        VideoColorMatrix::Bt709 => (ColorMatrix::Bt709, true),
        _ => (ColorMatrix::Bt709, false),
    };
    let range = match color.range() {
        VideoColorRange::Range0_255 => ColorRange::Full,
        _ => ColorRange::Limited,
    };
    (Colorimetry { matrix, range }, exact_matrix)
}

/// GStreamer's colorimetry for the engine's (transfer and primaries as the
/// standard of the matrix defines them).
pub fn from_colorimetry(color: Colorimetry) -> gst_video::VideoColorimetry {
    let range = match color.range {
        ColorRange::Full => VideoColorRange::Range0_255,
        ColorRange::Limited => VideoColorRange::Range16_235,
    };
    match color.matrix {
        ColorMatrix::Bt601 => gst_video::VideoColorimetry::new(
            range,
            VideoColorMatrix::Bt601,
            VideoTransferFunction::Bt601,
            VideoColorPrimaries::Smpte170m,
        ),
        ColorMatrix::Bt709 => gst_video::VideoColorimetry::new(
            range,
            VideoColorMatrix::Bt709,
            VideoTransferFunction::Bt709,
            VideoColorPrimaries::Bt709,
        ),
    }
}

/// The frame shmframe publishes for negotiated caps: rows packed, colorimetry from the caps.
pub fn frame_meta(info: &gst_video::VideoInfo) -> Result<(FrameMeta, bool), String> {
    let format = from_video_format(info.format())
        .ok_or_else(|| format!("format {} has no shmframe equivalent", info.format()))?;
    let mut meta = FrameMeta::packed(info.width(), info.height(), format);
    let mut exact = true;
    if format.is_yuv() {
        let (color, exact_matrix) = to_colorimetry(&info.colorimetry());
        meta = meta.with_color(color);
        exact = exact_matrix;
    }
    meta.checked_len().map_err(|e| e.to_string())?;
    Ok((meta, exact))
}

/// GStreamer's description of a frame read from a stream.
pub fn video_info(meta: &FrameMeta) -> Result<gst_video::VideoInfo, String> {
    let format = to_video_format(meta.format).ok_or_else(|| {
        format!(
            "the stream's frames are {}, which GStreamer {} cannot carry as video/x-raw",
            meta.format,
            gst::version_string()
        )
    })?;
    let mut builder = gst_video::VideoInfo::builder(format, meta.width, meta.height)
        .fps(gst::Fraction::new(0, 1))
        .par(gst::Fraction::new(1, 1));
    let colorimetry = from_colorimetry(meta.color);
    if meta.format.is_yuv() {
        builder = builder.colorimetry(&colorimetry);
    }
    builder
        .build()
        .map_err(|e| format!("no GStreamer video info for {meta:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_carried_format_maps_both_ways() {
        for (format, video) in PAIRS {
            assert_eq!(to_video_format(format), Some(video));
            assert_eq!(from_video_format(video), Some(format));
        }
        assert_eq!(to_video_format(PixelFormat::GrayF32), None);
        assert_eq!(PAIRS.len() + 1, PixelFormat::ALL.len());
    }

    #[test]
    fn colorimetry_survives_a_round_trip() {
        for matrix in [ColorMatrix::Bt601, ColorMatrix::Bt709] {
            for range in [ColorRange::Limited, ColorRange::Full] {
                let color = Colorimetry { matrix, range };
                assert_eq!(to_colorimetry(&from_colorimetry(color)), (color, true));
            }
        }
    }
}
