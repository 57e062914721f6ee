//! Prometheus metrics: what the service counts and measures, and the listener that shows them.
//!
//! Metrics are recorded through the `metrics` facade everywhere (here for HTTP, in
//! `adapters-mongo` for the database clients, in `health.rs` for the health pings), which
//! costs next to nothing until a recorder is installed. `app serve` installs the Prometheus
//! recorder ([`install`]) only when `METRICS_PORT` is set, and then serves `GET /metrics` on
//! that port alone ([`router`]): the API's own listener has no `/metrics`, so the figures
//! (routes, roles, error rates) are never public by accident; the metrics port is meant for
//! the scraper's network only.
//!
//! Labels name a route's template (`/branches/{id}`, never the path asked for), a status
//! class (`2xx`), a method, roles, a command's name: never an id, so the number of series
//! stays bounded whatever the traffic.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The buckets of every `_seconds` histogram: from 1 ms (a ping on a local network) to 30 s
/// (the default `REQUEST_TIMEOUT_MS`).
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the recorder drains its histograms' samples when nobody scrapes, so that an
/// unscraped process does not accumulate them.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The recorder can be installed once per process; every later call gets the same handle.
static INSTALLED: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Why the Prometheus recorder could not be installed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot install the Prometheus metrics recorder: {0}")]
pub struct InstallError(String);

/// Installs the Prometheus recorder as the process's `metrics` recorder (once; later calls
/// return the same handle, so tests in one binary share it), describes the service's metrics
/// and starts the upkeep thread. Metrics recorded before this call are lost: call it before
/// the database clients are created, whose handles are resolved then.
///
/// # Errors
/// [`InstallError`] when another recorder was installed first in this process.
pub fn install() -> Result<PrometheusHandle, InstallError> {
    INSTALLED
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&SECONDS_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|error| error.to_string())?;
            describe();
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP_INTERVAL);
                    upkeep.run_upkeep();
                })
                .map_err(|error| error.to_string())?;
            Ok(handle)
        })
        .clone()
        .map_err(InstallError)
}

/// The descriptions (and units) of the service's own metrics, for whichever recorder is
/// installed: `# HELP` lines in Prometheus.
pub(crate) fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, route template and status class"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method, route template and status class"
    );
    describe_gauge!(
        "mongodb_client_state",
        "1 for the state a database client is in (labelled with the roles it serves), else 0"
    );
    describe_gauge!(
        "mongodb_pool_open_connections",
        "Connections a client's pool holds: being opened, idle or in use"
    );
    describe_gauge!(
        "mongodb_pool_checked_out_connections",
        "Connections of a client's pool checked out by an operation"
    );
    describe_gauge!(
        "mongodb_pool_waiting_checkouts",
        "Operations waiting for a connection of a client's pool"
    );
    describe_gauge!(
        "mongodb_pool_max_size",
        "The most connections a client's pool opens per server"
    );
    describe_counter!(
        "mongodb_commands_total",
        "Commands a client sent, by name and outcome"
    );
    describe_histogram!(
        "mongodb_command_duration_seconds",
        Unit::Seconds,
        "Time from sending a command to its reply or failure"
    );
    describe_counter!(
        "mongodb_command_errors_total",
        "Failed commands, by the server's code name or the driver's kind of error"
    );
    describe_histogram!(
        "mongodb_ping_duration_seconds",
        Unit::Seconds,
        "Round trip of the health check's ping of a client"
    );
    describe_counter!(
        "mongodb_ping_failures_total",
        "Health check pings that failed or got no answer in time"
    );
    metrics_process::Collector::default().describe();
}

/// The metrics listener's routes: `GET /metrics` in the Prometheus text format, with the
/// process's figures (CPU, memory, open files, threads) read at each scrape.
pub fn router(handle: PrometheusHandle) -> Router {
    let process = metrics_process::Collector::default();
    Router::new()
        .route("/metrics", get(render))
        .with_state((handle, process))
}

async fn render(
    State((handle, process)): State<(PrometheusHandle, metrics_process::Collector)>,
) -> Response {
    process.collect();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// The method labels: the standard methods by name, any other as `other`, since a client may
/// send any token as a method.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

/// The status labels: the class of a status.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The handles of one route's requests, by method and status class, each resolved on its
/// first request.
type RouteHandles = [[OnceLock<RequestHandles>; STATUS_CLASSES.len()]; METHODS.len()];

/// `http_requests_total` and `http_request_duration_seconds` of one route, method and status
/// class.
struct RequestHandles {
    answered: Counter,
    duration: Histogram,
}

impl RequestHandles {
    fn new(method: &'static str, route: &str, status: &'static str) -> Self {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_owned()),
        ];
        Self {
            answered: metrics::counter!("http_requests_total", &labels),
            duration: metrics::histogram!("http_request_duration_seconds", &labels),
        }
    }
}

/// Every request counted and timed as `http_requests_total` and
/// `http_request_duration_seconds`, labelled by method, route template (`unmatched` when no
/// route matched) and status class. Recorded by the request log's middleware, after routing
/// (where the template is known) and outside the deadline, so a request answered `503` for
/// taking too long is counted too.
///
/// The handles are resolved from the installed recorder on the first request of each route,
/// method and status class, and kept: a request then costs two atomic updates, not a lookup
/// with freshly allocated labels. Routes are the router's templates, so what is kept is
/// bounded whatever the traffic. A router built before the recorder is installed keeps
/// whatever handles its first requests got.
#[derive(Clone, Default)]
pub struct RouteMetrics(Arc<RwLock<HashMap<Box<str>, Box<RouteHandles>>>>);

impl RouteMetrics {
    /// Counts and times one request to `route` (its template).
    pub fn record(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let (method, status) = (method_index(method), status_index(status));
        let record = |handles: &RouteHandles| {
            let handles = handles[method][status].get_or_init(|| {
                RequestHandles::new(METHODS[method], route, STATUS_CLASSES[status])
            });
            handles.answered.increment(1);
            handles.duration.record(took.as_secs_f64());
        };
        let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(handles) = known.get(route) {
            return record(handles);
        }
        drop(known);
        let mut routes = self.0.write().unwrap_or_else(PoisonError::into_inner);
        record(routes.entry(route.into()).or_default());
    }
}

impl fmt::Debug for RouteMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes = self.0.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("RouteMetrics")
            .field("routes", &routes.len())
            .finish()
    }
}

/// The index of `method`'s label in [`METHODS`].
fn method_index(method: &Method) -> usize {
    METHODS
        .iter()
        .position(|label| *label == method.as_str())
        .unwrap_or(METHODS.len() - 1)
}

/// The index of `status`'s class in [`STATUS_CLASSES`]; anything above `4xx` counts as `5xx`.
fn status_index(status: StatusCode) -> usize {
    usize::from(status.as_u16() / 100).clamp(1, STATUS_CLASSES.len()) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded_whatever_the_request() {
        let method = |m: &Method| METHODS[method_index(m)];
        assert_eq!(method(&Method::GET), "GET");
        assert_eq!(method(&Method::DELETE), "DELETE");
        let odd = Method::from_bytes(b"BREW").unwrap_or(Method::GET);
        assert_eq!(method(&odd), "other");
        let status = |code: u16| {
            StatusCode::from_u16(code).map_or("invalid", |code| STATUS_CLASSES[status_index(code)])
        };
        assert_eq!(status(101), "1xx");
        assert_eq!(status(204), "2xx");
        assert_eq!(status(304), "3xx");
        assert_eq!(status(412), "4xx");
        assert_eq!(status(503), "5xx");
        assert_eq!(status(999), "5xx");
    }
}
