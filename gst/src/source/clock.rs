//! Placing a frame's CLOCK_MONOTONIC stamp on the pipeline's clock.

/// The running time at which a frame stamped `frame_ns` (CLOCK_MONOTONIC) was
/// published, given the pipeline clock's time `clock_now` read together with
/// CLOCK_MONOTONIC's `monotonic_now`, and the element's `base_time`.
///
/// The frame's age is measured on CLOCK_MONOTONIC and taken back from the
/// pipeline clock's present, so any pipeline clock works (the system clock,
/// a network clock); frames older than the pipeline are placed at 0.
pub fn running_time(
    frame_ns: u64,
    monotonic_now: u64,
    clock_now: gst::ClockTime,
    base_time: gst::ClockTime,
) -> gst::ClockTime {
    let age = monotonic_now.saturating_sub(frame_ns);
    let on_clock = clock_now.nseconds().saturating_sub(age);
    gst::ClockTime::from_nseconds(on_clock.saturating_sub(base_time.nseconds()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gst::ClockTime;

    #[test]
    fn a_frame_keeps_its_age_on_another_clock() {
        // The pipeline clock runs 5 s ahead of CLOCK_MONOTONIC; the pipeline began at 7 s on it.
        let t = running_time(
            10_000_000_000,
            10_250_000_000,
            ClockTime::from_mseconds(15_250),
            ClockTime::from_seconds(7),
        );
        assert_eq!(t, ClockTime::from_mseconds(8_000));
    }

    #[test]
    fn frames_from_before_the_pipeline_start_at_zero() {
        let t = running_time(
            1,
            5_000,
            ClockTime::from_nseconds(5_000),
            ClockTime::from_nseconds(4_000),
        );
        assert_eq!(t, ClockTime::ZERO);
    }
}
