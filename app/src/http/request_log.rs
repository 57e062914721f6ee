//! What is kept of each request: one structured log line (method, route, status, latency,
//! and the database roles the route touches), for a `500` also the cause its response
//! carries, and the request's metrics ([`RouteMetrics`]). `LOG_FORMAT=json` turns the line
//! into one JSON object for CloudWatch.
//!
//! Every request has a request id ([`RequestId`]): the trace id of a W3C `traceparent`
//! header, else a well-formed `x-request-id`, else a generated one. It is a field of the
//! request's span, so every line written while the request is handled carries it (the
//! handler's, and the database driver's `debug` lines), and it is sent back in the response's
//! `x-request-id`.
//!
//! One middleware ([`observe`]) does all of it: a request pays for one span, one line and two
//! metric updates, and for no span or line at all when its level is filtered out.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use tracing::Instrument;

use super::error::InternalCause;
use super::metrics::RouteMetrics;

/// The database roles a group of routes touches, attached to its responses for the log.
#[derive(Debug, Clone)]
pub struct RouteRoles(std::sync::Arc<str>);

impl RouteRoles {
    /// The roles `roles`, shown joined by commas (`main,masteradmin`).
    pub fn new(roles: &[&str]) -> Self {
        Self(roles.join(",").into())
    }

    /// A response mapper that attaches these roles.
    pub fn tag(
        self,
    ) -> impl Fn(axum::response::Response) -> std::future::Ready<axum::response::Response> + Clone
    {
        move |mut response| {
            response.extensions_mut().insert(self.clone());
            std::future::ready(response)
        }
    }
}

/// The route template a request matched, `unmatched` when none did: what the span, the line
/// and the metrics name a route by, never the path asked for.
const UNMATCHED: &str = "unmatched";

/// The middleware that observes every request, outermost after routing: decides its id
/// ([`RequestId::for_headers`]), handles it inside a `request` span carrying the id, method
/// and route, then counts and times it ([`RouteMetrics`]), writes its line and sends the id
/// back in `x-request-id`.
pub async fn observe(
    State(metrics): State<RouteMetrics>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let started = Instant::now();
    let id = RequestId::for_headers(request.headers());
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let span = tracing::info_span!("request", %method, route, request_id = id.as_str());
    let mut response = next.run(request).instrument(span.clone()).await;
    let latency = started.elapsed();
    metrics.record(&method, route, response.status(), latency);
    span.in_scope(|| answered(&response, latency));
    response.headers_mut().insert(X_REQUEST_ID, id.0);
    response
}

/// The request's line: `info`, or `error` for a server error, with the cause of a `500`
/// written just before it.
fn answered<B>(response: &Response<B>, latency: Duration) {
    let status = response.status();
    let roles = response
        .extensions()
        .get::<RouteRoles>()
        .map_or("-", |roles| &*roles.0);
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if !status.is_server_error() {
        tracing::info!(
            status = status.as_u16(),
            latency_ms,
            role = roles,
            "answered"
        );
        return;
    }
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        tracing::error!(%cause, "request failed on a bug");
    }
    tracing::error!(
        status = status.as_u16(),
        latency_ms,
        role = roles,
        "answered"
    );
}

/// The header a request id is read from and sent back in.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The W3C Trace Context header whose trace id becomes the request id.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The longest `x-request-id` taken from a caller: longer ones are replaced, so a caller
/// cannot make every log line of its request arbitrarily long.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of one request: what its span, and so its log lines, and its response's
/// `x-request-id` show. Visible ASCII, at most [`MAX_REQUEST_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Built only from visible ASCII (checked or generated), so always text.
        self.0.to_str().unwrap_or("-")
    }

    /// The id for a request with `headers`: the trace id of a well-formed `traceparent`, else
    /// a well-formed `x-request-id`, else 32 random hex digits (the shape of a trace id). A
    /// malformed or oversized value is replaced, not trimmed: a log search for it would not
    /// find the request anyway.
    pub fn for_headers(headers: &HeaderMap) -> Self {
        let from_trace = headers
            .get(TRACEPARENT)
            .and_then(|value| value.to_str().ok())
            .and_then(trace_id);
        let given = || {
            headers
                .get(X_REQUEST_ID)
                .filter(|value| well_formed(value.as_bytes()))
                .cloned()
        };
        from_trace
            .and_then(|id| HeaderValue::from_str(id).ok())
            .or_else(given)
            .map_or_else(Self::generate, Self)
    }

    /// A new random id: 128 bits as 32 lowercase hex digits.
    fn generate() -> Self {
        let bits: u128 = rand::random();
        let text = format!("{bits:032x}");
        Self(HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("-")))
    }
}

