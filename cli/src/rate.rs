//! A stream's frame rate, from its frame timestamps, as a rational for ffmpeg.

/// Whole frame rates that streams commonly run at.
const WHOLE: [u32; 10] = [24, 25, 30, 48, 50, 60, 90, 100, 120, 240];
/// How close a measured rate must be to a whole common rate to be taken as it.
const WHOLE_TOLERANCE: f64 = 0.015;
/// How close it must be to an NTSC rate (N * 1000/1001) to be taken as that:
/// they differ from the whole rates by 0.1 %, more than timing jitter allows
/// to tell apart over a short measurement, so only a close match counts.
const NTSC_TOLERANCE: f64 = 0.0003;

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
    /// `fps` as a rational: an NTSC rate (24000/1001, 30000/1001, 60000/1001)
    /// within 0.03 %, else the nearest whole common rate within 1.5 %, else thousandths.
    pub fn from_fps(fps: f64) -> Rate {
        let fps = fps.clamp(MIN_FPS, MAX_FPS);
        let off = |num: u32, den: u32| (fps - f64::from(num) / f64::from(den)).abs() / fps;
        for base in [24_000, 30_000, 60_000] {
            if off(base, 1001) <= NTSC_TOLERANCE {
                return Rate {
                    num: base,
                    den: 1001,
                };
            }
        }
        let nearest = WHOLE
            .into_iter()
            .min_by(|a, b| off(*a, 1).total_cmp(&off(*b, 1)));
        if let Some(whole) = nearest.filter(|&w| off(w, 1) <= WHOLE_TOLERANCE) {
            return Rate { num: whole, den: 1 };
        }
        Rate {
            num: (fps * 1000.0).round() as u32,
            den: 1000,
        }
    }

    /// The rate of frames whose numbers and timestamps (ns) are `samples`:
    /// the least-squares slope of timestamp over frame number, so that a late
    /// frame (and the quick one after it, from a writer that keeps absolute
    /// deadlines) hardly moves it. The samples after a pause (a step over ten
    /// times the median time per frame) are left out. `None` with fewer than
    /// two usable samples.
    pub fn measured(samples: &[(u64, u64)]) -> Option<Rate> {
        let mut periods: Vec<f64> = samples
            .windows(2)
            .filter_map(|w| {
                let frames = w[1].0.checked_sub(w[0].0).filter(|&f| f > 0)?;
                let nanos = w[1].1.checked_sub(w[0].1)?;
                Some(nanos as f64 / frames as f64)
            })
            .collect();
        periods.sort_by(f64::total_cmp);
        let median = *periods.get(periods.len() / 2)?;
        // The run of samples up to the first pause.
        let mut run = vec![samples[0]];
        for w in samples.windows(2) {
            let frames = w[1].0.saturating_sub(w[0].0).max(1) as f64;
            let nanos = w[1].1.saturating_sub(w[0].1) as f64;
            if w[1].0 <= w[0].0 || w[1].1 < w[0].1 || nanos / frames > 10.0 * median {
                break;
            }
            run.push(w[1]);
        }
        if run.len() < 2 {
            return None;
        }
        let n = run.len() as f64;
        let (x0, y0) = run[0];
        let points = run.iter().map(|&(x, y)| ((x - x0) as f64, (y - y0) as f64));
        let (mx, my) = points
            .clone()
            .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
        let (sxy, sxx) = points.fold((0.0, 0.0), |(sxy, sxx), (x, y)| {
            (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
        });
        let period = sxy / sxx;
        (period > 0.0).then(|| Rate::from_fps(1e9 / period))
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
        assert_eq!(Rate::from_fps(59.2).to_string(), "60/1");
        assert_eq!(Rate::from_fps(59.94).to_string(), "60000/1001");
        assert_eq!(Rate::from_fps(29.97).to_string(), "30000/1001");
        assert_eq!(Rate::from_fps(37.5).to_string(), "37500/1000");
        assert_eq!(Rate::from_fps(0.1).to_string(), "1000/1000");
        assert_eq!(Rate::from_fps(5000.0).to_string(), "240/1");
    }

    #[test]
    fn jitter_averages_out_and_a_pause_ends_the_measurement() {
        // 30 frames at 60 fps (deadlines every 16.67 ms), some published up
        // to 12 ms late, a gap of two missed frames (10 -> 13), then a pause.
        let late_ms = [0, 3, 0, 12, 0, 1, 7, 0, 0, 2];
        let mut samples: Vec<(u64, u64)> = (1..=32u64)
            .filter(|n| !(11..=12).contains(n))
            .map(|n| {
                let late = late_ms[(n % 10) as usize] * 1_000_000;
                (n, (n * 1_000_000_000) / 60 + late)
            })
            .collect();
        samples.push((33, 5_000_000_000));
        assert_eq!(Rate::measured(&samples), Some(Rate { num: 60, den: 1 }));
        assert_eq!(Rate::measured(&samples[..1]), None);
    }
}
