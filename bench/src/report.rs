//! The Markdown report: the machine, how the load was made, and one table of app against raw
//! driver, each target marked met or not met.

use std::fmt::Write as _;
use std::time::Duration;

use crate::load::{LoadResult, LoadShape};
use crate::procfs::Machine;
use crate::seed::SeedCounts;
use crate::stats::{cpu_per_thousand, median, rate, ratio, Latency};

/// The throughput the app must keep, as a share of the raw driver's.
const THROUGHPUT_TARGET: f64 = 0.95;
/// The most cold start may exceed the server's handshake by.
const COLD_START_BUDGET: Duration = Duration::from_millis(100);
/// The most memory the app may hold with both roles connected under load, in bytes (MB, 10⁶).
const RSS_BUDGET: u64 = 30_000_000;

/// One contender on a route: every round's result added up, and each round's rate.
#[derive(Debug, Default)]
pub struct Measured {
    pub total: LoadResult,
    pub rounds: Vec<f64>,
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
        }
    }
}

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
    pub routes: Vec<RouteComparison>,
    pub peak_rss: Option<u64>,
    pub cold_starts: Vec<Duration>,
    pub handshakes: Vec<Duration>,
    pub one_uri: Sharing,
    pub driver_peak_connections: usize,
    pub two_servers: Option<Sharing>,
    pub node: Option<NodeReference>,
}

fn verdict(met: bool) -> &'static str {
    match met {
        true => "**met**",
        false => "**not met**",
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    match ms {
        _ if ms < 10.0 => format!("{ms:.2}"),
        _ => format!("{ms:.1}"),
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.2}×"))
}

fn or_na<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| "n/a".into(), show)
}

