//! The animated test pattern: scrolling colour bars under a caption with the
//! frame number and timestamp, rendered one row at a time so a frame can be
//! written straight into a slot.

use crate::font;
use crate::size::Size;
use shmframe::{FrameMeta, PixelFormat, SlotFill};

/// The eight classic colour bars, RGB.
const BARS: [[u8; 3]; 8] = [
    [235, 235, 235],
    [235, 235, 16],
    [16, 235, 235],
    [16, 235, 16],
    [235, 16, 235],
    [235, 16, 16],
    [16, 16, 235],
    [16, 16, 16],
];
/// Caption text colour, and the band behind it.
const INK: [u8; 3] = [255, 255, 255];
const BAND: [u8; 3] = [0, 0, 0];
/// Characters in the caption `FRAME nnnnnnnn T sssss.mmm`, for sizing the font.
const CAPTION_CHARS: usize = 26;

/// Renders pattern frames of one size into a reused row buffer.
pub struct Pattern {
    size: Size,
    scale: u32,
    row: Vec<u8>,
    caption: Vec<char>,
}

impl Pattern {
    /// A pattern of `size`, in RGBA.
    pub fn new(size: Size) -> Pattern {
        // Caption as large as fits both the width and a tenth of the height.
        let fit_width = size.width / font::text_width(CAPTION_CHARS, 1).max(1);
        let scale = fit_width.min(size.height / 90).max(1);
        Pattern {
            size,
            scale,
            row: vec![0; size.width as usize * 4],
            caption: Vec::with_capacity(CAPTION_CHARS + 8),
        }
    }

    /// The frame metadata of every frame.
    pub fn meta(&self) -> FrameMeta {
        FrameMeta::packed(self.size.width, self.size.height, PixelFormat::Rgba8)
    }

    /// Writes frame `number`, captioned with `timestamp_ns`, into `fill`.
    pub fn fill(
        &mut self,
        number: u64,
        timestamp_ns: u64,
        fill: &mut SlotFill<'_>,
    ) -> shmframe::Result<()> {
        self.set_caption(number, timestamp_ns);
        let stride = self.row.len();
        let band = self.band_height().min(self.size.height);
        for y in 0..band {
            self.render_row(number, y);
            fill.write(y as usize * stride, &self.row)?;
        }
        // Every row below the caption band is the same: render it once.
        self.render_row(number, band);
        for y in band..self.size.height {
            fill.write(y as usize * stride, &self.row)?;
        }
        Ok(())
    }

    fn set_caption(&mut self, number: u64, timestamp_ns: u64) {
        let seconds = timestamp_ns / 1_000_000_000;
        let millis = timestamp_ns / 1_000_000 % 1000;
        self.caption.clear();
        // Written char by char into the kept buffer: no allocation per frame.
        use std::fmt::Write;
        let _ = write!(
            CharSink(&mut self.caption),
            "FRAME {number:08} T {seconds}.{millis:03}"
        );
    }

    /// Rows of the black band that holds the caption.
    fn band_height(&self) -> u32 {
        (font::GLYPH_HEIGHT + 4) * self.scale
    }

    /// Renders row `y` of frame `number` into the row buffer.
    fn render_row(&mut self, number: u64, y: u32) {
        let Size { width, .. } = self.size;
        let scale = self.scale;
        let margin = 2 * scale;
        let band_height = self.band_height();
        // Bars move a little every frame, wrapping around.
        let step = (u64::from(width) / 160).max(1);
        let shift = (number.wrapping_mul(step) % u64::from(width)) as u32;
        for (x, pixel) in (0..width).zip(self.row.chunks_exact_mut(4)) {
            let color = if y < band_height {
                let lit = x >= margin
                    && y >= margin
                    && font::lit(&self.caption, scale, x - margin, y - margin);
                if lit {
                    INK
                } else {
                    BAND
                }
            } else {
                let moved = (x + shift) % width;
                BARS[(u64::from(moved) * 8 / u64::from(width)) as usize]
            };
            pixel.copy_from_slice(&[color[0], color[1], color[2], 255]);
        }
    }
}

/// `fmt::Write` into a `Vec<char>`.
struct CharSink<'a>(&'a mut Vec<char>);

impl std::fmt::Write for CharSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend(s.chars());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(pattern: &mut Pattern, number: u64) -> Vec<u8> {
        pattern.set_caption(number, 12_345_678_901);
        let mut frame = Vec::new();
        for y in 0..pattern.size.height {
            pattern.render_row(number, y);
            frame.extend_from_slice(&pattern.row);
        }
        frame
    }

    #[test]
    fn caption_and_bars_change_with_the_frame() {
        let size = Size {
            width: 320,
            height: 180,
        };
        let mut pattern = Pattern::new(size);
        let a = render(&mut pattern, 1);
        let b = render(&mut pattern, 2);
        assert_eq!(a.len(), 320 * 180 * 4);
        assert_ne!(a, b);
        let caption: String = pattern.caption.iter().collect();
        assert_eq!(caption, "FRAME 00000002 T 12.345");
        // The caption draws white pixels into the black band.
        let white = a.chunks_exact(4).filter(|p| p[..3] == INK).count();
        assert!(white > 50, "{white} caption pixels");
        // The bottom row is all bar colours, opaque.
        let last = &a[a.len() - 320 * 4..];
        assert!(last
            .chunks_exact(4)
            .all(|p| BARS.iter().any(|c| p[..3] == *c) && p[3] == 255));
    }

    #[test]
    fn tiny_sizes_render() {
        let mut pattern = Pattern::new(Size {
            width: 1,
            height: 1,
        });
        assert_eq!(render(&mut pattern, u64::MAX).len(), 4);
    }
}