/// A caller's `x-request-id` is kept when it is 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII
/// characters (no spaces or control characters, which could forge or break log lines).
fn well_formed(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The trace id of a W3C `traceparent` (`00-<32 hex trace id>-<16 hex parent id>-<2 hex
/// flags>`), if it is well-formed: lowercase hex, neither id all zeros, version `ff` refused,
/// and exactly four parts for version `00` (later versions may append parts).
fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let version = parts.next()?;
    let trace = parts.next()?;
    let parent = parts.next()?;
    let flags = parts.next()?;
    let hex = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zero = |part: &str| part.bytes().all(|b| b == b'0');
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && !zero(trace)
        && hex(parent, 16)
        && !zero(parent)
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    valid.then_some(trace)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::middleware::{from_fn_with_state, map_response};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    /// The lines written by a subscriber of the test's own.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// `GET path` through `router`, with `x-request-id: given` if any; the status and the
    /// `x-request-id` answered.
    async fn get_through(router: &Router, path: &str, given: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::get(path);
        if let Some(given) = given {
            request = request.header(X_REQUEST_ID, given);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let id = response.headers()[X_REQUEST_ID]
            .to_str()
            .unwrap()
            .to_owned();
        (response.status(), id)
    }

    #[tokio::test]
    async fn each_request_is_one_line_in_a_span_naming_its_id_method_route_status_and_roles() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _installed = tracing::subscriber::set_default(subscriber);
        let router = Router::new()
            .route("/things/{id}", get(|| async { "a thing" }))
            .route_layer(map_response(
                RouteRoles::new(&["main", "masteradmin"]).tag(),
            ))
            .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
            .layer(from_fn_with_state(RouteMetrics::default(), observe));

        let (status, id) = get_through(&router, "/things/42", Some("req-7")).await;
        assert_eq!((status, id.as_str()), (StatusCode::OK, "req-7"));
        let (status, down_id) = get_through(&router, "/down", None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down_id.len(), 32, "a generated id: {down_id}");
        let (status, _) = get_through(&router, "/things", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "one line per request:\n{text}");
        let expected = [
            (
                " INFO ",
                "route=\"/things/{id}\" request_id=\"req-7\"}",
                "status=200",
                "role=\"main,masteradmin\"",
            ),
            (
                " ERROR ",
                &*format!("route=\"/down\" request_id=\"{down_id}\"}}"),
                "status=503",
                "role=\"-\"",
            ),
            (
                " INFO ",
                "route=\"unmatched\" request_id=\"",
                "status=404",
                "role=\"-\"",
            ),
        ];
        for (line, (level, span, status, roles)) in lines.iter().zip(expected) {
            assert!(line.contains(level), "{line}");
            assert!(line.contains("request{method=GET "), "{line}");
            assert!(line.contains(span), "{line}");
            assert!(line.contains(" answered "), "{line}");
            assert!(line.contains(status), "{line}");
            assert!(line.contains(roles), "{line}");
            assert!(line.contains("latency_ms="), "{line}");
        }
    }

    #[test]
    fn only_well_formed_traceparents_give_their_trace_id() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            trace_id(&format!("00-{trace}-00f067aa0ba902b7-01")),
            Some(trace)
        );
        assert_eq!(
            trace_id(&format!("01-{trace}-00f067aa0ba902b7-01-later")),
            Some(trace)
        );
        for bad in [
            format!("00-{trace}-00f067aa0ba902b7-01-extra"),
            format!("ff-{trace}-00f067aa0ba902b7-01"),
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
            format!("00-{trace}-0000000000000000-01"),
            format!("00-{}-00f067aa0ba902b7-01", trace.to_uppercase()),
            format!("00-{trace}-00f067aa0ba902b7"),
            "00-abc-00f067aa0ba902b7-01".to_owned(),
            String::new(),
        ] {
            assert_eq!(trace_id(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_request_id_is_visible_ascii_of_bounded_length() {
        assert!(well_formed(b"req-123_abc:/=+"));
        assert!(well_formed(&[b'a'; MAX_REQUEST_ID_LEN]));
        assert!(!well_formed(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
        assert!(!well_formed(b""));
        assert!(!well_formed(b"two words"));
        assert!(!well_formed(b"line\nbreak"));
        assert!(!well_formed("caf\u{e9}".as_bytes()));
        let generated = RequestId::generate();
        assert_eq!(generated.as_str().len(), 32);
        assert!(well_formed(generated.as_str().as_bytes()));
        assert_ne!(generated, RequestId::generate());
    }
}
