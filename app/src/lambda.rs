//! The AWS Lambda front door: the same router, fed by API Gateway events.
//!
//! The [`Application`] is built once per execution environment, before the first event, so
//! its database clients are created once and reused by every invocation that environment
//! serves. Behind API Gateway the caller's identity is the one its authorizer verified,
//! read from the event's request context rather than from a header.

use axum::extract::Request;
use axum::http::uri::PathAndQuery;
use axum::http::Uri;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde_json::Value;
use tower::ServiceBuilder;

use crate::auth::{CallerRole, Identity};
use crate::backend::Application;
use crate::http::router;

/// The router as Lambda serves it: the event's own path, authorizer identities, then the
/// usual routes.
pub fn lambda_router(application: &Application) -> Router {
    let routes = router(application.state.clone()).layer(from_fn(authorizer_identity));
    Router::new().fallback_service(
        ServiceBuilder::new()
            .map_request(event_path)
            .service(routes),
    )
}

/// Routes on the path the client asked for. `lambda_http` prefixes a REST API's stage
/// (`/Prod/dashboard`), which no route of ours carries; the event's raw path does not.
fn event_path(mut request: Request) -> Request {
    let raw = request.raw_http_path();
    if raw.is_empty() || raw == request.uri().path() {
        return request;
    }
    let rewritten = match request.uri().query() {
        Some(query) => format!("{raw}?{query}"),
        None => raw.to_owned(),
    };
    if let Ok(path) = PathAndQuery::try_from(rewritten) {
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = Some(path);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// Serves Lambda events until the runtime stops the environment. The `app` binary gets here
/// on MongoDB, or in memory only when asked for explicitly
/// ([`crate::config::Settings::backend_kind`]).
///
/// # Errors
/// The runtime's error if it cannot reach the Lambda API.
pub async fn run(application: &Application) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_router(application)).await
}

/// Puts the authorizer's verified identity on the request, where the identity extractor
/// looks first. Without an authorizer identity, the bearer token is checked as usual.
async fn authorizer_identity(mut request: Request, next: Next) -> Response {
    let identity = request.request_context_ref().and_then(identity_of);
    if let Some(identity) = identity {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

/// `sub` and `role` from a Lambda authorizer's context or a JWT authorizer's claims.
fn identity_of(context: &RequestContext) -> Option<Identity> {
    let (sub, role) = match context {
        RequestContext::ApiGatewayV1(context) => {
            let authorizer = &context.authorizer;
            let claims = authorizer.jwt.as_ref().map(|jwt| &jwt.claims);
            claim_pair(&authorizer.fields, claims)?
        }
        RequestContext::ApiGatewayV2(context) => {
            let authorizer = context.authorizer.as_ref()?;
            let claims = authorizer.jwt.as_ref().map(|jwt| &jwt.claims);
            claim_pair(&authorizer.fields, claims)?
        }
        _ => return None,
    };
    let role: CallerRole = serde_json::from_value(Value::String(role)).ok()?;
    Some(Identity::verified(sub, role))
}

fn claim_pair(
    fields: &std::collections::HashMap<String, Value>,
    claims: Option<&std::collections::HashMap<String, String>>,
) -> Option<(String, String)> {
    let field = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
    let claim = |name: &str| claims.and_then(|c| c.get(name)).cloned();
    let sub = field("sub")
        .or_else(|| field("principalId"))
        .or_else(|| claim("sub"))?;
    let role = field("role").or_else(|| claim("role"))?;
    Some((sub, role))
}
