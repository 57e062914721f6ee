//! One structured log line per request (method, route, status, latency, and the database
//! roles the route touches), written by `tower_http`'s trace layer, and for a `500` the cause
//! its response carries. `LOG_FORMAT=json` turns it into one JSON object per line for
//! CloudWatch.

use std::time::Duration;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
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
    tracing::info_span!("request", method = %request.method(), route)
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
