//! `WxH` frame sizes on the command line.

use std::fmt;
use std::str::FromStr;

/// Largest width or height the tool accepts for a generated or raw frame.
pub const MAX_SIDE: u32 = 16384;

/// A frame size in pixels, both sides in `1..=MAX_SIDE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Size, String> {
        let usage =
            || format!("`{text}` is not a size: expected WIDTHxHEIGHT, for example 640x360");
        let (w, h) = text.split_once(['x', 'X']).ok_or_else(usage)?;
        let side = |s: &str| -> Result<u32, String> {
            let n: u32 = s.trim().parse().map_err(|_| usage())?;
            if !(1..=MAX_SIDE).contains(&n) {
                return Err(format!(
                    "`{text}`: width and height must be between 1 and {MAX_SIDE}"
                ));
            }
            Ok(n)
        };
        Ok(Size {
            width: side(w)?,
            height: side(h)?,
        })
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "640x360".parse(),
            Ok(Size {
                width: 640,
                height: 360
            })
        );
        assert_eq!(
            "2X3".parse(),
            Ok(Size {
                width: 2,
                height: 3
            })
        );
        for bad in [
            "", "640", "x360", "0x10", "10x0", "-1x5", "axb", "99999x2", "1x2x3",
        ] {
            assert!(bad.parse::<Size>().is_err(), "{bad} accepted");
        }
    }
}
