//! The app against the hand-written peer on the same stack: what our layers cost over the
//! service a team would write instead of adopting them.

use super::format::{markdown_table, or_na, plain, spread, thousands, times, verdict};
use super::main_table::duration_ratio;
use super::measured::{round_ratios, Metric, RouteComparison, Summary};
use super::Report;
use crate::stats::ratio;

/// The most CPU per request the app may spend over the peer's, README defaults.
const CPU_TARGET: f64 = 1.20;
/// The same with `RUST_LOG=warn` and no metrics port.
const QUIET_CPU_TARGET: f64 = 1.10;

const HEADER: [&str; 6] = [
    "metric",
    "app",
    "hand-written peer",
    "app / peer (all rounds)",
    "app / peer per round: median (min–max)",
    "target",
];

impl Report {
    /// The table, when the peer was measured.
    pub(super) fn peer_table(&self) -> Option<String> {
        if self.routes.iter().all(|r| r.peer.rounds.is_empty()) {
            return None;
        }
        let mut rows: Vec<Vec<String>> = self.routes.iter().flat_map(peer_rows).collect();
        if let Ok(lambda) = &self.lambda {
            let (app, peer) = (
                Summary::of(&lambda.warm).cpu,
                Summary::of(&lambda.peer_warm).cpu,
            );
            let share = app.zip(peer).and_then(|(a, p)| ratio(a, p));
            rows.push(cells([
                "Lambda warm CPU per invocation, sequential `GET /branches/{id}` (µs)",
                &or_na(app, |c| format!("{c:.0}")),
                &or_na(peer, |c| format!("{c:.0}")),
                &times(share),
                "",
                &target(share, CPU_TARGET),
            ]));
        }
        Some(markdown_table(&HEADER, rows))
    }
}

fn cells(cells: [&str; 6]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn target(share: Option<f64>, target: f64) -> String {
    format!(
        "≤ {target:.2}×: {}",
        share.map_or("not measured", |r| verdict(r <= target))
    )
}

/// CPU (the target), throughput and p99 (reported: the test server saturates first, so they
/// are equal by construction) of one route, app against peer.
fn peer_rows(route: &RouteComparison) -> Vec<Vec<String>> {
    let (app, peer) = (route.app.summary(), route.peer.summary());
    let per_round = |metric, suffix| spread(round_ratios(&route.app, &route.peer, metric), suffix);
    let cpu = app.cpu.zip(peer.cpu).and_then(|(a, p)| ratio(a, p));
    let quiet = route.quiet.summary();
    let quiet_rounds = round_ratios(&route.quiet, &route.peer, Metric::CpuPerRequest);
    let unlogged = route.unlogged.summary();
    let unlogged_rounds = round_ratios(&route.unlogged, &route.peer, Metric::CpuPerRequest);
    let label = route.label;
    vec![
        cells([
            &format!("{label} CPU per 1,000 requests (ms of each process)"),
            &or_na(app.cpu, |c| format!("{c:.0}")),
            &or_na(peer.cpu, |c| format!("{c:.0}")),
            &times(cpu),
            &per_round(Metric::CpuPerRequest, "×"),
            &target(
                round_ratios(&route.app, &route.peer, Metric::CpuPerRequest).map(|s| s.median),
                CPU_TARGET,
            ),
        ]),
        cells([
            &format!(
                "{label} CPU per 1,000 requests, the app with `RUST_LOG=warn` and no metrics \
                 port (ms)"
            ),
            &or_na(quiet.cpu, |c| format!("{c:.0}")),
            &or_na(peer.cpu, |c| format!("{c:.0}")),
            &times(quiet.cpu.zip(peer.cpu).and_then(|(a, p)| ratio(a, p))),
            &spread(quiet_rounds, "×"),
            &target(quiet_rounds.map(|s| s.median), QUIET_CPU_TARGET),
        ]),
        cells([
            &format!(
                "{label} CPU per 1,000 requests, the app with `RUST_LOG=warn` and a metrics \
                 port: the defaults without the request line (ms)"
            ),
            &or_na(unlogged.cpu, |c| format!("{c:.0}")),
            &or_na(peer.cpu, |c| format!("{c:.0}")),
            &times(unlogged.cpu.zip(peer.cpu).and_then(|(a, p)| ratio(a, p))),
            &spread(unlogged_rounds, "×"),
            "reported",
        ]),
        cells([
            &format!("{label} throughput (req/s)"),
            &thousands(app.rate),
            &thousands(peer.rate),
            &plain(ratio(app.rate, peer.rate)),
            &per_round(Metric::Throughput, ""),
            "",
        ]),
        cells([
            &format!("{label} p99 latency"),
            &or_na(app.p99, super::format::ms),
            &or_na(peer.p99, super::format::ms),
            &times(duration_ratio(app.p99, peer.p99)),
            &per_round(Metric::P99, "×"),
            "",
        ]),
    ]
}
