//! One structured log line per request: method, route, status, latency and the database
//! roles the route touches. Set `LOG_FORMAT=json` for CloudWatch-style lines.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The database roles a group of routes touches, attached to its responses for the log.
#[derive(Debug, Clone, Copy)]
pub struct RouteRoles(&'static str);

impl RouteRoles {
    /// Business routes.
    pub const MAIN: RouteRoles = RouteRoles("main");
    /// Administrator routes.
    pub const MASTERADMIN: RouteRoles = RouteRoles("masteradmin");
    /// Routes that read both databases.
    pub const BOTH: RouteRoles = RouteRoles("main,masteradmin");

    /// A response mapper that attaches these roles.
    pub fn tag(self) -> impl Fn(Response) -> std::future::Ready<Response> + Clone {
        move |mut response: Response| {
            response.extensions_mut().insert(self);
            std::future::ready(response)
        }
    }
}

/// Logs the request once it is answered.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let roles = response
        .extensions()
        .get::<RouteRoles>()
        .map_or("-", |r| r.0);
    tracing::info!(
        target: "request",
        %method,
        route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        role = roles,
        "request"
    );
    response
}
