//! YUV to RGB: ITU-R BT.601 and BT.709, limited and full range.
//!
//! With `Kr`, `Kb` the matrix's luma weights (`Kg = 1 - Kr - Kb`) and the
//! stored values normalised to `Y'` in 0..=1 and `Cb`, `Cr` in -0.5..=0.5
//! (limited range: `(Y - 16) / 219` and `(C - 128) / 224`; full range:
//! `Y / 255` and `(C - 128) / 255`):
//!
//! ```text
//! R = Y' + 2 (1 - Kr) Cr
//! G = Y' - 2 Kb (1 - Kb) / Kg Cb - 2 Kr (1 - Kr) / Kg Cr
//! B = Y' + 2 (1 - Kb) Cb
//! ```
//!
//! scaled to 0..=255, rounded and clamped. The arithmetic is 16.16 fixed
//! point, exact to within one step of the rounded real value.

use shmframe::{ColorMatrix, ColorRange, Colorimetry};

/// Fractional bits of the fixed-point coefficients.
const SHIFT: u32 = 16;
const ONE: f64 = (1 << SHIFT) as f64;

/// The fixed-point coefficients of one colorimetry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YuvToRgb {
    y_offset: i32,
    y_scale: i32,
    r_from_v: i32,
    g_from_u: i32,
    g_from_v: i32,
    b_from_u: i32,
}

impl YuvToRgb {
    /// The coefficients for frames tagged `color`.
    pub fn new(color: Colorimetry) -> YuvToRgb {
        let (kr, kb) = match color.matrix {
            ColorMatrix::Bt601 => (0.299, 0.114),
            ColorMatrix::Bt709 => (0.2126, 0.0722),
        };
        let kg = 1.0 - kr - kb;
        // Output units (0..=255) per stored unit of luma and chroma.
        let (y_offset, y_scale, c_scale) = match color.range {
            ColorRange::Limited => (16, 255.0 / 219.0, 255.0 / 224.0),
            ColorRange::Full => (0, 1.0, 1.0),
        };
        let fixed = |x: f64| (x * ONE).round() as i32;
        YuvToRgb {
            y_offset,
            y_scale: fixed(y_scale),
            r_from_v: fixed(c_scale * 2.0 * (1.0 - kr)),
            g_from_u: fixed(c_scale * 2.0 * kb * (1.0 - kb) / kg),
            g_from_v: fixed(c_scale * 2.0 * kr * (1.0 - kr) / kg),
            b_from_u: fixed(c_scale * 2.0 * (1.0 - kb)),
        }
    }

    /// One pixel's RGB.
    #[inline]
    pub fn rgb(&self, y: u8, u: u8, v: u8) -> [u8; 3] {
        self.rgb_with(y, self.chroma(u, v))
    }

    /// The red, green and blue offsets of one chroma sample (shared by the
    /// pixels it covers, so computed once for them).
    #[inline]
    pub(crate) fn chroma(&self, u: u8, v: u8) -> [i32; 3] {
        let (u, v) = (i32::from(u) - 128, i32::from(v) - 128);
        [
            self.r_from_v * v,
            -self.g_from_u * u - self.g_from_v * v,
            self.b_from_u * u,
        ]
    }

    /// One pixel's RGB from its luma and its chroma sample's offsets.
    #[inline]
    pub(crate) fn rgb_with(&self, y: u8, [r, g, b]: [i32; 3]) -> [u8; 3] {
        let luma = (i32::from(y) - self.y_offset) * self.y_scale + (1 << (SHIFT - 1));
        let clamp = |x: i32| (x >> SHIFT).clamp(0, 255) as u8;
        [clamp(luma + r), clamp(luma + g), clamp(luma + b)]
    }
}

