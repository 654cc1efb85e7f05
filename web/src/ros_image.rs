//! Frames as ROS 2 `sensor_msgs/msg/Image` and `CompressedImage`, serialized
//! in CDR (little-endian, XCDR1 as ROS 2's default middleware writes it).

use shmframe::{FrameInfo, PixelFormat};
use shmframe_convert::FrameView;

/// The definitions both image schemas depend on (`std_msgs/Header` and its
/// `builtin_interfaces/Time`), as a literal so that `concat!` can append it.
macro_rules! header_definitions {
    () => {
        "================================================================================\n\
MSG: std_msgs/Header\n\
builtin_interfaces/Time stamp\n\
string frame_id\n\
================================================================================\n\
MSG: builtin_interfaces/Time\n\
int32 sec\n\
uint32 nanosec\n"
    };
}

/// The `ros2msg` schema of `sensor_msgs/msg/Image`, with its dependencies.
pub const IMAGE_SCHEMA: &str = concat!(
    "std_msgs/Header header\n\
uint32 height\n\
uint32 width\n\
string encoding\n\
uint8 is_bigendian\n\
uint32 step\n\
uint8[] data\n",
    header_definitions!()
);

/// The `ros2msg` schema of `sensor_msgs/msg/CompressedImage`, with its dependencies.
pub const COMPRESSED_SCHEMA: &str = concat!(
    "std_msgs/Header header\n\
string format\n\
uint8[] data\n",
    header_definitions!()
);

/// The frame as `sensor_msgs/msg/Image`: packed rows of its own format, or
/// RGB for NV12 and I420 (which ROS 2 has no encoding for).
pub fn image(info: &FrameInfo, view: &FrameView<'_>) -> Vec<u8> {
    let meta = view.meta();
    let (encoding, as_is) = ros_encoding(meta.format);
    let (data, step) = if as_is {
        let row = meta.width as usize * meta.format.bytes_per_pixel() as usize;
        (view.packed_plane0(), row)
    } else {
        (view.to_rgb8(), 3 * meta.width as usize)
    };
    let mut cdr = Cdr::new(data.len() + 128);
    cdr.header(info);
    cdr.u32(meta.height);
    cdr.u32(meta.width);
    cdr.string(encoding);
    cdr.u8(0); // little-endian samples
    cdr.u32(step as u32);
    cdr.bytes(&data);
    cdr.out
}

/// The JPEG `jpeg` of the frame as `sensor_msgs/msg/CompressedImage`.
pub fn compressed(info: &FrameInfo, jpeg: &[u8]) -> Vec<u8> {
    let mut cdr = Cdr::new(jpeg.len() + 64);
    cdr.header(info);
    cdr.string("jpeg");
    cdr.bytes(jpeg);
    cdr.out
}

/// A CDR buffer: each primitive aligned to its size from the end of the
/// 4-byte encapsulation header.
struct Cdr {
    out: Vec<u8>,
}

impl Cdr {
    fn new(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]); // CDR_LE
        Cdr { out }
    }

    fn align(&mut self, size: usize) {
        while (self.out.len() - 4) % size != 0 {
            self.out.push(0);
        }
    }

    fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    fn u32(&mut self, value: u32) {
        self.align(4);
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    fn i32(&mut self, value: i32) {
        self.align(4);
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// Length with the terminating NUL, bytes, NUL.
    fn string(&mut self, text: &str) {
        self.u32(text.len() as u32 + 1);
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(0);
    }

    /// `uint8[]`: length, bytes.
    fn bytes(&mut self, data: &[u8]) {
        self.u32(data.len() as u32);
        self.out.extend_from_slice(data);
    }

    /// `std_msgs/Header`: the frame's timestamp, an empty frame id.
    fn header(&mut self, info: &FrameInfo) {
        let (sec, nanosec) = split_ns(info.timestamp_ns);
        self.i32(sec);
        self.u32(nanosec);
        self.string("");
    }
}

/// Nanoseconds as ROS time (seconds saturating at `i32::MAX`).
fn split_ns(ns: u64) -> (i32, u32) {
    let sec = i32::try_from(ns / 1_000_000_000).unwrap_or(i32::MAX);
    (sec, (ns % 1_000_000_000) as u32)
}

/// The ROS 2 image encoding a frame is sent in, and whether it is sent as it is.
fn ros_encoding(format: PixelFormat) -> (&'static str, bool) {
    match format {
        PixelFormat::Rgb8 => ("rgb8", true),
        PixelFormat::Bgr8 => ("bgr8", true),
        PixelFormat::Rgba8 => ("rgba8", true),
        PixelFormat::Bgra8 => ("bgra8", true),
        PixelFormat::Gray8 => ("mono8", true),
        PixelFormat::Gray16 => ("mono16", true),
        PixelFormat::GrayF32 => ("32FC1", true),
        PixelFormat::Yuyv => ("yuv422_yuy2", true),
        PixelFormat::Nv12 | PixelFormat::I420 => ("rgb8", false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::FrameMeta;

    #[test]
    fn a_mono8_image_is_laid_out_as_ros_2_writes_it() {
        let meta = FrameMeta::packed(2, 1, PixelFormat::Gray8);
        let info = FrameInfo {
            number: 1,
            index: 1,
            timestamp_ns: 3_000_000_007,
            published_ns: 0,
            meta,
            len: 2,
            missed: 0,
        };
        let pixels = [10, 20];
        let view = FrameView::new(&meta, &pixels).unwrap();
        let bytes = image(&info, &view);
        #[rustfmt::skip]
        let expected = [
            0, 1, 0, 0,
            3, 0, 0, 0, 7, 0, 0, 0,      // stamp
            1, 0, 0, 0, 0, 0, 0, 0,      // frame_id "" (+ padding)
            1, 0, 0, 0, 2, 0, 0, 0,      // height, width
            6, 0, 0, 0, b'm', b'o', b'n', b'o', b'8', 0, // encoding
            0, 0,                        // is_bigendian (+ padding)
            2, 0, 0, 0,                  // step
            2, 0, 0, 0, 10, 20,          // data
        ];
        assert_eq!(bytes, expected);
    }
}
