//! YUV4MPEG2 (y4m): raw frames with a header that says their size, rate and
//! layout, which ffmpeg, x264, mpv and most video tools read from a pipe.
//!
//! y4m carries planar YUV and gray only: NV12 is written as 4:2:0 planes
//! (U and V separated), YUYV as 4:2:2 planes; the values are unchanged.

use crate::rate::Rate;
use shmframe::{ColorRange, FrameMeta, PixelFormat};

/// The header line for frames described by `meta` at `rate`, or why y4m cannot carry them.
pub fn header(meta: &FrameMeta, rate: Rate) -> Result<String, String> {
    let colorspace = match meta.format {
        PixelFormat::I420 | PixelFormat::Nv12 => "420jpeg",
        PixelFormat::Yuyv => "422",
        PixelFormat::Gray8 => "mono",
        PixelFormat::Gray16 => "mono16",
        other => {
            return Err(format!(
                "y4m carries YUV and 8/16-bit gray, not {}: record raw frames (without --y4m) or to a file",
                other.ffmpeg_name()
            ))
        }
    };
    let range = if meta.format.is_yuv() {
        match meta.color.range {
            ColorRange::Limited => " XCOLORRANGE=LIMITED",
            ColorRange::Full => " XCOLORRANGE=FULL",
        }
    } else {
        ""
    };
    Ok(format!(
        "YUV4MPEG2 W{} H{} F{}:{} Ip A1:1 C{colorspace}{range}\n",
        meta.width, meta.height, rate.num, rate.den
    ))
}

/// Appends one frame (`FRAME` line and planes) to `out`, from the frame's
/// packed bytes (ffmpeg's rawvideo layout of `meta.format`).
pub fn frame(meta: &FrameMeta, packed: &[u8], out: &mut Vec<u8>) {
    let (w, h) = (meta.width as usize, meta.height as usize);
    out.extend_from_slice(b"FRAME\n");
    match meta.format {
        PixelFormat::Nv12 => {
            let (luma, uv) = packed.split_at(w * h);
            out.extend_from_slice(luma);
            out.extend(uv.iter().step_by(2));
            out.extend(uv.iter().skip(1).step_by(2));
        }
        PixelFormat::Yuyv => {
            out.extend(packed.iter().step_by(2));
            out.extend(packed.iter().skip(1).step_by(4));
            out.extend(packed.iter().skip(3).step_by(4));
        }
        _ => out.extend_from_slice(packed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_the_layout_and_range() {
        let rate = Rate { num: 60, den: 1 };
        let meta = FrameMeta::packed(4, 2, PixelFormat::Nv12);
        assert_eq!(
            header(&meta, rate).unwrap(),
            "YUV4MPEG2 W4 H2 F60:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n"
        );
        let meta = FrameMeta::packed(4, 2, PixelFormat::Gray16);
        assert_eq!(
            header(&meta, rate).unwrap(),
            "YUV4MPEG2 W4 H2 F60:1 Ip A1:1 Cmono16\n"
        );
        let meta = FrameMeta::packed(4, 2, PixelFormat::Rgb8);
        assert!(header(&meta, rate).unwrap_err().contains("rgb24"));
    }

    #[test]
    fn interleaved_chroma_is_split_into_planes() {
        let mut out = Vec::new();
        let meta = FrameMeta::packed(2, 2, PixelFormat::Nv12);
        frame(&meta, &[1, 2, 3, 4, 10, 20], &mut out);
        assert_eq!(out, b"FRAME\n\x01\x02\x03\x04\x0a\x14");
        out.clear();
        let meta = FrameMeta::packed(4, 1, PixelFormat::Yuyv);
        frame(&meta, &[1, 10, 2, 20, 3, 11, 4, 21], &mut out);
        assert_eq!(out, b"FRAME\n\x01\x02\x03\x04\x0a\x0b\x14\x15");
    }
}
