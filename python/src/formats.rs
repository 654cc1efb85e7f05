//! Which numpy arrays fit which pixel format, and the names Python users write.

use shmframe::{ColorMatrix, ColorRange, Colorimetry, PixelFormat};

/// The numpy element type of a format's samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    U8,
    U16,
    F32,
}

impl Element {
    /// numpy's name for the element type, for messages.
    pub fn numpy_name(self) -> &'static str {
        match self {
            Element::U8 => "uint8",
            Element::U16 => "uint16",
            Element::F32 => "float32",
        }
    }

    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            Element::U8 => 1,
            Element::U16 => 2,
            Element::F32 => 4,
        }
    }
}

/// The element type and channel count of a packed (non-YUV) format's array.
pub fn packed_shape(format: PixelFormat) -> (Element, usize) {
    match format {
        PixelFormat::Rgba8 | PixelFormat::Bgra8 => (Element::U8, 4),
        PixelFormat::Rgb8 | PixelFormat::Bgr8 => (Element::U8, 3),
        PixelFormat::Gray16 => (Element::U16, 1),
        PixelFormat::GrayF32 => (Element::F32, 1),
        // Gray8, and the byte buffers of YUV formats.
        _ => (Element::U8, 1),
    }
}

/// The format called `name`: shmframe's names (`rgba8`), ffmpeg's (`bgr24`,
/// `yuv420p`) or the short ones OpenCV users write (`rgb`, `bgr`, `gray`).
pub fn parse_format(name: &str) -> Option<PixelFormat> {
    let lower = name.to_ascii_lowercase();
    let short = match lower.as_str() {
        "rgb" => Some(PixelFormat::Rgb8),
        "bgr" => Some(PixelFormat::Bgr8),
        "rgba" => Some(PixelFormat::Rgba8),
        "bgra" => Some(PixelFormat::Bgra8),
        "gray" | "grey" | "mono" => Some(PixelFormat::Gray8),
        "yuy2" => Some(PixelFormat::Yuyv),
        "yuv420p" | "iyuv" => Some(PixelFormat::I420),
        _ => None,
    };
    short.or_else(|| PixelFormat::from_name(&lower))
}

/// Every name `parse_format` accepts for some format, for error messages.
pub fn known_formats() -> String {
    let names: Vec<&str> = PixelFormat::ALL.iter().map(|f| f.name()).collect();
    format!(
        "{} (or rgb, bgr, rgba, bgra, gray, or ffmpeg's -pix_fmt names)",
        names.join(", ")
    )
}

/// The format an array of this element type and channel count is published as
/// when no format is named.
pub fn infer_format(element: Element, channels: usize) -> Option<PixelFormat> {
    match (element, channels) {
        (Element::U8, 1) => Some(PixelFormat::Gray8),
        (Element::U8, 3) => Some(PixelFormat::Rgb8),
        (Element::U8, 4) => Some(PixelFormat::Rgba8),
        (Element::U16, 1) => Some(PixelFormat::Gray16),
        (Element::F32, 1) => Some(PixelFormat::GrayF32),
        _ => None,
    }
}

/// The colorimetry named by `matrix` ("bt601", "bt709") and `range` ("limited", "full").
pub fn parse_color(matrix: Option<&str>, range: Option<&str>) -> Result<Colorimetry, String> {
    let matrix = match matrix.map(str::to_ascii_lowercase).as_deref() {
        None | Some("bt601") | Some("bt.601") => ColorMatrix::Bt601,
        Some("bt709") | Some("bt.709") => ColorMatrix::Bt709,
        Some(other) => {
            return Err(format!(
                "unknown matrix `{other}`: expected \"bt601\" or \"bt709\""
            ))
        }
    };
    let range = match range.map(str::to_ascii_lowercase).as_deref() {
        None | Some("limited") | Some("tv") => ColorRange::Limited,
        Some("full") | Some("pc") => ColorRange::Full,
        Some(other) => {
            return Err(format!(
                "unknown range `{other}`: expected \"limited\" or \"full\""
            ))
        }
    };
    Ok(Colorimetry { matrix, range })
}

/// The Python names of a colorimetry: (matrix, range).
pub fn color_names(color: Colorimetry) -> (&'static str, &'static str) {
    let matrix = match color.matrix {
        ColorMatrix::Bt601 => "bt601",
        ColorMatrix::Bt709 => "bt709",
    };
    let range = match color.range {
        ColorRange::Limited => "limited",
        ColorRange::Full => "full",
    };
    (matrix, range)
}
