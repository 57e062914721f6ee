//! The bullet list under the main table: each round's rates, errors, every cold start, the
//! Lambda invocations, and the connection counts per port.

use std::fmt::Write as _;

use super::format::{list, ms, or_na, thousands};
use super::measured::{Measured, RouteComparison, Summary};
use super::Report;
use crate::lambda::LambdaMeasures;
use crate::stats::cpu_per_thousand;

fn per_round_rates(side: &Measured) -> String {
    side.rounds
        .iter()
        .map(|r| thousands(r.rate))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    pub(super) fn render_details(&self, out: &mut String) {
        for route in &self.routes {
            render_route(out, route);
        }
        let _ = writeln!(out, "- Cold starts (ms): {}", list(&self.cold_starts));
        let _ = writeln!(out, "- Bare handshakes (ms): {}", list(&self.handshakes));
        match &self.lambda {
            Ok(lambda) => render_lambda(out, lambda),
            Err(error) => {
                let _ = writeln!(out, "- Lambda: not measured: {error}");
            }
        }
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

fn render_route(out: &mut String, route: &RouteComparison) {
    let _ = writeln!(
        out,
        "- {} (raw driver: {}): per-round req/s, app {}; driver {}; errors: app {}, driver {}",
        route.label,
        route.driver_label,
        per_round_rates(&route.app),
        per_round_rates(&route.driver),
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
            "  - the HTTP load generator itself used {cpu:.0} ms of CPU per 1,000 app requests \
             (not counted in the app's CPU, but on the same CPUs)"
        );
    }
    for (side, result) in [("app", &route.app.total), ("driver", &route.driver.total)] {
        if let Some(error) = &result.first_error {
            let _ = writeln!(out, "  - first {side} error: {error}");
        }
    }
}

fn render_lambda(out: &mut String, lambda: &LambdaMeasures) {
    let _ = writeln!(
        out,
        "- Lambda cold starts (ms): {}",
        list(&lambda.cold_starts)
    );
    let warm = &lambda.warm;
    let summary = Summary::of(warm);
    let _ = writeln!(
        out,
        "- Lambda warm invocations: {} answered `200` in {:.1} s, one at a time ({} per \
         second), after a warm-up; round trip through the fake runtime p50 {} ms, p99 {} ms; \
         errors {}",
        thousands(warm.requests as f64),
        warm.elapsed.as_secs_f64(),
        thousands(summary.rate),
        or_na(summary.p50, ms),
        or_na(summary.p99, ms),
        warm.errors
    );
    if let Some(error) = &warm.first_error {
        let _ = writeln!(out, "  - first Lambda error: {error}");
    }
}
