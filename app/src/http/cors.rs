//! CORS for browser clients: off unless `CORS_ALLOWED_ORIGINS` names the origins allowed.
//!
//! When on, `tower_http`'s [`CorsLayer`] answers preflights from those origins and adds the
//! CORS headers to their requests' answers: the methods and request headers the API uses, and
//! the response headers a script needs to read (`ETag`, `Location`, `Link`). A request from
//! any other origin gets no CORS header at all (tower-http would still send the exposed and
//! allowed lists; [`OriginGate`] removes them), so the browser keeps its answer from the page.
//! Credentials are not allowed: callers send a bearer token, not a cookie.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::header::{
    AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, LINK, LOCATION,
};
use axum::http::{HeaderValue, Method, Request, Response};
use futures::future::BoxFuture;
use tower::layer::util::{Identity, Stack};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

use super::idempotency::IDEMPOTENCY_KEY;
use super::request_log::X_REQUEST_ID;

/// How long a browser may cache a preflight's answer.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The origins allowed to call the API from a browser; none (CORS off) by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsConfig {
    allowed_origins: Vec<HeaderValue>,
}

/// An origin in `CORS_ALLOWED_ORIGINS` that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "CORS_ALLOWED_ORIGINS: {0:?} is not an origin; give scheme and host (and port), \
     like https://app.example.com, separated by commas"
)]
pub struct InvalidOrigin(pub String);

impl CorsConfig {
    /// The origins of `list`, separated by commas (`https://a.example,https://b.example`);
    /// blank entries are skipped, so an empty list turns CORS off.
    ///
    /// # Errors
    /// [`InvalidOrigin`] for an entry that is not `http(s)://host[:port]` (no path, no `*`):
    /// browsers send exactly that in `Origin`, so anything else would never match.
    pub fn parse(list: &str) -> Result<Self, InvalidOrigin> {
        let allowed_origins = list
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let host = origin
                    .strip_prefix("https://")
                    .or_else(|| origin.strip_prefix("http://"));
                let valid = host.is_some_and(|host| {
                    !host.is_empty()
                        && host.bytes().all(|byte| {
                            byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':')
                        })
                });
                valid
                    .then(|| HeaderValue::from_str(origin).ok())
                    .flatten()
                    .ok_or_else(|| InvalidOrigin(origin.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed_origins })
    }

    /// Whether any origin is allowed.
    pub fn is_enabled(&self) -> bool {
        !self.allowed_origins.is_empty()
    }

    /// The allowed origins.
    pub fn allowed_origins(&self) -> &[HeaderValue] {
        &self.allowed_origins
    }

    /// The layers to put on the router, `None` when CORS is off: [`CorsLayer`] inside an
    /// [`OriginGate`].
    pub fn layer(&self) -> Option<ServiceBuilder<Stack<CorsLayer, Stack<OriginGate, Identity>>>> {
        self.is_enabled().then(|| {
            let gate = OriginGate {
                allowed: self.allowed_origins.clone().into(),
            };
            let cors = CorsLayer::new()
                .allow_origin(AllowOrigin::list(self.allowed_origins.iter().cloned()))
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PATCH,
                    Method::DELETE,
                    Method::OPTIONS,
                ])
                .allow_headers([
                    AUTHORIZATION,
                    CONTENT_TYPE,
                    IF_MATCH,
                    IF_NONE_MATCH,
                    IDEMPOTENCY_KEY,
                ])
                .expose_headers([ETAG, LOCATION, LINK, X_REQUEST_ID])
                .max_age(PREFLIGHT_MAX_AGE);
            ServiceBuilder::new().layer(gate).layer(cors)
        })
    }
}

/// Removes every `Access-Control-*` header from the answer to a request whose `Origin` is
/// not allowed (or absent): tower-http's [`Cors`] leaves out only `Access-Control-Allow-Origin`
/// then, and a caller from elsewhere should learn nothing of the policy.
#[derive(Debug, Clone)]
pub struct OriginGate {
    allowed: Arc<[HeaderValue]>,
}

impl<S> Layer<S> for OriginGate {
    type Service = Gated<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Gated {
            allowed: self.allowed.clone(),
            inner,
        }
    }
}

/// The service of [`OriginGate`] around [`Cors`].
#[derive(Debug, Clone)]
pub struct Gated<S> {
    allowed: Arc<[HeaderValue]>,
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Gated<Cors<S>>
where
    Cors<S>: Service<Request<ReqBody>, Response = Response<ResBody>>,
    <Cors<S> as Service<Request<ReqBody>>>::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = <Cors<S> as Service<Request<ReqBody>>>::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let allowed = request
            .headers()
            .get(axum::http::header::ORIGIN)
            .is_some_and(|origin| self.allowed.contains(origin));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            if !allowed {
                let headers = response.headers_mut();
                let names: Vec<_> = headers
                    .keys()
                    .filter(|name| name.as_str().starts_with("access-control-"))
                    .cloned()
                    .collect();
                for name in names {
                    headers.remove(name);
                }
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_host_separated_by_commas() {
        let config = CorsConfig::parse(" https://a.example , http://localhost:5173,,").unwrap();
        assert_eq!(
            config.allowed_origins(),
            ["https://a.example", "http://localhost:5173"]
        );
        assert!(!CorsConfig::parse("").unwrap().is_enabled());
        assert!(CorsConfig::parse("").unwrap().layer().is_none());
        for bad in [
            "*",
            "a.example",
            "https://a.example/",
            "https://",
            "ftp://a.example",
        ] {
            assert_eq!(
                CorsConfig::parse(bad),
                Err(InvalidOrigin(bad.to_owned())),
                "{bad}"
            );
        }
    }
}
