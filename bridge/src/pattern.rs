//! A deterministic test pattern that carries its own frame index, for the
//! bridge's tests and benchmark: a smooth moving gradient (so a lossy codec
//! stays close), with the index written as 24 black-or-white 16x16 blocks
//! along the top (so it survives JPEG).

use shmframe::FrameMeta;

/// Side of one index block, in pixels.
pub const BLOCK: u32 = 16;
/// Bits of the index written into the frame.
pub const INDEX_BITS: u32 = 24;
/// Narrowest frame that holds the index.
pub const MIN_WIDTH: u32 = BLOCK * INDEX_BITS;

/// Fills `out` (resized to the frame's length) with frame `index` of the pattern.
pub fn fill(meta: &FrameMeta, index: u64, out: &mut Vec<u8>) {
    let len = meta.checked_len().unwrap_or(0);
    out.resize(len, 0);
    let bpp = meta.format.bytes_per_pixel() as usize;
    let k = index as usize;
    for (y, row) in out.chunks_mut(meta.stride as usize).enumerate() {
        for (i, byte) in row.iter_mut().enumerate() {
            let x = i / bpp.max(1);
            let channel = i % bpp.max(1);
            *byte = match index_bit(meta, x, y, index) {
                Some(true) => 255,
                Some(false) => 0,
                None => gradient(x, y, k, channel, bpp),
            };
        }
    }
}

/// A smooth value per channel that moves with the frame index (alpha stays opaque).
fn gradient(x: usize, y: usize, k: usize, channel: usize, bpp: usize) -> u8 {
    // A triangle wave has no jump from 255 to 0, which JPEG would ring around.
    let tri = |v: usize| {
        let v = v % 510;
        (if v < 255 { v } else { 509 - v }) as u8
    };
    match channel {
        3 if bpp == 4 => 255,
        0 => tri(x + 3 * k),
        1 => tri(y + 2 * k),
        _ => tri((x + y) / 2 + k),
    }
}

/// Whether pixel (x, y) is in an index block, and the bit it shows.
fn index_bit(meta: &FrameMeta, x: usize, y: usize, index: u64) -> Option<bool> {
    if meta.width < MIN_WIDTH || meta.height < BLOCK || y >= BLOCK as usize {
        return None;
    }
    let block = x / BLOCK as usize;
    (block < INDEX_BITS as usize).then(|| index >> block & 1 == 1)
}

/// Reads the index back from a frame of the pattern (also after lossy coding);
/// `None` if the frame is too small to hold one.
pub fn read_index(meta: &FrameMeta, pixels: &[u8]) -> Option<u64> {
    if meta.width < MIN_WIDTH || meta.height < BLOCK {
        return None;
    }
    let bpp = meta.format.bytes_per_pixel() as usize;
    let y = (BLOCK / 2) as usize;
    let mut index = 0u64;
    for bit in 0..INDEX_BITS as usize {
        let x = bit * BLOCK as usize + (BLOCK / 2) as usize;
        let at = y * meta.stride as usize + x * bpp;
        let value = *pixels.get(at)?;
        if value > 127 {
            index |= 1 << bit;
        }
    }
    Some(index)
}

/// Mean absolute difference per byte between two frames of the same length.
pub fn mean_abs_error(a: &[u8], b: &[u8]) -> f64 {
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::PixelFormat;

    #[test]
    fn the_index_reads_back() {
        for format in PixelFormat::ALL {
            let meta = FrameMeta::packed(400, 20, format);
            let mut frame = Vec::new();
            fill(&meta, 0xabcdef, &mut frame);
            assert_eq!(read_index(&meta, &frame), Some(0xabcdef), "{format}");
        }
        let small = FrameMeta::packed(8, 8, PixelFormat::Rgba8);
        assert_eq!(read_index(&small, &[0; 256]), None);
    }
}
