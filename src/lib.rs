//! Lock-free image frame streams between processes, through shared memory.
//!
//! One [`Writer`] per stream publishes frames into a seqlock-protected ring in
//! a memory-mapped file; any number of [`Reader`]s copy out the latest frame,
//! or every frame in order while they keep up, and can sleep on a shared futex
//! until the next one. A name is all two processes share. The writer never
//! waits for a reader, readers map the segment read-only, and a torn copy is
//! detected and retried, never returned.
//!
//! ```
//! use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
//! use std::time::Duration;
//! # let name = format!("doc-example-{}", std::process::id());
//!
//! // Process A: create the stream and publish a 2x2 RGBA frame.
//! let mut writer = Writer::create(&name, &WriterOptions { slot_capacity: 1 << 16, ..Default::default() })?;
//! let meta = FrameMeta::packed(2, 2, PixelFormat::Rgba8);
//! writer.publish(&meta, &[255u8; 16])?;
//!
//! // Process B: open it by name and copy the latest frame out.
//! let mut reader = Reader::open(&name)?;
//! let mut pixels = Vec::new();
//! let frame = reader.wait_latest(&mut pixels, Duration::from_secs(1))?.expect("a frame");
//! assert_eq!((frame.meta.width, frame.number, pixels.len()), (2, 1, 16));
//! # Ok::<(), shmframe::Error>(())
//! ```
//!
//! The segment format is documented byte by byte in `docs/layout.md`.

#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(target_endian = "big")]
compile_error!("the segment format is little-endian and shared with the futex word; big-endian targets are not supported");

mod copy;
#[cfg(all(target_arch = "x86_64", not(miri), not(loom)))]
mod copy_fast;
mod error;
mod futex;
pub mod heap;
pub mod layout;
mod name;
pub mod protocol;
mod sync;

// Modules that need the operating system (files, mappings, the futex, the
// clock) are left out of loom builds, which model the protocol on a heap
// region.
#[cfg(not(loom))]
mod clock;
#[cfg(not(loom))]
mod files;
#[cfg(not(loom))]
mod held_frame;
#[cfg(not(loom))]
mod hold_file;
#[cfg(not(loom))]
mod holders;
#[cfg(not(loom))]
mod holds;
#[cfg(not(loom))]
mod install;
#[cfg(not(loom))]
mod liveness;
#[cfg(not(loom))]
mod reader;
#[cfg(not(loom))]
mod readiness;
#[cfg(not(loom))]
mod segment;
#[cfg(not(loom))]
mod sigbus;
#[cfg(not(loom))]
mod wake_file;
#[cfg(not(loom))]
mod writer;

pub use error::{Error, Result};
pub use layout::{
    ColorMatrix, ColorRange, Colorimetry, FrameInfo, FrameMeta, PixelFormat, Plane, Planes,
};
pub use name::{validate_name, MAX_NAME_LEN};
pub use protocol::{Destination, FrameOrigin, SlotFill};

#[cfg(not(loom))]
pub use clock::monotonic_ns;
#[cfg(not(loom))]
pub use held_frame::{HeldFrame, OwnedHeldFrame};
#[cfg(not(loom))]
pub use holders::Holder;
#[cfg(not(loom))]
pub use reader::{Reader, ReaderOptions, StreamStatus};
#[cfg(not(loom))]
pub use segment::{list_streams, remove_stream, segment_dir, segment_path, DIR_ENV};
#[cfg(not(loom))]
pub use writer::{BegunFrame, Writer, WriterOptions, DEFAULT_HOLDS, DEFAULT_SLOT_CAPACITY};
