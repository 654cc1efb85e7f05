//! A stream's frame rate, from its frame timestamps, as a rational for ffmpeg.

/// Frame rates that streams commonly run at, as `(numerator, denominator)`.
const COMMON: [(u32, u32); 12] = [
    (24000, 1001),
    (24, 1),
    (25, 1),
    (30000, 1001),
    (30, 1),
    (48, 1),
    (50, 1),
    (60000, 1001),
    (60, 1),
    (100, 1),
    (120, 1),
    (240, 1),
];

/// Lowest and highest rate a recording declares.
pub const MIN_FPS: f64 = 1.0;
pub const MAX_FPS: f64 = 240.0;

/// A frame rate as a fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    /// `fps` as a rational: the nearest common rate within 0.5 % of it, else thousandths.
    pub fn from_fps(fps: f64) -> Rate {
        let fps = fps.clamp(MIN_FPS, MAX_FPS);
        let off = |(num, den): (u32, u32)| (fps - f64::from(num) / f64::from(den)).abs() / fps;
        let nearest = COMMON
            .into_iter()
            .min_by(|a, b| off(*a).total_cmp(&off(*b)));
        if let Some((num, den)) = nearest.filter(|&c| off(c) <= 0.005) {
            return Rate { num, den };
        }
        Rate {
            num: (fps * 1000.0).round() as u32,
            den: 1000,
        }
    }

    /// The rate of frames whose numbers and timestamps (ns) are `samples`:
    /// frames over time between consecutive samples, leaving out stalls
    /// (a time per frame over 1.5 times the median). `None` with fewer than two samples.
    pub fn measured(samples: &[(u64, u64)]) -> Option<Rate> {
        let steps: Vec<(f64, f64)> = samples
            .windows(2)
            .filter_map(|w| {
                let ((n0, t0), (n1, t1)) = (w[0], w[1]);
                let frames = n1.checked_sub(n0).filter(|&f| f > 0)?;
                let nanos = t1.checked_sub(t0).filter(|&t| t > 0)?;
                Some((frames as f64, nanos as f64))
            })
            .collect();
        let mut periods: Vec<f64> = steps.iter().map(|(f, t)| t / f).collect();
        periods.sort_by(f64::total_cmp);
        let median = *periods.get(periods.len() / 2)?;
        let (frames, nanos) = steps
            .iter()
            .filter(|(f, t)| t / f <= 1.5 * median)
            .fold((0.0, 0.0), |(fs, ts), (f, t)| (fs + f, ts + t));
        Some(Rate::from_fps(1e9 * frames / nanos))
    }

    /// Frames per second.
    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Nanoseconds per frame.
    pub fn period_ns(self) -> f64 {
        1e9 / self.fps()
    }
}

impl std::fmt::Display for Rate {
    /// `num/den`, as ffmpeg's `-framerate` and y4m's `F` take it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_rates_are_recognised_despite_jitter() {
        assert_eq!(Rate::from_fps(59.99).to_string(), "60/1");
        assert_eq!(Rate::from_fps(59.9).to_string(), "60000/1001");
        assert_eq!(Rate::from_fps(59.94).to_string(), "60000/1001");
        assert_eq!(Rate::from_fps(29.97).to_string(), "30000/1001");
        assert_eq!(Rate::from_fps(37.5).to_string(), "37500/1000");
        assert_eq!(Rate::from_fps(0.1).to_string(), "1000/1000");
        assert_eq!(Rate::from_fps(5000.0).to_string(), "240/1");
    }

    #[test]
    fn the_median_period_decides_and_gaps_count_their_frames() {
        let ms = 1_000_000u64;
        // 60 fps with jitter, a stall, and a gap of two missed frames (numbers 4 -> 6).
        let samples = [
            (1, 0),
            (2, 17 * ms),
            (3, 33 * ms),
            (4, 50 * ms),
            (6, 83 * ms),
            (7, 300 * ms),
            (8, 317 * ms),
        ];
        assert_eq!(Rate::measured(&samples), Some(Rate { num: 60, den: 1 }));
        assert_eq!(Rate::measured(&samples[..1]), None);
    }
}
