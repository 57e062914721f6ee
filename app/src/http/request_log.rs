//! One structured log line per request (method, route, status, latency, and the database
//! roles the route touches), written by `tower_http`'s trace layer, and for a `500` the cause
//! its response carries. `LOG_FORMAT=json` turns it into one JSON object per line for
//! CloudWatch.
//!
//! Every request has a request id ([`request_id`]): the trace id of a W3C `traceparent`
//! header, else a well-formed `x-request-id`, else a generated one. It is a field of the
//! request's span, so every line written while the request is handled carries it (the
//! handler's, and the database driver's `debug` lines), and it is sent back in the response's
//! `x-request-id`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use axum::middleware::Next;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::Span;

use super::error::InternalCause;

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

type RequestSpan = fn(&Request<Body>) -> Span;
type ResponseLine = fn(&Response<Body>, Duration, &Span);

/// The trace layer: a span per request, one `info` line when it is answered.
pub fn layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), ResponseLine>
{
    TraceLayer::new_for_http()
        .make_span_with(request_span as RequestSpan)
        .on_request(())
        .on_response(response_line as ResponseLine)
}

fn request_span(request: &Request<Body>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let id = request
        .extensions()
        .get::<RequestId>()
        .map_or("-", RequestId::as_str);
    tracing::info_span!("request", method = %request.method(), route, request_id = id)
}

fn response_line(response: &Response<Body>, latency: Duration, _span: &Span) {
    let roles = response
        .extensions()
        .get::<RouteRoles>()
        .map_or("-", |roles| &*roles.0);
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        tracing::error!(%cause, "request failed on a bug");
    }
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
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

/// The id of one request, in its extensions: what its log lines and its response's
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

/// The request-id middleware, outside the trace layer so that the request's span has the id:
/// decides the id ([`RequestId::for_headers`]), puts it in the request's extensions and its
/// `x-request-id` header (for handlers and anything downstream), and in the response's.
pub async fn request_id(mut request: Request<Body>, next: Next) -> axum::response::Response {
    let id = RequestId::for_headers(request.headers());
    request.headers_mut().insert(X_REQUEST_ID, id.0.clone());
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(X_REQUEST_ID, id.0);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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
