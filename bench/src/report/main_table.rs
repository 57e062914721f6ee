//! The main table: the app against the raw driver, with the targets.

use std::time::Duration;

use super::format::{
    markdown_table, megabytes, ms, or_na, plain, spread, thousands, times, verdict,
};
use super::measured::{round_ratios, Metric, RouteComparison, Summary};
use super::Report;
use crate::lambda::LambdaMeasures;
use crate::stats::{median, ratio};
use crate::workload::FLOOR_PATH;

/// The throughput the app must keep, as a share of the raw driver's.
const THROUGHPUT_TARGET: f64 = 0.95;
/// The most cold start may exceed the server's handshake by.
const COLD_START_BUDGET: Duration = Duration::from_millis(100);
/// The most memory the app may hold with both roles connected under load, in bytes (MB, 10⁶).
const RSS_BUDGET: u64 = 30_000_000;

const HEADER: [&str; 6] = [
    "metric",
    "app",
    "raw driver",
    "ratio (all rounds)",
    "ratio per round: median (min–max)",
    "target",
];

type Row = Vec<String>;

fn row(cells: [&str; 6]) -> Row {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

/// `a / b` of two durations, when both are known and `b` is not zero.
pub(super) fn duration_ratio(a: Option<Duration>, b: Option<Duration>) -> Option<f64> {
    a.zip(b)
        .and_then(|(a, b)| ratio(a.as_secs_f64(), b.as_secs_f64()))
}

impl Report {
    pub(super) fn main_table(&self) -> String {
        let mut rows: Vec<Row> = self.routes.iter().flat_map(route_rows).collect();
        rows.push(self.floor_row());
        rows.push(self.rss_row());
        rows.push(self.cold_start_row());
        rows.extend(self.lambda_rows());
        rows.push(self.binary_row());
        rows.extend(self.sharing_rows());
        markdown_table(&HEADER, rows)
    }

    /// What the app spends per request before any handler runs, against the driver's
    /// `find_one`: the part of the `GET /branches/{id}` ratio that no handler work can remove.
    fn floor_row(&self) -> Row {
        let floor = self.http_floor.summary().cpu;
        let branch = self.branch_route();
        let driver = branch.and_then(|b| b.driver.summary().cpu);
        let per_round =
            branch.and_then(|b| round_ratios(&self.http_floor, &b.driver, Metric::CpuPerRequest));
        row([
            &format!(
                "HTTP floor: `GET {FLOOR_PATH}` (no database; the same server, request id, \
                 request log and metrics) CPU per 1,000 requests (ms; app process / \
                 benchmark process per `find_one`)"
            ),
            &or_na(floor, |c| format!("{c:.0}")),
            &or_na(driver, |c| format!("{c:.0}")),
            &times(floor.zip(driver).and_then(|(a, d)| ratio(a, d))),
            &spread(per_round, "×"),
            "",
        ])
    }

    fn rss_row(&self) -> Row {
        let rss = self.peak_rss;
        row([
            "peak RSS (VmHWM), both roles connected, after all load (MB)",
            &or_na(rss, megabytes),
            "n/a",
            "",
            "",
            &format!(
                "< 30 MB: {}",
                rss.map_or("not measured", |b| verdict(b < RSS_BUDGET))
            ),
        ])
    }

    fn cold_start_row(&self) -> Row {
        cold_row(
            &format!(
                "cold start: spawn → first 200 on `/dashboard`, median of {} (ms)",
                self.cold_starts.len()
            ),
            &self.cold_starts,
            &self.handshakes,
        )
    }

    fn lambda_rows(&self) -> Vec<Row> {
        let lambda = match &self.lambda {
            Ok(lambda) => lambda,
            Err(error) => {
                let reason = format!("not measured: {}", error.replace('\n', " "));
                return vec![row(["Lambda", &reason, "", "", "", ""])];
            }
        };
        let cold = cold_row(
            &format!(
                "Lambda cold start: spawn → first invocation's response, `GET /dashboard`, \
                 median of {} (ms)",
                lambda.cold_starts.len()
            ),
            &lambda.cold_starts,
            &self.handshakes,
        );
        vec![cold, self.lambda_cpu_row(lambda)]
    }

    fn lambda_cpu_row(&self, lambda: &LambdaMeasures) -> Row {
        let app = Summary::of(&lambda.warm).cpu;
        let driver = self.branch_route().and_then(|b| b.driver.summary().cpu);
        row([
            &format!(
                "Lambda warm CPU per invocation, {} sequential `GET /branches/{{id}}` \
                 (µs; app process / benchmark process per `find_one`)",
                thousands(lambda.warm.requests as f64)
            ),
            &or_na(app, |c| format!("{c:.0}")),
            &or_na(driver, |c| format!("{c:.0}")),
            &times(app.zip(driver).and_then(|(a, d)| ratio(a, d))),
            "",
            "",
        ])
    }

    fn binary_row(&self) -> Row {
        row([
            "release `app` binary size (MB)",
            &or_na(self.app_binary_size, |b| {
                format!("{} ({} bytes)", megabytes(b), thousands(b as f64))
            }),
            "n/a",
            "",
            "",
            "",
        ])
    }

    fn sharing_rows(&self) -> Vec<Row> {
        let one = &self.one_uri;
        let one_pool = one.clients == 1 && one.total() <= self.driver_peak_connections + 2;
        let mut rows = vec![row([
            "driver clients / peak TCP connections to the server under `/dashboard` load, \
             both roles on one URI",
            &format!("{} client / {} connections", one.clients, one.total()),
            &format!("1 client / {} connections", self.driver_peak_connections),
            &times(ratio(
                one.total() as f64,
                self.driver_peak_connections as f64,
            )),
            "",
            &format!("second role costs no second pool: {}", verdict(one_pool)),
        ])];
        if let Some(two) = &self.two_servers {
            rows.push(row([
                "the same, `masteradmin` on a second server (reference)",
                &format!(
                    "{} clients / {} connections ({})",
                    two.clients,
                    two.total(),
                    two.per_port()
                ),
                "",
                "",
                "",
                "",
            ]));
        }
        rows
    }
}

/// A cold-start row: the median against the bare handshake, with the budget above it.
fn cold_row(label: &str, cold_starts: &[Duration], handshakes: &[Duration]) -> Row {
    let cold = median(cold_starts);
    let handshake = median(handshakes);
    let over = cold.zip(handshake).map(|(c, h)| c.saturating_sub(h));
    row([
        label,
        &or_na(cold, ms),
        &format!(
            "{} (bare handshake: new `Client` → first `ping`)",
            or_na(handshake, ms)
        ),
        &format!("cold start − handshake = {} ms", or_na(over, ms)),
        "",
        &format!(
            "< 100 ms + handshake: {}",
            over.map_or("not measured", |o| verdict(o < COLD_START_BUDGET))
        ),
    ])
}

/// Throughput, p50, p99 and CPU of one route: totals, and the per-round ratios.
fn route_rows(route: &RouteComparison) -> Vec<Row> {
    let (app, driver) = (route.app.summary(), route.driver.summary());
    let per_round =
        |metric, suffix| spread(round_ratios(&route.app, &route.driver, metric), suffix);
    let share = ratio(app.rate, driver.rate);
    let label = route.label;
    vec![
        row([
            &format!("{label} throughput (req/s)"),
            &thousands(app.rate),
            &thousands(driver.rate),
            &plain(share),
            &per_round(Metric::Throughput, ""),
            &format!(
                "≥ 0.95: {}",
                share.map_or("not measured", |r| verdict(r >= THROUGHPUT_TARGET))
            ),
        ]),
        row([
            &format!("{label} p50 latency (ms)"),
            &or_na(app.p50, ms),
            &or_na(driver.p50, ms),
            &times(duration_ratio(app.p50, driver.p50)),
            "",
            "",
        ]),
        row([
            &format!("{label} p99 latency (ms)"),
            &or_na(app.p99, ms),
            &or_na(driver.p99, ms),
            &times(duration_ratio(app.p99, driver.p99)),
            &per_round(Metric::P99, "×"),
            "",
        ]),
        row([
            &format!("{label} CPU per 1,000 requests (ms; app process / benchmark process)"),
            &or_na(app.cpu, |c| format!("{c:.0}")),
            &or_na(driver.cpu, |c| format!("{c:.0}")),
            &times(app.cpu.zip(driver.cpu).and_then(|(a, d)| ratio(a, d))),
            &per_round(Metric::CpuPerRequest, "×"),
            "",
        ]),
    ]
}