/// One pixel's RGB under `color` (builds the coefficients: for many pixels keep a [`YuvToRgb`]).
pub fn yuv_to_rgb(y: u8, u: u8, v: u8, color: Colorimetry) -> [u8; 3] {
    YuvToRgb::new(color).rgb(y, u, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn color(matrix: ColorMatrix, range: ColorRange) -> Colorimetry {
        Colorimetry { matrix, range }
    }

    /// YUV of pure colours from the standards' own equations (rounded), and
    /// the RGB they stand for.
    #[test]
    fn reference_colours_of_each_matrix_and_range() {
        use ColorMatrix::{Bt601, Bt709};
        use ColorRange::{Full, Limited};
        // (colorimetry, [Y, U, V], RGB). The limited-range values are the
        // classic tables (e.g. BT.601 75% bars scaled to 100%); the full-range
        // ones are JFIF's (BT.601) and BT.709's equations at 8 bits.
        let cases: [(Colorimetry, [u8; 3], [u8; 3]); 20] = [
            (color(Bt601, Limited), [16, 128, 128], [0, 0, 0]),
            (color(Bt601, Limited), [235, 128, 128], [255, 255, 255]),
            (color(Bt601, Limited), [81, 90, 240], [255, 0, 0]),
            (color(Bt601, Limited), [145, 54, 34], [0, 255, 0]),
            (color(Bt601, Limited), [41, 240, 110], [0, 0, 255]),
            (color(Bt709, Limited), [16, 128, 128], [0, 0, 0]),
            (color(Bt709, Limited), [235, 128, 128], [255, 255, 255]),
            (color(Bt709, Limited), [63, 102, 240], [255, 0, 0]),
            (color(Bt709, Limited), [173, 42, 26], [0, 255, 0]),
            (color(Bt709, Limited), [32, 240, 118], [0, 0, 255]),
            (color(Bt601, Full), [0, 128, 128], [0, 0, 0]),
            (color(Bt601, Full), [255, 128, 128], [255, 255, 255]),
            (color(Bt601, Full), [76, 85, 255], [255, 0, 0]),
            (color(Bt601, Full), [150, 44, 21], [0, 255, 0]),
            (color(Bt601, Full), [29, 255, 107], [0, 0, 255]),
            (color(Bt709, Full), [0, 128, 128], [0, 0, 0]),
            (color(Bt709, Full), [255, 128, 128], [255, 255, 255]),
            (color(Bt709, Full), [54, 99, 255], [255, 0, 0]),
            (color(Bt709, Full), [182, 30, 12], [0, 255, 0]),
            (color(Bt709, Full), [18, 255, 116], [0, 0, 255]),
        ];
        for (color, [y, u, v], expected) in cases {
            let got = yuv_to_rgb(y, u, v, color);
            for (g, e) in got.iter().zip(expected) {
                // The YUV values are rounded to 8 bits: at most 2 steps off.
                assert!(
                    g.abs_diff(e) <= 2,
                    "{color:?} YUV ({y}, {u}, {v}): got {got:?}, expected {expected:?}"
                );
            }
        }
    }

    #[test]
    fn grey_is_grey_and_limited_range_stretches() {
        for matrix in [ColorMatrix::Bt601, ColorMatrix::Bt709] {
            let full = YuvToRgb::new(color(matrix, ColorRange::Full));
            let limited = YuvToRgb::new(color(matrix, ColorRange::Limited));
            for y in 0..=255u8 {
                assert_eq!(full.rgb(y, 128, 128), [y; 3]);
                // (y - 16) * 255 / 219, rounded, clamped.
                let expected = ((f64::from(y) - 16.0) * 255.0 / 219.0)
                    .round()
                    .clamp(0.0, 255.0) as u8;
                assert_eq!(limited.rgb(y, 128, 128), [expected; 3], "Y {y}");
            }
        }
    }

    #[test]
    fn fixed_point_matches_the_real_equations() {
        for c in [
            color(ColorMatrix::Bt601, ColorRange::Limited),
            color(ColorMatrix::Bt709, ColorRange::Limited),
            color(ColorMatrix::Bt601, ColorRange::Full),
            color(ColorMatrix::Bt709, ColorRange::Full),
        ] {
            let fixed = YuvToRgb::new(c);
            let (kr, kb) = match c.matrix {
                ColorMatrix::Bt601 => (0.299, 0.114),
                ColorMatrix::Bt709 => (0.2126, 0.0722),
            };
            let kg = 1.0 - kr - kb;
            let (y0, ys, cs) = match c.range {
                ColorRange::Limited => (16.0, 219.0, 224.0),
                ColorRange::Full => (0.0, 255.0, 255.0),
            };
            for y in (0..=255u8).step_by(5) {
                for u in (0..=255u8).step_by(15) {
                    for v in (0..=255u8).step_by(15) {
                        let yn = (f64::from(y) - y0) / ys;
                        let (cb, cr) = ((f64::from(u) - 128.0) / cs, (f64::from(v) - 128.0) / cs);
                        let real = [
                            yn + 2.0 * (1.0 - kr) * cr,
                            yn - 2.0 * kb * (1.0 - kb) / kg * cb - 2.0 * kr * (1.0 - kr) / kg * cr,
                            yn + 2.0 * (1.0 - kb) * cb,
                        ]
                        .map(|x| (x * 255.0).clamp(0.0, 255.0));
                        let got = fixed.rgb(y, u, v);
                        for (g, r) in got.iter().zip(real) {
                            assert!((f64::from(*g) - r).abs() <= 0.51, "{c:?} {y} {u} {v}");
                        }
                    }
                }
            }
        }
    }
}