impl Report {
    /// The report as Markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_setup(&mut out);
        self.render_table(&mut out);
        self.render_details(&mut out);
        self.render_node(&mut out);
        out
    }

    fn render_setup(&self, out: &mut String) {
        let m = &self.machine;
        let s = &self.shape;
        let _ = writeln!(
            out,
            "## Benchmark: `app serve` against the raw `mongodb` driver\n"
        );
        let _ = writeln!(
            out,
            "- Machine: {} cores, {}, {} RAM, Linux {}, {}",
            m.cores, m.cpu, m.memory, m.kernel, m.rustc
        );
        let _ = writeln!(
            out,
            "- Server: {} on loopback, the same one for the app and the driver",
            self.server_label
        );
        let _ = writeln!(
            out,
            "- Load average (1 min) before / after the run: {} / {} (other work on the machine \
             shows here)",
            m.load, self.load_after
        );
        let _ = writeln!(out, "- CPUs: {}", self.placement);
        let _ = writeln!(
            out,
            "- Load: {} requests in flight (closed loop, one keep-alive HTTP/1.1 connection or \
             driver task each), {} round(s) × {} s measured per route and contender after {} s \
             of warm-up; within a round the contenders take turns, the first one rotating from \
             round to round",
            s.concurrency,
            self.rounds,
            s.duration.as_secs(),
            s.warmup.as_secs()
        );
        let _ = writeln!(
            out,
            "- Data, written through the API: {} branches, {} customers, {} orders, {} admins",
            self.seed.branches, self.seed.customers, self.seed.orders, self.seed.admins
        );
        let _ = writeln!(
            out,
            "- App: the release `app serve` binary as a child process, configured by \
             `MONGO_URI`, `MASTER_ADMIN_MONGO_URI` (same server, other database), \
             `AUTH_JWT_SECRET`, `PORT`; defaults otherwise (pool 50, one `info` log line per \
             request, to a file)"
        );
        let _ = writeln!(
            out,
            "- Raw driver: one `mongodb` `Client` (pool 50) in the benchmark process, results \
             left as BSON documents\n"
        );
    }

    fn render_table(&self, out: &mut String) {
        let _ = writeln!(out, "| metric | app | raw driver | ratio | target |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for route in &self.routes {
            self.render_route(out, route);
        }

        let rss = self.peak_rss;
        let _ = writeln!(
            out,
            "| peak RSS (VmHWM), both roles connected, after all load (MB) | {} | n/a | | < 30 MB: {} |",
            or_na(rss, |b| format!("{:.1}", b as f64 / 1e6)),
            rss.map_or("not measured", |b| verdict(b < RSS_BUDGET))
        );

        let cold = median(&self.cold_starts);
        let handshake = median(&self.handshakes);
        let over = cold.zip(handshake).map(|(c, h)| c.saturating_sub(h));
        let _ = writeln!(
            out,
            "| cold start: spawn → first 200 on `/dashboard`, median of {} (ms) | {} | {} (bare handshake: new `Client` → first `ping`) | cold start − handshake = {} ms | < 100 ms + handshake: {} |",
            self.cold_starts.len(),
            or_na(cold, ms),
            or_na(handshake, ms),
            or_na(over, ms),
            over.map_or("not measured", |o| verdict(o < COLD_START_BUDGET))
        );

        let one = &self.one_uri;
        let one_pool = one.clients == 1 && one.total() <= self.driver_peak_connections + 2;
        let _ = writeln!(
            out,
            "| driver clients / peak TCP connections to the server under `/dashboard` load, both roles on one URI | {} client / {} connections | 1 client / {} connections | {} | second role costs no second pool: {} |",
            one.clients,
            one.total(),
            self.driver_peak_connections,
            times(ratio(one.total() as f64, self.driver_peak_connections as f64)),
            verdict(one_pool)
        );
        if let Some(two) = &self.two_servers {
            let _ = writeln!(
                out,
                "| the same, `masteradmin` on a second server (reference) | {} clients / {} connections ({}) | | | |",
                two.clients,
                two.total(),
                two.per_port()
            );
        }
    }

    fn render_route(&self, out: &mut String, route: &RouteComparison) {
        let app = Summary::of(&route.app.total);
        let driver = Summary::of(&route.driver.total);
        let share = ratio(app.rate, driver.rate);
        let _ = writeln!(
            out,
            "| {} throughput (req/s) | {} | {} | {} | ≥ 0.95: {} |",
            route.label,
            thousands(app.rate),
            thousands(driver.rate),
            or_na(share, |r| format!("{r:.2}")),
            share.map_or("not measured", |r| verdict(r >= THROUGHPUT_TARGET))
        );
        for (name, a, d) in [("p50", app.p50, driver.p50), ("p99", app.p99, driver.p99)] {
            let _ = writeln!(
                out,
                "| {} {name} latency (ms) | {} | {} | {} | |",
                route.label,
                or_na(a, ms),
                or_na(d, ms),
                times(
                    a.zip(d)
                        .and_then(|(a, d)| ratio(a.as_secs_f64(), d.as_secs_f64()))
                )
            );
        }
        let _ = writeln!(
            out,
            "| {} CPU per 1,000 requests (ms; app process / benchmark process) | {} | {} | {} | |",
            route.label,
            or_na(app.cpu, |c| format!("{c:.0}")),
            or_na(driver.cpu, |c| format!("{c:.0}")),
            times(app.cpu.zip(driver.cpu).and_then(|(a, d)| ratio(a, d)))
        );
    }

    fn render_node(&self, out: &mut String) {
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
        let _ = writeln!(out, "| metric | app | Node.js + Mongoose | app / Node |");
        let _ = writeln!(out, "|---|---|---|---|");
        for route in &self.routes {
            let app = Summary::of(&route.app.total);
            let other = Summary::of(&route.node.total);
            let _ = writeln!(
                out,
                "| {} throughput (req/s) | {} | {} | {} |",
                route.label,
                thousands(app.rate),
                thousands(other.rate),
                or_na(ratio(app.rate, other.rate), |r| format!("{r:.2}"))
            );
            for (name, a, o) in [("p50", app.p50, other.p50), ("p99", app.p99, other.p99)] {
                let _ = writeln!(
                    out,
                    "| {} {name} latency (ms) | {} | {} | {} |",
                    route.label,
                    or_na(a, ms),
                    or_na(o, ms),
                    times(
                        a.zip(o)
                            .and_then(|(a, o)| ratio(a.as_secs_f64(), o.as_secs_f64()))
                    )
                );
            }
            let _ = writeln!(
                out,
                "| {} CPU per 1,000 requests (ms) | {} | {} | {} |",
                route.label,
                or_na(app.cpu, |c| format!("{c:.0}")),
                or_na(other.cpu, |c| format!("{c:.0}")),
                times(app.cpu.zip(other.cpu).and_then(|(a, o)| ratio(a, o)))
            );
        }
        let mb = |b: Option<u64>| or_na(b, |b| format!("{:.1}", b as f64 / 1e6));
        let _ = writeln!(
            out,
            "| peak RSS after all load (MB) | {} | {} | {} |",
            mb(self.peak_rss),
            mb(node.peak_rss),
            times(
                self.peak_rss
                    .zip(node.peak_rss)
                    .and_then(|(a, o)| ratio(a as f64, o as f64))
            )
        );
        let (app_cold, node_cold) = (median(&self.cold_starts), median(&node.cold_starts));
        let _ = writeln!(
            out,
            "| cold start to first 200 on `/dashboard`, median of {} (ms) | {} | {} | {} |",
            node.cold_starts.len(),
            or_na(app_cold, ms),
            or_na(node_cold, ms),
            times(
                app_cold
                    .zip(node_cold)
                    .and_then(|(a, o)| ratio(a.as_secs_f64(), o.as_secs_f64()))
            )
        );
        let _ = writeln!(
            out,
            "| peak TCP connections to the server under `/dashboard` load | {} | {} | {} |",
            self.one_uri.total(),
            node.peak_connections,
            times(ratio(
                self.one_uri.total() as f64,
                node.peak_connections as f64
            ))
        );
        let list = |samples: &[Duration]| {
            samples
                .iter()
                .map(|d| ms(*d))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "\n- Node.js cold starts (ms): {}",
            list(&node.cold_starts)
        );
        for route in &self.routes {
            let rounds: Vec<String> = route.node.rounds.iter().map(|r| thousands(*r)).collect();
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

    fn render_details(&self, out: &mut String) {
        let _ = writeln!(out);
        for route in &self.routes {
            let rounds = |side: &Measured| {
                side.rounds
                    .iter()
                    .map(|r| thousands(*r))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "- {} (raw driver: {}): per-round req/s, app {}; driver {}; errors: app {}, driver {}",
                route.label,
                route.driver_label,
                rounds(&route.app),
                rounds(&route.driver),
                route.app.total.errors,
                route.driver.total.errors
            );
            let generator = &route.app.total;
            if let Some(cpu) = generator
                .generator_cpu
                .and_then(|c| cpu_per_thousand(c, generator.requests))
            {
                let _ = writeln!(
                    out,
                    "  - the HTTP load generator itself used {cpu:.0} ms of CPU per 1,000 app requests (not counted in the app's CPU, but on the same CPUs)"
                );
            }
            for (side, result) in [("app", &route.app.total), ("driver", &route.driver.total)] {
                if let Some(error) = &result.first_error {
                    let _ = writeln!(out, "  - first {side} error: {error}");
                }
            }
        }
        let list = |samples: &[Duration]| {
            samples
                .iter()
                .map(|d| ms(*d))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "- Cold starts (ms): {}", list(&self.cold_starts));
        let _ = writeln!(out, "- Bare handshakes (ms): {}", list(&self.handshakes));
        let _ = writeln!(
            out,
            "- One URI: {} driver client(s) created (from the app's log), peak connections {}",
            self.one_uri.clients,
            self.one_uri.per_port()
        );
        if let Some(two) = &self.two_servers {
            let _ = writeln!(
                out,
                "- Two servers: {} driver client(s) created, peak connections {}",
                two.clients,
                two.per_port()
            );
        }
        let _ = writeln!(
            out,
            "- The pool target counts as met when the app created exactly one client and holds \
             no more connections (+2 for monitoring) than one raw-driver `Client` under the \
             same load."
        );
    }
}

/// The headline numbers of one contender on one route.
struct Summary {
    rate: f64,
    p50: Option<Duration>,
    p99: Option<Duration>,
    /// CPU milliseconds per 1,000 requests.
    cpu: Option<f64>,
}

impl Summary {
    fn of(result: &LoadResult) -> Summary {
        let latency = Latency::of(&mut result.latencies.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1234.6), "1,235");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn milliseconds_keep_two_decimals_below_ten() {
        assert_eq!(ms(Duration::from_micros(1234)), "1.23");
        assert_eq!(ms(Duration::from_micros(41_260)), "41.3");
    }
}
