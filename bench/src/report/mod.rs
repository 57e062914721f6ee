//! The Markdown report: the machine, how the load was made, one table of app against raw
//! driver (each target marked met or not met), the details behind it, and the Node.js
//! reference.

mod details;
mod format;
mod main_table;
mod measured;
mod node;
mod peer;

use std::fmt::Write as _;
use std::time::Duration;

pub use measured::{Measured, RouteComparison};

use crate::lambda::LambdaMeasures;
use crate::load::LoadShape;
use crate::proc_info::Machine;
use crate::seed::SeedCounts;

/// The app's driver clients and its connections to the server(s) under `/dashboard` load.
#[derive(Debug, Clone)]
pub struct Sharing {
    /// Clients the app logged creating.
    pub clients: usize,
    /// ESTABLISHED connections to each of `ports`, at the sample with the most in all.
    pub peak_connections: Vec<usize>,
    pub ports: Vec<u16>,
}

impl Sharing {
    fn total(&self) -> usize {
        self.peak_connections.iter().sum()
    }

    fn per_port(&self) -> String {
        self.ports
            .iter()
            .zip(&self.peak_connections)
            .map(|(port, n)| format!("{n} to :{port}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the Node.js + Mongoose reference measured besides its loads.
#[derive(Debug)]
pub struct NodeReference {
    pub version: String,
    pub peak_rss: Option<u64>,
    /// Peak ESTABLISHED connections to the server under `/dashboard` load.
    pub peak_connections: usize,
    pub cold_starts: Vec<Duration>,
}

/// Everything measured in one run.
#[derive(Debug)]
pub struct Report {
    pub machine: Machine,
    /// The 1-minute load average at the end of the run.
    pub load_after: String,
    pub server_label: String,
    pub placement: String,
    pub shape: LoadShape,
    pub rounds: usize,
    pub seed: SeedCounts,
    /// `GET /branches/{id}` first, then `GET /dashboard`.
    pub routes: Vec<RouteComparison>,
    /// The app's CPU per request on `GET /health/live`, measured in the same rounds.
    pub http_floor: Measured,
    pub peak_rss: Option<u64>,
    pub cold_starts: Vec<Duration>,
    pub handshakes: Vec<Duration>,
    pub one_uri: Sharing,
    pub driver_peak_connections: usize,
    pub two_servers: Option<Sharing>,
    pub node: Option<NodeReference>,
    /// The Lambda path, or why it could not be measured (the rest of the report stands).
    pub lambda: Result<LambdaMeasures, String>,
    /// The size of the release `app` binary, in bytes.
    pub app_binary_size: Option<u64>,
}

impl Report {
    /// The report as Markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_setup(&mut out);
        out.push_str(&self.main_table());
        out.push_str("\n\n");
        if let Some(table) = self.peer_table() {
            out.push_str("### Against the hand-written peer (`bench/src/bin/peer.rs`)\n\n");
            out.push_str(&table);
            out.push_str("\n\n");
        }
        self.render_details(&mut out);
        self.render_node(&mut out);
        out
    }

    /// `GET /branches/{id}`: what a warm Lambda invocation is compared with.
    fn branch_route(&self) -> Option<&RouteComparison> {
        self.routes.first()
    }

    fn render_setup(&self, out: &mut String) {
        let m = &self.machine;
        let s = &self.shape;
        let lines = [
            "## Benchmark: `app serve` and `app lambda` against the raw `mongodb` driver\n"
                .to_owned(),
            format!(
                "- Machine: {} cores, {}, {} RAM, Linux {}, {}",
                m.cores, m.cpu, m.memory, m.kernel, m.rustc
            ),
            format!(
                "- Server: {} on loopback, the same one for the app and the driver",
                self.server_label
            ),
            format!(
                "- Load average (1 min) before / after the run: {} / {} (other work on the \
                 machine shows here)",
                m.load, self.load_after
            ),
            format!("- CPUs: {}", self.placement),
            format!(
                "- Load: {} requests in flight (closed loop, one keep-alive HTTP/1.1 connection \
                 or driver task each), {} round(s) × {} s measured per route and contender after \
                 {} s of warm-up; within a round the contenders take turns, the first one \
                 rotating from round to round",
                s.concurrency,
                self.rounds,
                s.duration.as_secs(),
                s.warmup.as_secs()
            ),
            format!(
                "- Data, written through the API: {} branches, {} customers, {} orders, {} admins",
                self.seed.branches, self.seed.customers, self.seed.orders, self.seed.admins
            ),
            "- App: the release `app serve` binary as a child process, configured by \
             `MONGO_URI`, `MASTER_ADMIN_MONGO_URI` (same server, other database), \
             `AUTH_JWT_SECRET`, `PORT`; defaults otherwise (pool 50, one `info` log line per \
             request, to a file)"
                .to_owned(),
            "- Lambda: the same binary as `app lambda`, with the same variables and \
             `AWS_LAMBDA_RUNTIME_API` pointing at a Lambda Runtime API faked by the benchmark \
             on loopback, which hands it API Gateway HTTP API (v2) events one at a time"
                .to_owned(),
            "- Raw driver: one `mongodb` `Client` (pool 50) in the benchmark process, results \
             left as BSON documents"
                .to_owned(),
            "- Hand-written peer: `bench/src/bin/peer.rs`, the same routes and JSON on axum, the \
             driver (pool 50), an HS256 check per request and `serde_json`; tokio's \
             multi-threaded runtime, the system allocator, no logging, no metrics; as `peer \
             lambda`, the same handler on `lambda_http`\n"
                .to_owned(),
        ];
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
}
