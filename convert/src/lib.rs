//! Frames of every shmframe pixel format, for people: as 8-bit RGB rows for a
//! screen or a PNG, and as image files that keep exact values.
//!
//! This is the one place where YUV becomes RGB (with the frame's own matrix
//! and range) and where 16-bit and float gray is mapped to 8-bit gray (over
//! the frame's actual range), so the viewer and the `shmframe` command show
//! and save a frame the same way. A client of the engine's public API only.
//!
//! ```
//! use shmframe::{FrameMeta, PixelFormat};
//! use shmframe_convert::FrameView;
//!
//! // A 2x2 NV12 frame: white luma, neutral chroma (BT.601 limited range).
//! let meta = FrameMeta::packed(2, 2, PixelFormat::Nv12);
//! let pixels = [235, 235, 235, 235, 128, 128];
//! let frame = FrameView::new(&meta, &pixels)?;
//! assert_eq!(frame.to_rgb8(), vec![255; 12]);
//! # Ok::<(), shmframe_convert::ConvertError>(())
//! ```

mod error;
mod file;
mod frame;
mod gray;
mod yuv;

pub use error::ConvertError;
pub use file::{file_kind, save, write, FileKind};
pub use frame::FrameView;
pub use gray::GrayRange;
pub use yuv::{yuv_to_rgb, YuvToRgb};
