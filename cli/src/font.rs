//! A tiny 5x7 bitmap font: the digits and the few letters the test pattern writes.

/// Glyph width in pixels (before scaling).
pub const GLYPH_WIDTH: u32 = 5;
/// Glyph height in pixels (before scaling).
pub const GLYPH_HEIGHT: u32 = 7;
/// Horizontal distance from one glyph to the next: the glyph and one blank column.
pub const ADVANCE: u32 = GLYPH_WIDTH + 1;

/// Rows of `c`, top first; bit 4 is the leftmost pixel. Unknown characters are blank.
pub fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1E, 0x01, 0x01, 0x0E, 0x01, 0x01, 0x1E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        _ => [0; 7],
    }
}

/// Whether pixel (`x`, `y`) of `text` drawn at `scale` is lit; (0, 0) is the text's top left.
pub fn lit(text: &[char], scale: u32, x: u32, y: u32) -> bool {
    let (gx, gy) = (x / scale, y / scale);
    let (index, column) = ((gx / ADVANCE) as usize, gx % ADVANCE);
    if gy >= GLYPH_HEIGHT || column >= GLYPH_WIDTH {
        return false;
    }
    text.get(index)
        .is_some_and(|&c| glyph(c)[gy as usize] & (0x10 >> column) != 0)
}

/// Width in pixels of `chars` characters at `scale`.
pub fn text_width(chars: usize, scale: u32) -> u32 {
    (chars as u32 * ADVANCE).saturating_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_glyph_bits_scaled() {
        let text: Vec<char> = "1.".chars().collect();
        // The top row of '1' is 00100: only its middle column is lit.
        let top: Vec<bool> = (0..5).map(|x| lit(&text, 1, x, 0)).collect();
        assert_eq!(top, [false, false, true, false, false]);
        // At scale 2 each bit covers 2x2 pixels.
        assert!(lit(&text, 2, 4, 0) && lit(&text, 2, 5, 1) && !lit(&text, 2, 6, 0));
        // The '.' starts one advance later; its dot is in rows 5 and 6.
        assert!(lit(&text, 1, ADVANCE + 1, 6) && !lit(&text, 1, ADVANCE + 1, 4));
        // Past the text, and the blank column between glyphs, are dark.
        assert!(!lit(&text, 1, 2 * ADVANCE + 2, 3) && !(0..7).any(|y| lit(&text, 1, 5, y)));
    }
}
