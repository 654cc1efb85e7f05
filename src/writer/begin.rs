//! Filling a frame in place across calls: begin, then commit or abort.
//!
//! [`Writer::publish_with`] is the safe way to fill a slot in place; this is
//! for callers that cannot hand the writer a closure, such as the C library,
//! whose users fill the slot through a pointer between two calls.

use super::Writer;
use crate::clock::monotonic_ns;
use crate::error::{Error, Result};
use crate::layout::FrameMeta;
use crate::protocol::{BegunSlot, RingWriter};

/// A frame begun by [`Writer::begin`]: its slot is reserved and readers skip
/// it until [`Writer::commit`] publishes it or [`Writer::abort`] drops it.
///
/// Dropping it without either publishes nothing (the next frame reuses the slot).
#[derive(Debug)]
#[must_use = "a begun frame is published by Writer::commit"]
pub struct BegunFrame {
    slot: BegunSlot,
    pixels: *mut u8,
}

impl BegunFrame {
    /// Where the frame's bytes go: [`len`](Self::len) bytes, valid for writes
    /// until the frame is committed or aborted, or the writer is used or
    /// dropped otherwise. Bytes not written keep the slot's old contents.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.pixels
    }

    /// Byte length of the frame (`stride * height`, or the planes' total).
    pub fn len(&self) -> usize {
        self.slot.len()
    }

    /// Whether the frame has no bytes (never true for a valid frame).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Writer {
    /// Reserves the next frame's slot for `meta` and returns where its bytes go.
    ///
    /// Readers skip the slot until [`commit`](Self::commit). Frames published
    /// or begun before the commit make this one stale: its commit then fails.
    pub fn begin(&mut self, meta: &FrameMeta) -> Result<BegunFrame> {
        let len = meta.checked_len()?;
        // With the holds (`parts`), as publish has them: the slot picked
        // must not be one a reader holds.
        let (region, ring) = self.parts();
        let slot = ring.begin(&region, meta, len, None)?;
        let pixels = RingWriter::payload_ptr(&region, &slot);
        Ok(BegunFrame { slot, pixels })
    }

    /// Publishes a frame begun by [`begin`](Self::begin); returns its number.
    pub fn commit(&mut self, frame: BegunFrame) -> Result<u64> {
        let region = self.segment.region();
        if !self.ring.is_begun(&region, &frame.slot) {
            return Err(Error::BadFrame {
                reason: "the begun frame is stale: another frame was published or begun since"
                    .to_string(),
            });
        }
        Ok(self.ring.commit(&region, frame.slot, monotonic_ns()))
    }

    /// Publishes nothing for a frame begun by [`begin`](Self::begin); its slot is left empty.
    pub fn abort(&mut self, frame: BegunFrame) {
        let region = self.segment.region();
        if self.ring.is_begun(&region, &frame.slot) {
            self.ring.abort(&region, frame.slot);
        }
    }
}
