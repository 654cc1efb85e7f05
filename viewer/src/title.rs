//! The window title: stream name, resolution, frame rate and latency, and
//! the running measurement of the last two.

use shmframe::FrameInfo;
use shmframe_convert::GrayRange;
use std::time::{Duration, Instant};

/// How long frames are counted before the rate and latency are updated.
pub const MEASURE_PERIOD: Duration = Duration::from_millis(500);

/// Frame rate and mean latency over the last measurement period.
#[derive(Debug)]
pub struct Meter {
    period_start: Instant,
    frames: u32,
    latency_sum_ns: u128,
    fps: Option<f64>,
    latency_ms: Option<f64>,
}

impl Meter {
    /// A meter whose first period starts at `now`.
    pub fn new(now: Instant) -> Self {
        Meter {
            period_start: now,
            frames: 0,
            latency_sum_ns: 0,
            fps: None,
            latency_ms: None,
        }
    }

    /// Counts a frame that arrived `latency_ns` after it was published.
    pub fn record(&mut self, latency_ns: u64) {
        self.frames += 1;
        self.latency_sum_ns += u128::from(latency_ns);
    }

    /// Closes the period if it has lasted long enough; `true` if it did.
    pub fn tick(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.period_start);
        if elapsed < MEASURE_PERIOD {
            return false;
        }
        let (fps, latency_ms) = if self.frames == 0 {
            // An idle stream runs at 0 fps; the last latency is kept.
            (Some(0.0), self.latency_ms)
        } else {
            let mean_ns = self.latency_sum_ns / u128::from(self.frames);
            (
                Some(f64::from(self.frames) / elapsed.as_secs_f64()),
                Some(mean_ns as f64 / 1e6),
            )
        };
        *self = Meter {
            fps,
            latency_ms,
            ..Meter::new(now)
        };
        true
    }

    /// Frames per second over the last period, once one has closed.
    pub fn fps(&self) -> Option<f64> {
        self.fps
    }

    /// Mean latency in milliseconds over the last period with frames.
    pub fn latency_ms(&self) -> Option<f64> {
        self.latency_ms
    }
}

/// What the window is showing, for its title.
pub enum Showing<'a> {
    /// No stream yet (or it cannot be opened: the reason).
    Waiting { problem: Option<&'a str> },
    /// A frame of the stream.
    Frame {
        info: &'a FrameInfo,
        meter: &'a Meter,
        writer_alive: bool,
        /// Gray16 and GrayF32: the values shown black and white.
        gray_range: Option<GrayRange>,
    },
}

/// The title for stream `name` showing `showing`.
pub fn title(name: &str, showing: &Showing<'_>) -> String {
    match showing {
        Showing::Waiting { problem: None } => format!("shmframe-viewer: waiting for `{name}`"),
        Showing::Waiting { problem: Some(p) } => format!("shmframe-viewer: `{name}`: {p}"),
        Showing::Frame {
            info,
            meter,
            writer_alive,
            gray_range,
        } => {
            let mut t = format!(
                "{name} - {}x{} {}",
                info.meta.width, info.meta.height, info.meta.format
            );
            if info.meta.format.is_yuv() {
                let color = info.meta.color;
                t += &format!(" {:?} {:?}", color.matrix, color.range).to_lowercase();
            }
            if let Some(range) = gray_range {
                t += &format!(" range {range}");
            }
            if let Some(fps) = meter.fps() {
                t += &format!(" - {fps:.1} fps");
            }
            if let Some(ms) = meter.latency_ms() {
                t += &format!(" - latency {ms:.2} ms");
            }
            t += &format!(" - frame {}", info.number);
            if !writer_alive {
                t += " - writer gone";
            }
            t + " - shmframe-viewer"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::{FrameMeta, PixelFormat};

    #[test]
    fn the_meter_reports_rate_and_mean_latency_per_period() {
        let t0 = Instant::now();
        let mut meter = Meter::new(t0);
        assert_eq!((meter.fps(), meter.latency_ms()), (None, None));
        meter.record(1_000_000);
        meter.record(3_000_000);
        assert!(
            !meter.tick(t0 + Duration::from_millis(100)),
            "the period is not over"
        );
        assert!(meter.tick(t0 + Duration::from_secs(1)));
        assert_eq!(meter.fps(), Some(2.0));
        assert_eq!(meter.latency_ms(), Some(2.0));
        // A period with no frames: 0 fps, latency kept.
        assert!(meter.tick(t0 + Duration::from_secs(2)));
        assert_eq!((meter.fps(), meter.latency_ms()), (Some(0.0), Some(2.0)));
        assert!(
            !meter.tick(t0 + Duration::from_millis(2100)),
            "the next period is not over"
        );
    }

    #[test]
    fn titles_name_the_stream_and_what_is_shown() {
        assert_eq!(
            title("cam0", &Showing::Waiting { problem: None }),
            "shmframe-viewer: waiting for `cam0`"
        );
        let info = FrameInfo {
            number: 42,
            index: 42,
            timestamp_ns: 0,
            published_ns: 0,
            meta: FrameMeta::packed(320, 240, PixelFormat::Rgba8),
            len: 320 * 240 * 4,
            missed: 0,
        };
        let t0 = Instant::now();
        let mut meter = Meter::new(t0);
        fn showing(info: &FrameInfo, meter: &Meter, writer_alive: bool) -> String {
            title(
                "cam0",
                &Showing::Frame {
                    info,
                    meter,
                    writer_alive,
                    gray_range: None,
                },
            )
        }
        assert_eq!(
            showing(&info, &meter, true),
            "cam0 - 320x240 rgba8 - frame 42 - shmframe-viewer"
        );
        for _ in 0..30 {
            meter.record(1_500_000);
        }
        meter.tick(t0 + Duration::from_millis(500));
        assert_eq!(
            showing(&info, &meter, false),
            "cam0 - 320x240 rgba8 - 60.0 fps - latency 1.50 ms - frame 42 - writer gone - shmframe-viewer"
        );
        let depth = FrameInfo {
            meta: FrameMeta::packed(4, 2, PixelFormat::Gray16),
            ..info
        };
        let range = GrayRange {
            min: 400.0,
            max: 9000.0,
        };
        let shown = title(
            "d",
            &Showing::Frame {
                info: &depth,
                meter: &Meter::new(t0),
                writer_alive: true,
                gray_range: Some(range),
            },
        );
        assert_eq!(
            shown,
            "d - 4x2 gray16 range 400..9000 - frame 42 - shmframe-viewer"
        );
        let yuv = FrameInfo {
            meta: FrameMeta::packed(4, 2, PixelFormat::Nv12),
            ..info
        };
        let shown = title(
            "c",
            &Showing::Frame {
                info: &yuv,
                meter: &Meter::new(t0),
                writer_alive: true,
                gray_range: None,
            },
        );
        assert_eq!(
            shown,
            "c - 4x2 nv12 bt601 limited - frame 42 - shmframe-viewer"
        );
    }
}
