//! Frame memory that comes back when GStreamer frees the buffer, so that
//! reading a frame costs neither an allocation nor the page faults and
//! zeroing of fresh memory (8 MB per 1080p RGBA frame).

use std::sync::{Arc, Mutex};

/// Spare frames kept for reuse: enough for the buffers a pipeline typically holds at once.
const KEEP: usize = 4;

/// The spare frame memory of one source.
#[derive(Clone, Default)]
pub struct Recycler {
    spare: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recycler {
    /// Memory for the next frame: a returned one if there is one (any length; the reader resizes it).
    pub fn take(&self) -> Vec<u8> {
        self.spare
            .lock()
            .map(|mut spare| spare.pop().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Keeps `bytes` for a later frame, unless enough are kept already.
    pub fn give_back(&self, bytes: Vec<u8>) {
        if let Ok(mut spare) = self.spare.lock() {
            if spare.len() < KEEP {
                spare.push(bytes);
            }
        }
    }

    /// Wraps a frame so that its memory returns here when the buffer holding it is freed.
    pub fn wrap(&self, bytes: Vec<u8>) -> Recycled {
        Recycled {
            bytes,
            home: self.clone(),
        }
    }
}

/// A frame's bytes on their way through a pipeline.
pub struct Recycled {
    bytes: Vec<u8>,
    home: Recycler,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsMut<[u8]> for Recycled {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        self.home.give_back(std::mem::take(&mut self.bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_frames_come_back_up_to_the_limit() {
        let recycler = Recycler::default();
        let frames: Vec<Recycled> = (0..KEEP + 2)
            .map(|i| recycler.wrap(vec![i as u8; 16]))
            .collect();
        drop(frames);
        let mut back = 0;
        while !recycler.take().is_empty() {
            back += 1;
        }
        assert_eq!(back, KEEP);
    }
}
