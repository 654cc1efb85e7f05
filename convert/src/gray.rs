//! 16-bit and float gray mapped to 8-bit gray over the frame's actual range.
//!
//! Depth maps and model outputs rarely use the whole range of their type, so
//! the smallest value of the frame is shown black and the largest white.
//! Float values that are not finite are left out of the range; NaN and -inf
//! show black, +inf white. A frame of one value shows mid-grey.

/// The smallest and largest (finite) value of a frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrayRange {
    /// Shown black.
    pub min: f64,
    /// Shown white.
    pub max: f64,
}

impl GrayRange {
    /// The range of `values`, ignoring values that are not finite; `None` if none is.
    pub fn of(values: impl Iterator<Item = f64>) -> Option<GrayRange> {
        values.filter(|v| v.is_finite()).fold(None, |range, v| {
            Some(match range {
                None => GrayRange { min: v, max: v },
                Some(GrayRange { min, max }) => GrayRange {
                    min: min.min(v),
                    max: max.max(v),
                },
            })
        })
    }

    /// `value` as 8-bit gray: `min` is 0, `max` is 255, linear between.
    #[inline]
    pub fn map(&self, value: f64) -> u8 {
        if value.is_nan() {
            return 0;
        }
        let span = self.max - self.min;
        if span <= 0.0 {
            return if value.is_finite() {
                128
            } else if value > 0.0 {
                255
            } else {
                0
            };
        }
        ((value - self.min) / span * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    }
}

impl std::fmt::Display for GrayRange {
    /// `min..max` with as few digits as tell them apart.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let integral = self.min.fract() == 0.0 && self.max.fract() == 0.0;
        if integral && self.min.abs() < 1e15 && self.max.abs() < 1e15 {
            write!(f, "{}..{}", self.min, self.max)
        } else {
            write!(f, "{:.4}..{:.4}", self.min, self.max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_spans_black_to_white() {
        let range = GrayRange::of([1000.0, 3000.0, 2000.0].into_iter()).unwrap();
        assert_eq!(
            range,
            GrayRange {
                min: 1000.0,
                max: 3000.0
            }
        );
        assert_eq!(range.map(1000.0), 0);
        assert_eq!(range.map(2000.0), 128);
        assert_eq!(range.map(3000.0), 255);
        assert_eq!(range.to_string(), "1000..3000");
    }

    #[test]
    fn non_finite_values_are_left_out_and_shown_at_the_ends() {
        let values = [f64::NAN, -0.5, f64::INFINITY, 0.25, f64::NEG_INFINITY];
        let range = GrayRange::of(values.into_iter()).unwrap();
        assert_eq!(
            range,
            GrayRange {
                min: -0.5,
                max: 0.25
            }
        );
        assert_eq!(range.map(f64::NAN), 0);
        assert_eq!(range.map(f64::INFINITY), 255);
        assert_eq!(range.map(f64::NEG_INFINITY), 0);
        assert_eq!(range.to_string(), "-0.5000..0.2500");
        assert_eq!(GrayRange::of([f64::NAN].into_iter()), None);
    }

    #[test]
    fn a_flat_frame_is_mid_grey() {
        let range = GrayRange::of([7.0, 7.0].into_iter()).unwrap();
        assert_eq!(range.map(7.0), 128);
        assert_eq!(range.map(f64::INFINITY), 255);
    }
}
