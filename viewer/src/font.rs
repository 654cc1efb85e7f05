//! A tiny built-in 5x7 bitmap font (with descenders), enough to write status text into the
//! window without a font file or a text-rendering dependency.

/// Glyph width in font pixels.
pub const GLYPH_WIDTH: usize = 5;
/// Glyph height in font pixels: 7 down to the baseline, 2 for descenders.
pub const GLYPH_HEIGHT: usize = 9;
/// Horizontal advance from one character to the next, in font pixels.
pub const ADVANCE: usize = GLYPH_WIDTH + 1;
/// Vertical advance from one line to the next, in font pixels.
pub const LINE_HEIGHT: usize = GLYPH_HEIGHT + 2;

/// Drawn for characters the font does not have.
#[rustfmt::skip]
const MISSING: [&str; 9] = ["#####", "#   #", "#   #", "#   #", "#   #", "#   #", "#####", "     ", "     "];

/// The glyphs, drawn as rows of `#` (ink) and ` ` (paper): seven rows down
/// to the baseline, then two for descenders.
#[rustfmt::skip]
const GLYPHS: &[(char, [&str; 9])] = &[
    (' ', ["     ", "     ", "     ", "     ", "     ", "     ", "     ", "     ", "     "]),
    ('!', ["  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  ", "     ", "     "]),
    ('"', [" # # ", " # # ", "     ", "     ", "     ", "     ", "     ", "     ", "     "]),
    ('#', [" # # ", " # # ", "#####", " # # ", "#####", " # # ", " # # ", "     ", "     "]),
    ('%', ["##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##", "     ", "     "]),
    ('\'', ["  #  ", "  #  ", "     ", "     ", "     ", "     ", "     ", "     ", "     "]),
    ('(', ["   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # ", "     ", "     "]),
    (')', [" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   ", "     ", "     "]),
    ('*', ["     ", "  #  ", "# # #", " ### ", "# # #", "  #  ", "     ", "     ", "     "]),
    ('+', ["     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     ", "     ", "     "]),
    (',', ["     ", "     ", "     ", "     ", "     ", "  ## ", "  ## ", "   # ", "  #  "]),
    ('-', ["     ", "     ", "     ", "#####", "     ", "     ", "     ", "     ", "     "]),
    ('.', ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  ", "     ", "     "]),
    ('/', ["     ", "    #", "   # ", "  #  ", " #   ", "#    ", "     ", "     ", "     "]),
    ('0', [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### ", "     ", "     "]),
    ('1', ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "]),
    ('2', [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####", "     ", "     "]),
    ('3', ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### ", "     ", "     "]),
    ('4', ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ", "     ", "     "]),
    ('5', ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ", "     ", "     "]),
    ('6', ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### ", "     ", "     "]),
    ('7', ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ", "     ", "     "]),
    ('8', [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ", "     ", "     "]),
    ('9', [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  ", "     ", "     "]),
    (':', ["     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     ", "     ", "     "]),
    (';', ["     ", " ##  ", " ##  ", "     ", "     ", " ##  ", " ##  ", "  #  ", " #   "]),
    ('<', ["   # ", "  #  ", " #   ", "#    ", " #   ", "  #  ", "   # ", "     ", "     "]),
    ('=', ["     ", "     ", "#####", "     ", "#####", "     ", "     ", "     ", "     "]),
    ('>', [" #   ", "  #  ", "   # ", "    #", "   # ", "  #  ", " #   ", "     ", "     "]),
    ('?', [" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  ", "     ", "     "]),
    ('@', [" ### ", "#   #", "    #", " ## #", "# # #", "# # #", " ### ", "     ", "     "]),
    ('A', [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #", "     ", "     "]),
    ('B', ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### ", "     ", "     "]),
    ('C', [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### ", "     ", "     "]),
    ('D', ["###  ", "#  # ", "#   #", "#   #", "#   #", "#  # ", "###  ", "     ", "     "]),
    ('E', ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####", "     ", "     "]),
    ('F', ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    ", "     ", "     "]),
    ('G', [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####", "     ", "     "]),
    ('H', ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #", "     ", "     "]),
    ('I', [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "]),
    ('J', ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  ", "     ", "     "]),
    ('K', ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #", "     ", "     "]),
    ('L', ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####", "     ", "     "]),
    ('M', ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #", "     ", "     "]),
    ('N', ["#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "     ", "     "]),
    ('O', [" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ", "     ", "     "]),
    ('P', ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    ", "     ", "     "]),
    ('Q', [" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #", "     ", "     "]),
    ('R', ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #", "     ", "     "]),
    ('S', [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### ", "     ", "     "]),
    ('T', ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "     "]),
    ('U', ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ", "     ", "     "]),
    ('V', ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  ", "     ", "     "]),
    ('W', ["#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # ", "     ", "     "]),
    ('X', ["#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #", "     ", "     "]),
    ('Y', ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "     "]),
    ('Z', ["#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####", "     ", "     "]),
    ('[', [" ### ", " #   ", " #   ", " #   ", " #   ", " #   ", " ### ", "     ", "     "]),
    (']', [" ### ", "   # ", "   # ", "   # ", "   # ", "   # ", " ### ", "     ", "     "]),
    ('_', ["     ", "     ", "     ", "     ", "     ", "     ", "#####", "     ", "     "]),
    ('`', [" #   ", "  #  ", "     ", "     ", "     ", "     ", "     ", "     ", "     "]),
    ('a', ["     ", "     ", " ### ", "    #", " ####", "#   #", " ####", "     ", "     "]),
    ('b', ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#### ", "     ", "     "]),
    ('c', ["     ", "     ", " ### ", "#    ", "#    ", "#   #", " ### ", "     ", "     "]),
    ('d', ["    #", "    #", " ## #", "#  ##", "#   #", "#   #", " ####", "     ", "     "]),
    ('e', ["     ", "     ", " ### ", "#   #", "#####", "#    ", " ### ", "     ", "     "]),
    ('f', ["  ## ", " #  #", " #   ", "###  ", " #   ", " #   ", " #   ", "     ", "     "]),
    ('g', ["     ", "     ", " ####", "#   #", "#   #", "#   #", " ####", "    #", " ### "]),
    ('h', ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #", "     ", "     "]),
    ('i', ["  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "]),
    ('j', ["   # ", "     ", "  ## ", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "]),
    ('k', ["#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "     ", "     "]),
    ('l', [" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ", "     ", "     "]),
    ('m', ["     ", "     ", "## # ", "# # #", "# # #", "#   #", "#   #", "     ", "     "]),
    ('n', ["     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #", "     ", "     "]),
    ('o', ["     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### ", "     ", "     "]),
    ('p', ["     ", "     ", "#### ", "#   #", "#   #", "#   #", "#### ", "#    ", "#    "]),
    ('q', ["     ", "     ", " ####", "#   #", "#   #", "#   #", " ####", "    #", "    #"]),
    ('r', ["     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    ", "     ", "     "]),
    ('s', ["     ", "     ", " ####", "#    ", " ### ", "    #", "#### ", "     ", "     "]),
    ('t', [" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## ", "     ", "     "]),
    ('u', ["     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #", "     ", "     "]),
    ('v', ["     ", "     ", "#   #", "#   #", "#   #", " # # ", "  #  ", "     ", "     "]),
    ('w', ["     ", "     ", "#   #", "#   #", "# # #", "# # #", " # # ", "     ", "     "]),
    ('x', ["     ", "     ", "#   #", " # # ", "  #  ", " # # ", "#   #", "     ", "     "]),
    ('y', ["     ", "     ", "#   #", "#   #", "#   #", "#   #", " ####", "    #", " ### "]),
    ('z', ["     ", "     ", "#####", "   # ", "  #  ", " #   ", "#####", "     ", "     "]),
    ('|', ["  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "     "]),
];

/// The rows of `c`'s glyph, or a box if the font lacks it.
fn glyph(c: char) -> &'static [&'static str; 9] {
    GLYPHS
        .iter()
        .find(|(g, _)| *g == c)
        .map_or(&MISSING, |(_, rows)| rows)
}

/// Width in window pixels of `text` drawn at `scale`.
pub fn text_width(text: &str, scale: usize) -> usize {
    let chars = text.chars().count();
    (chars * ADVANCE).saturating_sub(1) * scale
}

/// A 0RGB pixel buffer to draw into, `width` pixels per row.
pub struct Canvas<'a> {
    /// The pixels, row after row.
    pub pixels: &'a mut [u32],
    /// Pixels per row.
    pub width: usize,
}

impl Canvas<'_> {
    /// Rows in the buffer.
    pub fn height(&self) -> usize {
        self.pixels.len().checked_div(self.width).unwrap_or(0)
    }

    /// Draws `text` with its top-left corner at (`x`, `y`), each font pixel a
    /// `scale`-sized square of `color`. Whatever falls outside is clipped.
    pub fn draw_text(&mut self, text: &str, x: usize, y: usize, scale: usize, color: u32) {
        let height = self.height();
        for (i, c) in text.chars().enumerate() {
            let left = x + i * ADVANCE * scale;
            if left >= self.width {
                break;
            }
            for (row, bits) in glyph(c).iter().enumerate() {
                for (col, ink) in bits.bytes().enumerate() {
                    if ink != b'#' {
                        continue;
                    }
                    let px = left + col * scale;
                    let py = y + row * scale;
                    for sy in py..(py + scale).min(height) {
                        let start = sy * self.width;
                        let span = px.min(self.width)..(px + scale).min(self.width);
                        self.pixels[start + span.start..start + span.end].fill(color);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_glyph_is_five_by_nine_of_ink_and_paper() {
        for (c, rows) in GLYPHS {
            for row in rows {
                assert_eq!(row.len(), GLYPH_WIDTH, "glyph {c:?} row {row:?}");
                assert!(row.bytes().all(|b| b == b'#' || b == b' '), "glyph {c:?}");
            }
        }
    }

    #[test]
    fn the_characters_of_names_and_messages_are_all_there() {
        let wanted = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .chain(" .-_`':()/?!".chars());
        for c in wanted {
            assert!(GLYPHS.iter().any(|(g, _)| *g == c), "missing {c:?}");
        }
    }

    #[test]
    fn text_is_drawn_scaled_at_its_place() {
        let mut pixels = vec![0u32; 20 * 10];
        let mut canvas = Canvas {
            pixels: &mut pixels,
            width: 20,
        };
        canvas.draw_text("|", 3, 1, 1, 7);
        // '|' is the middle column of the glyph, all seven rows.
        for y in 0..10 {
            for x in 0..20 {
                let inked = x == 5 && (1..8).contains(&y);
                assert_eq!(pixels[y * 20 + x] == 7, inked, "({x}, {y})");
            }
        }
        let mut pixels = vec![0u32; 20 * 20];
        Canvas {
            pixels: &mut pixels,
            width: 20,
        }
        .draw_text("-", 0, 0, 2, 9);
        // '-' is row 3, all five columns: at scale 2, rows 6..8 and columns 0..10.
        let inked: Vec<usize> = (0..400).filter(|&i| pixels[i] == 9).collect();
        let expected: Vec<usize> = (6..8)
            .flat_map(|y| (0..10).map(move |x| y * 20 + x))
            .collect();
        assert_eq!(inked, expected);
    }

    #[test]
    fn text_past_the_edges_is_clipped_not_a_panic() {
        let mut pixels = vec![0u32; 7 * 5];
        let mut canvas = Canvas {
            pixels: &mut pixels,
            width: 7,
        };
        canvas.draw_text("WWWWWWWWWW", 2, 2, 3, 1);
        canvas.draw_text("x", 100, 100, 1, 1);
        assert!(pixels.contains(&1));
        let mut empty: [u32; 0] = [];
        Canvas {
            pixels: &mut empty,
            width: 0,
        }
        .draw_text("a", 0, 0, 1, 1);
    }

    #[test]
    fn width_counts_gaps_between_characters_only() {
        assert_eq!(text_width("", 2), 0);
        assert_eq!(text_width("a", 1), 5);
        assert_eq!(text_width("ab", 2), 22);
    }
}
