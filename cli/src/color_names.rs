//! The names the tool prints for a YUV frame's matrix and range (those of its options).

use shmframe::{ColorMatrix, ColorRange, Colorimetry};

/// `bt601` or `bt709`.
pub fn matrix_name(matrix: ColorMatrix) -> &'static str {
    match matrix {
        ColorMatrix::Bt601 => "bt601",
        ColorMatrix::Bt709 => "bt709",
    }
}

/// `limited` or `full`.
pub fn range_name(range: ColorRange) -> &'static str {
    match range {
        ColorRange::Limited => "limited",
        ColorRange::Full => "full",
    }
}

/// `bt709 full range`.
pub fn describe(color: Colorimetry) -> String {
    format!(
        "{} {} range",
        matrix_name(color.matrix),
        range_name(color.range)
    )
}
