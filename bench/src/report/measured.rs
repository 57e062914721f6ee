//! What one contender did on one route: the rounds added up, and each round on its own, so
//! that the report can say both how the totals compare and how much the comparison moved.

use std::time::Duration;

use crate::load::LoadResult;
use crate::stats::{cpu_per_thousand, rate, ratio, Latency, Spread};

/// The headline numbers of one load (a round, or all rounds added up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Requests per second.
    pub rate: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    /// CPU milliseconds per 1,000 requests.
    pub cpu: Option<f64>,
}

impl Summary {
    pub fn of(result: &LoadResult) -> Summary {
        let latency = Latency::of(&result.latencies);
        Summary {
            rate: rate(result.requests, result.elapsed),
            p50: latency.map(|l| l.p50),
            p99: latency.map(|l| l.p99),
            cpu: result
                .cpu
                .and_then(|c| cpu_per_thousand(c, result.requests)),
        }
    }
}

/// One contender on a route: every round's result added up, and each round's summary.
#[derive(Debug, Default)]
pub struct Measured {
    pub total: LoadResult,
    pub rounds: Vec<Summary>,
}

impl Measured {
    /// Adds the next round.
    pub fn add(&mut self, round: LoadResult) {
        self.rounds.push(Summary::of(&round));
        self.total.absorb(round);
    }

    /// The rounds added up.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.total)
    }
}

/// A per-round number that two contenders are compared on.
#[derive(Debug, Clone, Copy)]
pub enum Metric {
    Throughput,
    CpuPerRequest,
    P99,
}

impl Metric {
    fn of(self, summary: &Summary) -> Option<f64> {
        match self {
            Metric::Throughput => Some(summary.rate),
            Metric::CpuPerRequest => summary.cpu,
            Metric::P99 => summary.p99.map(|d| d.as_secs_f64()),
        }
    }
}

/// Round by round, `a`'s `metric` over `b`'s (both ran in the same round, taking turns): the
/// median and range of those ratios. Rounds where either has no value are left out.
pub fn round_ratios(a: &Measured, b: &Measured, metric: Metric) -> Option<Spread> {
    let ratios: Vec<f64> = a
        .rounds
        .iter()
        .zip(&b.rounds)
        .filter_map(|(a, b)| ratio(metric.of(a)?, metric.of(b)?))
        .collect();
    Spread::of(&ratios)
}

/// A route against the driver calls it amounts to (and, optionally, the Node.js reference).
#[derive(Debug)]
pub struct RouteComparison {
    pub label: &'static str,
    pub driver_label: &'static str,
    pub app: Measured,
    pub driver: Measured,
    /// Empty when the Node.js reference was not run.
    pub node: Measured,
    /// Empty when the hand-written peer was not run.
    pub peer: Measured,
    /// The app with `RUST_LOG=warn` and no metrics port; empty when not run.
    pub quiet: Measured,
    /// The app with `RUST_LOG=warn` and a metrics port; empty when not run.
    pub unlogged: Measured,
}

impl RouteComparison {
    /// Nothing measured yet.
    pub fn new(label: &'static str, driver_label: &'static str) -> RouteComparison {
        RouteComparison {
            label,
            driver_label,
            app: Measured::default(),
            driver: Measured::default(),
            node: Measured::default(),
            peer: Measured::default(),
            quiet: Measured::default(),
            unlogged: Measured::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(rate: f64, cpu: Option<f64>, p99_ms: u64) -> Summary {
        Summary {
            rate,
            p50: None,
            p99: Some(Duration::from_millis(p99_ms)),
            cpu,
        }
    }

    fn measured(rounds: Vec<Summary>) -> Measured {
        Measured {
            rounds,
            ..Measured::default()
        }
    }

    #[test]
    fn ratios_pair_the_rounds_in_order() {
        let app = measured(vec![
            round(90.0, Some(200.0), 10),
            round(100.0, Some(300.0), 30),
            round(120.0, Some(100.0), 20),
        ]);
        let driver = measured(vec![
            round(100.0, Some(100.0), 10),
            round(100.0, Some(100.0), 10),
            round(100.0, Some(100.0), 10),
        ]);
        let throughput = round_ratios(&app, &driver, Metric::Throughput).unwrap();
        assert_eq!(
            (throughput.median, throughput.min, throughput.max),
            (1.0, 0.9, 1.2)
        );
        let cpu = round_ratios(&app, &driver, Metric::CpuPerRequest).unwrap();
        assert_eq!((cpu.median, cpu.min, cpu.max), (2.0, 1.0, 3.0));
        let p99 = round_ratios(&app, &driver, Metric::P99).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(
            close(p99.median, 2.0) && close(p99.min, 1.0) && close(p99.max, 3.0),
            "{p99:?}"
        );
    }

    #[test]
    fn rounds_without_a_value_or_a_partner_are_left_out() {
        let app = measured(vec![round(50.0, None, 1), round(60.0, Some(2.0), 1)]);
        let driver = measured(vec![round(100.0, Some(1.0), 1)]);
        let cpu = round_ratios(&app, &driver, Metric::CpuPerRequest);
        assert_eq!(cpu, None);
        let throughput = round_ratios(&app, &driver, Metric::Throughput).unwrap();
        assert_eq!((throughput.median, throughput.max), (0.5, 0.5));
        assert_eq!(round_ratios(&app, &Measured::default(), Metric::P99), None);
    }

    #[test]
    fn a_round_is_summarised_when_added() {
        let mut side = Measured::default();
        let mut result = LoadResult {
            requests: 2000,
            elapsed: Duration::from_secs(2),
            cpu: Some(Duration::from_millis(500)),
            ..LoadResult::default()
        };
        result.latencies.record(Duration::from_millis(4));
        side.add(result.clone());
        side.add(result);
        assert_eq!(side.rounds.len(), 2);
        assert_eq!(side.rounds[0].rate, 1000.0);
        assert_eq!(side.rounds[0].cpu, Some(250.0));
        assert_eq!(side.summary().rate, 1000.0);
        assert_eq!(side.total.latencies.count(), 2);
    }
}
