//! The pixels of the frame on screen: held in place in the segment when a
//! hold was free (no copy), else a copy.

use shmframe::OwnedHeldFrame;

/// Where the bytes of the frame on screen are.
#[derive(Debug)]
pub enum FramePixels {
    /// Held in place in the segment: the writer leaves them alone until
    /// this drops (when the next frame replaces it).
    Held(OwnedHeldFrame),
    /// Copied out, when no hold was free (or none was granted yet).
    Copied(Vec<u8>),
}

impl FramePixels {
    /// The frame's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            FramePixels::Held(frame) => frame.pixels(),
            FramePixels::Copied(buf) => buf,
        }
    }

    /// The buffer of a copy, for the next copy to reuse (`None` for a hold,
    /// which ends here).
    pub fn into_buffer(self) -> Option<Vec<u8>> {
        match self {
            FramePixels::Held(_) => None,
            FramePixels::Copied(buf) => Some(buf),
        }
    }
}

impl Default for FramePixels {
    fn default() -> Self {
        FramePixels::Copied(Vec::new())
    }
}
