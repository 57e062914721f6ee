//! The AWS Lambda front door: the same router, fed by API Gateway events.
//!
//! The [`Application`] is built once per execution environment, before the first event, so
//! its database clients are created once and reused by every invocation that environment
//! serves. Behind API Gateway the caller's identity is the one its authorizer verified,
//! read from the event's request context rather than from a header.
//!
//! Nothing scrapes a Lambda function, so the metrics `serve` shows to Prometheus go out here
//! as CloudWatch Embedded Metric Format documents ([`install_metrics`]): JSON lines on stdout,
//! written after each invocation, which CloudWatch Logs turns into metrics.

use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::Uri;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use metrics_cloudwatch_embedded::Collector;
use serde_json::Value;
use tower::ServiceBuilder;

use crate::auth::{CallerRole, Identity, JwtKeys};
use crate::http::router;
use crate::service::Application;

/// The router as Lambda serves it: the event's own path, authorizer identities, then the
/// usual routes.
pub fn lambda_router(application: &Application) -> Router {
    let keys = application.state.keys.clone();
    let routes =
        router(application.state.clone()).layer(from_fn_with_state(keys, authorizer_identity));
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

/// The CloudWatch namespace of the service's metrics.
pub const METRICS_NAMESPACE: &str = "BackOffice";

/// Why the CloudWatch metrics recorder could not be installed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot install the CloudWatch metrics recorder: {0}")]
pub struct MetricsInstallError(String);

/// Installs the process's `metrics` recorder for Lambda: the same metrics as `serve`'s
/// Prometheus listener (same names and labels), kept for one invocation at a time and written
/// as Embedded Metric Format documents by [`run`], with the invocation's `requestId` and, on
/// the first invocation of an environment, `cold_starts_total`. The function's name, when the
/// runtime gives one, is a dimension of every metric. Call it before the [`Application`] is
/// built: the database clients resolve their metric handles when created.
///
/// # Errors
/// When another recorder was installed first in this process.
pub fn install_metrics() -> Result<&'static Collector, MetricsInstallError> {
    let mut builder = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .lambda_cold_start_metric("cold_starts_total")
        .with_lambda_request_id("requestId");
    if let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        builder = builder.with_dimension("function", function);
    }
    let collector = builder
        .init()
        .map_err(|error| MetricsInstallError(error.to_string()))?;
    crate::http::metrics::describe();
    Ok(collector)
}

/// Serves Lambda events until the runtime stops the environment, writing the metrics of each
/// invocation after it when given a collector ([`install_metrics`]; `None` for a service
/// that records its own). The `app` binary gets here on MongoDB, or in memory only when asked
/// for explicitly ([`crate::config::Settings::storage_choice`]).
///
/// # Errors
/// The runtime's error if it cannot reach the Lambda API.
pub async fn run(
    application: &Application,
    metrics: Option<&'static Collector>,
) -> Result<(), lambda_http::Error> {
    let router = lambda_router(application);
    match metrics {
        Some(metrics) => {
            metrics_cloudwatch_embedded::lambda::service::run_http(metrics, router).await
        }
        None => lambda_http::run(router).await,
    }
}

/// Puts the authorizer's verified identity on the request, where the identity extractor
/// looks first. Without an authorizer identity, the bearer token is checked as usual.
/// The authorizer's role must be one the service declares, as a token's must.
async fn authorizer_identity(
    State(keys): State<JwtKeys>,
    mut request: Request,
    next: Next,
) -> Response {
    let identity = request
        .request_context_ref()
        .and_then(|context| identity_of(context, keys.caller_roles()));
    if let Some(identity) = identity {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

/// `sub` and `role` from a Lambda authorizer's context or a JWT authorizer's claims.
fn identity_of(context: &RequestContext, declared: &[CallerRole]) -> Option<Identity> {
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
    let role = CallerRole::find(&role, declared)?;
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
