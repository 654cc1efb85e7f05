//! A frame held in place in the segment, as the memory of a GStreamer buffer.
//!
//! `gst::Buffer::from_slice` makes read-only memory (GStreamer refuses to map
//! it writable, and an element that wants to write gets a copy), and drops
//! this value when the last buffer using the memory is freed: that ends the
//! hold and lets the writer use the slot again.

use shmframe::OwnedHeldFrame;

/// The held frame's pixels, for `gst::Buffer::from_slice`.
pub struct HeldPixels(pub OwnedHeldFrame);

impl AsRef<[u8]> for HeldPixels {
    fn as_ref(&self) -> &[u8] {
        self.0.pixels()
    }
}
