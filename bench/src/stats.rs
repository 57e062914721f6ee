//! The arithmetic of the report: percentiles, medians, rates and ratios. Pure, so tested.

use std::time::Duration;

/// The latency distribution of one measured load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
}

impl Latency {
    /// Nearest-rank percentiles of `samples`; `None` when there are none.
    pub fn of(samples: &mut [Duration]) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        Some(Latency {
            p50: percentile(samples, 50.0),
            p99: percentile(samples, 99.0),
        })
    }
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of sorted, non-empty `sorted`: the smallest
/// sample that at least `p` % of the samples do not exceed.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    debug_assert!(!sorted.is_empty() && p > 0.0 && p <= 100.0);
    // ceil(p/100 · n) is a rank in 1..=n; as an index, minus one.
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// Requests per second.
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    match elapsed.as_secs_f64() {
        secs if secs > 0.0 => count as f64 / secs,
        _ => 0.0,
    }
}

/// `numerator / denominator`, or `None` when the denominator is zero (nothing to compare).
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

/// CPU milliseconds spent per 1,000 requests.
pub fn cpu_per_thousand(cpu: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu.as_secs_f64() * 1000.0 * 1000.0 / requests as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples = ms(&(1..=100).rev().collect::<Vec<_>>());
        let latency = Latency::of(&mut samples).unwrap();
        assert_eq!(latency.p50, Duration::from_millis(50));
        assert_eq!(latency.p99, Duration::from_millis(99));
    }

    #[test]
    fn the_p99_of_a_few_samples_is_the_largest() {
        let mut samples = ms(&[3, 1, 2]);
        let latency = Latency::of(&mut samples).unwrap();
        assert_eq!(
            (latency.p50, latency.p99),
            (Duration::from_millis(2), Duration::from_millis(3))
        );
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let sorted = ms(&[7]);
        assert_eq!(percentile(&sorted, 0.1), Duration::from_millis(7));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(7));
    }

    #[test]
    fn no_samples_have_no_latency() {
        assert_eq!(Latency::of(&mut []), None);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(
            median(&ms(&[40, 10, 30, 20])),
            Some(Duration::from_millis(25))
        );
        assert_eq!(median(&ms(&[5, 1, 9])), Some(Duration::from_millis(5)));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn rates_and_ratios_guard_against_zero() {
        assert_eq!(rate(500, Duration::from_millis(250)), 2000.0);
        assert_eq!(rate(5, Duration::ZERO), 0.0);
        assert_eq!(ratio(95.0, 100.0), Some(0.95));
        assert_eq!(ratio(1.0, 0.0), None);
    }

    #[test]
    fn cpu_is_reported_per_thousand_requests() {
        assert_eq!(cpu_per_thousand(Duration::from_secs(2), 4000), Some(500.0));
        assert_eq!(cpu_per_thousand(Duration::from_secs(2), 0), None);
    }
}
