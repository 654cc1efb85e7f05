//! Medians and percentiles of samples.

/// Median and 99th percentile of `samples` (nanoseconds), by nearest rank.
pub fn median_p99(samples: &[u64]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    (percentile(&sorted, 0.50), percentile(&sorted, 0.99))
}

/// The `q` quantile of sorted samples, by nearest rank.
pub fn percentile(sorted: &[u64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

/// Drops the first tenth of the samples (warm-up: page faults, cold caches).
pub fn without_warmup(mut samples: Vec<u64>) -> Vec<u64> {
    let skip = samples.len() / 10;
    samples.drain(..skip);
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99_by_nearest_rank() {
        let samples: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(median_p99(&samples), (50.0, 99.0));
        assert_eq!(median_p99(&[7]), (7.0, 7.0));
    }
}
