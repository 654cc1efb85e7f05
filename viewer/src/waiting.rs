//! The screen shown while there is no frame to show.

use crate::font::{text_width, Canvas, LINE_HEIGHT};

/// Background of the waiting screen.
pub const BACKGROUND: u32 = 0x0020_2838;
/// Colour of its first line.
const HEADLINE: u32 = 0x00F0_F0F0;
/// Colour of the other lines.
const DETAIL: u32 = 0x0090_A0B0;

/// Fills `pixels` (`width` per row) with the waiting screen: `lines` centred,
/// the first as a headline, each as large as fits (up to 3x the font).
pub fn draw(pixels: &mut [u32], width: usize, lines: &[&str]) {
    pixels.fill(BACKGROUND);
    let mut canvas = Canvas { pixels, width };
    let height = canvas.height();
    let widest = lines.iter().map(|l| text_width(l, 1)).max().unwrap_or(0);
    let total = lines.len() * LINE_HEIGHT;
    let scale = (1..=3)
        .rev()
        .find(|s| widest * s <= width * 9 / 10 && total * s <= height * 9 / 10)
        .unwrap_or(1);
    let mut y = height.saturating_sub(total * scale) / 2;
    for (i, line) in lines.iter().enumerate() {
        let x = width.saturating_sub(text_width(line, scale)) / 2;
        let color = if i == 0 { HEADLINE } else { DETAIL };
        canvas.draw_text(line, x, y, scale, color);
        y += LINE_HEIGHT * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_centred_on_the_background() {
        let (w, h) = (200, 100);
        let mut pixels = vec![0; w * h];
        draw(&mut pixels, w, &["waiting for `cam0`"]);
        assert!(pixels.iter().all(|&p| p == BACKGROUND || p == HEADLINE));
        let inked: Vec<(usize, usize)> = (0..w * h)
            .filter(|&i| pixels[i] == HEADLINE)
            .map(|i| (i % w, i / w))
            .collect();
        let (min_x, max_x) = (
            inked.iter().map(|p| p.0).min().unwrap(),
            inked.iter().map(|p| p.0).max().unwrap(),
        );
        // Centred within a pixel or so, whatever the scale chosen.
        assert!(
            (min_x as i64 - (w - 1 - max_x) as i64).abs() <= 3,
            "{min_x}..{max_x}"
        );
    }

    #[test]
    fn long_text_and_tiny_windows_do_not_panic() {
        let long = "x".repeat(300);
        for (w, h) in [(1, 1), (3, 200), (200, 3), (640, 480)] {
            let mut pixels = vec![0; w * h];
            draw(&mut pixels, w, &[&long, "is a writer running?"]);
            assert_eq!(pixels[0], BACKGROUND);
        }
    }
}
