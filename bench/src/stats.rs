//! The arithmetic of the report: latency distributions (an HDR histogram, so that rounds merge
//! without keeping every sample), medians, spreads, rates and ratios. Pure, so tested.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Three significant figures: a recorded latency is off by at most 0.1 %, far below the
/// round-to-round noise, and a histogram stays under 200 kB whatever the count.
const SIGNIFICANT_FIGURES: u8 = 3;
/// The longest latency told apart, in microseconds (an hour); longer ones are recorded as
/// this. Fixed bounds keep every histogram the same shape, so merging them cannot fail.
const MAX_MICROS: u64 = 3_600_000_000;

/// Every latency of a load, in microseconds, in an HDR histogram.
#[derive(Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        // Refused only for a lowest value of 0, a highest below twice the lowest, or more
        // than 5 significant figures: none of which these constants are.
        let histogram = Histogram::new_with_bounds(1, MAX_MICROS, SIGNIFICANT_FIGURES)
            .expect("valid histogram bounds");
        Latencies(histogram)
    }
}

impl fmt::Debug for Latencies {
    /// The count only: the buckets would fill a screen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latencies")
            .field("count", &self.count())
            .finish()
    }
}

impl Latencies {
    /// Records one latency, in whole microseconds (beyond [`MAX_MICROS`], as that).
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros);
    }

    /// Adds every latency of `other` (another worker, or another round of the same load).
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides: every value of `other` has a bucket here.
        let merged = self.0.add(&other.0);
        debug_assert!(merged.is_ok(), "merging histograms: {merged:?}");
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The latency at `quantile` (0 < q ≤ 1): the smallest recorded value that at least that
    /// share of the latencies do not exceed, to the histogram's precision.
    fn at(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.0.value_at_quantile(quantile))
    }
}

/// The headline percentiles of one measured load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
}

impl Latency {
    /// p50 and p99 of `latencies`; `None` when there are none.
    pub fn of(latencies: &Latencies) -> Option<Latency> {
        (latencies.count() > 0).then(|| Latency {
            p50: latencies.at(0.50),
            p99: latencies.at(0.99),
        })
    }
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

/// How a value moved over the rounds: its median and its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// Of `values` (NaN ignored); `None` if there is none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
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

/// CPU milliseconds spent per 1,000 requests (which is also CPU microseconds per request).
pub fn cpu_per_thousand(cpu: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu.as_secs_f64() * 1000.0 * 1000.0 / requests as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(millis: impl IntoIterator<Item = u64>) -> Latencies {
        let mut latencies = Latencies::default();
        for ms in millis {
            latencies.record(Duration::from_millis(ms));
        }
        latencies
    }

    /// Within the histogram's precision (0.1 %) of `expected` milliseconds.
    fn about(actual: Duration, expected_ms: u64) -> bool {
        let expected = Duration::from_millis(expected_ms).as_secs_f64();
        (actual.as_secs_f64() - expected).abs() <= expected * 0.001
    }

    #[test]
    fn percentiles_are_nearest_rank_to_the_histograms_precision() {
        let latency = Latency::of(&recorded((1..=100).rev())).unwrap();
        assert!(about(latency.p50, 50), "{latency:?}");
        assert!(about(latency.p99, 99), "{latency:?}");
    }

    #[test]
    fn the_p99_of_a_few_samples_is_the_largest() {
        let latency = Latency::of(&recorded([3, 1, 2])).unwrap();
        assert!(
            about(latency.p50, 2) && about(latency.p99, 3),
            "{latency:?}"
        );
    }

    #[test]
    fn a_latency_beyond_the_bounds_is_kept_as_the_longest() {
        let mut latencies = recorded([1]);
        latencies.record(Duration::from_secs(7200));
        let latency = Latency::of(&latencies).unwrap();
        assert_eq!(latencies.count(), 2);
        assert!(about(latency.p99, 3_600_000), "{latency:?}");
    }

    #[test]
    fn no_samples_have_no_latency() {
        assert_eq!(Latency::of(&Latencies::default()), None);
    }

    #[test]
    fn merged_rounds_have_the_percentiles_of_all_their_samples() {
        // Alone, the first round's p99 is 1 ms; with the slow round, 99 % lie under 91 ms.
        let mut total = recorded(std::iter::repeat_n(1, 90));
        assert!(about(Latency::of(&total).unwrap().p99, 1));
        total.merge(&recorded(91..=100));
        let latency = Latency::of(&total).unwrap();
        assert_eq!(total.count(), 100);
        assert!(about(latency.p50, 1), "{latency:?}");
        assert!(about(latency.p99, 99), "{latency:?}");
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            median(&ms(&[40, 10, 30, 20])),
            Some(Duration::from_millis(25))
        );
        assert_eq!(median(&ms(&[5, 1, 9])), Some(Duration::from_millis(5)));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn a_spread_is_the_median_and_the_range_of_the_rounds() {
        let spread = Spread::of(&[1.02, 0.91, 0.99, 1.10, 0.97]).unwrap();
        assert_eq!(
            spread,
            Spread {
                median: 0.99,
                min: 0.91,
                max: 1.10,
            }
        );
        assert_eq!(Spread::of(&[2.0, 1.0]).unwrap().median, 1.5);
        assert_eq!(Spread::of(&[f64::NAN]), None);
        assert_eq!(Spread::of(&[]), None);
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
