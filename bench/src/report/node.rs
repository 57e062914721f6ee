//! The Node.js + Mongoose reference: the same loads, in the same rounds, against the app.

use std::fmt::Write as _;

use super::format::{list, markdown_table, megabytes, ms, or_na, plain, spread, thousands, times};
use super::main_table::duration_ratio;
use super::measured::{round_ratios, Metric, RouteComparison};
use super::{NodeReference, Report};
use crate::stats::{median, ratio};

const HEADER: [&str; 5] = [
    "metric",
    "app",
    "Node.js + Mongoose",
    "app / Node (all rounds)",
    "app / Node per round: median (min–max)",
];

type Row = Vec<String>;

fn row(cells: [&str; 5]) -> Row {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

impl Report {
    pub(super) fn render_node(&self, out: &mut String) {
        let Some(node) = &self.node else {
            let _ = writeln!(
                out,
                "\n(The Node.js + Mongoose reference was not run: set BENCH_NODE_SERVER, as \
                 `scripts/bench` does when `node` and `npm` are installed.)"
            );
            return;
        };
        let _ = writeln!(
            out,
            "\n### Reference: Node.js {} + Mongoose, the handlers being replaced\n",
            node.version
        );
        let _ = writeln!(
            out,
            "`bench/node/server.js`: `node:http`, the same HS256 token check, one \
             `mongoose.createConnection` per URI (pool 50 each), `findById` (hydrated documents) \
             and three `countDocuments` in `Promise.all`; same server, data, load and CPUs as \
             the app, measured in the same rounds.\n"
        );
        let mut rows: Vec<Row> = self.routes.iter().flat_map(node_route_rows).collect();
        rows.extend(self.node_process_rows(node));
        let _ = writeln!(out, "{}", markdown_table(&HEADER, rows));
        self.render_node_details(out, node);
    }

    fn node_process_rows(&self, node: &NodeReference) -> Vec<Row> {
        let (app_cold, node_cold) = (median(&self.cold_starts), median(&node.cold_starts));
        let connections = self.one_uri.total();
        vec![
            row([
                "peak RSS after all load (MB)",
                &or_na(self.peak_rss, megabytes),
                &or_na(node.peak_rss, megabytes),
                &times(
                    self.peak_rss
                        .zip(node.peak_rss)
                        .and_then(|(a, o)| ratio(a as f64, o as f64)),
                ),
                "",
            ]),
            row([
                &format!(
                    "cold start to first 200 on `/dashboard`, median of {} (ms)",
                    node.cold_starts.len()
                ),
                &or_na(app_cold, ms),
                &or_na(node_cold, ms),
                &times(duration_ratio(app_cold, node_cold)),
                "",
            ]),
            row([
                "peak TCP connections to the server under `/dashboard` load",
                &connections.to_string(),
                &node.peak_connections.to_string(),
                &times(ratio(connections as f64, node.peak_connections as f64)),
                "",
            ]),
        ]
    }

    fn render_node_details(&self, out: &mut String, node: &NodeReference) {
        let _ = writeln!(
            out,
            "\n- Node.js cold starts (ms): {}",
            list(&node.cold_starts)
        );
        for route in &self.routes {
            let rounds: Vec<String> = route
                .node
                .rounds
                .iter()
                .map(|r| thousands(r.rate))
                .collect();
            let _ = writeln!(
                out,
                "- {}: per-round req/s, Node.js {}; errors {}",
                route.label,
                rounds.join(", "),
                route.node.total.errors
            );
            if let Some(error) = &route.node.total.first_error {
                let _ = writeln!(out, "  - first Node.js error: {error}");
            }
        }
    }
}

/// Throughput, p50, p99 and CPU of one route, app against Node.js.
fn node_route_rows(route: &RouteComparison) -> Vec<Row> {
    let (app, other) = (route.app.summary(), route.node.summary());
    let per_round = |metric, suffix| spread(round_ratios(&route.app, &route.node, metric), suffix);
    let label = route.label;
    vec![
        row([
            &format!("{label} throughput (req/s)"),
            &thousands(app.rate),
            &thousands(other.rate),
            &plain(ratio(app.rate, other.rate)),
            &per_round(Metric::Throughput, ""),
        ]),
        row([
            &format!("{label} p50 latency (ms)"),
            &or_na(app.p50, ms),
            &or_na(other.p50, ms),
            &times(duration_ratio(app.p50, other.p50)),
            "",
        ]),
        row([
            &format!("{label} p99 latency (ms)"),
            &or_na(app.p99, ms),
            &or_na(other.p99, ms),
            &times(duration_ratio(app.p99, other.p99)),
            &per_round(Metric::P99, "×"),
        ]),
        row([
            &format!("{label} CPU per 1,000 requests (ms)"),
            &or_na(app.cpu, |c| format!("{c:.0}")),
            &or_na(other.cpu, |c| format!("{c:.0}")),
            &times(app.cpu.zip(other.cpu).and_then(|(a, o)| ratio(a, o))),
            &per_round(Metric::CpuPerRequest, "×"),
        ]),
    ]
}
