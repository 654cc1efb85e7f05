//! Distinct source frames, so a writer's copy reads memory, not cache.

/// How many distinct source frames a writer cycles through. At 1080p RGBA
/// (8 MiB each) eight of them exceed this machine's 32 MiB L3.
pub const DISTINCT: usize = 8;

/// A ring of [`DISTINCT`] source frames with different contents.
pub struct SourceFrames {
    frames: Vec<Vec<u8>>,
}

impl SourceFrames {
    /// Frames of `len` bytes, each filled with its own pattern.
    pub fn new(len: usize) -> SourceFrames {
        let frames = (0..DISTINCT as u64)
            .map(|k| {
                let mut frame = vec![0u8; len];
                for (i, chunk) in frame.chunks_mut(8).enumerate() {
                    // A multiplicative hash of (frame, word): different in
                    // every frame, and cheap enough to fill 265 MB quickly.
                    let word = (i as u64 ^ (k << 56)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
                }
                frame
            })
            .collect();
        SourceFrames { frames }
    }

    /// Source frame for the `i`-th publish.
    pub fn get(&self, i: u64) -> &[u8] {
        &self.frames[(i % DISTINCT as u64) as usize]
    }
}
