//! The HTTP API: one [`axum::Router`], served by `app serve` and by the Lambda front door,
//! and called directly by tests with `oneshot`.
//!
//! Success bodies are `{"data": …}`; errors are `{"error": {"code", "message"}}` (see
//! [`error::ApiError`] for the statuses).

pub mod error;
pub mod extract;
mod guard;
mod overview;
mod request_log;
pub mod resources;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{from_fn_with_state, map_response, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::{Admin, Branch, Customer, Machine, MasterAdmin, Order};
use serde::Serialize;

use crate::auth::JwtKeys;
use crate::registry::Registry;
use error::ApiError;
use request_log::RouteRoles;
use resources::routes;

/// The largest accepted request body: 1 MiB.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The repositories of both roles.
    pub registry: Registry,
    /// The keys that verify callers' tokens.
    pub keys: JwtKeys,
    /// How long a health check waits for each database's ping.
    pub ping_timeout: Duration,
    /// The longest a request may take before it is answered `503`.
    pub request_timeout: Duration,
}

/// A success body: `{"data": …}`.
#[derive(Debug, Serialize)]
pub struct Data<T> {
    /// The payload.
    pub data: T,
}

impl<T> Data<T> {
    /// `Json({"data": value})`.
    pub fn json(data: T) -> Json<Self> {
        Json(Self { data })
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let business = Router::new()
        .merge(routes::<Branch>())
        .merge(routes::<Customer>())
        .merge(routes::<Order>())
        .merge(routes::<Machine>())
        .route_layer(from_fn_with_state(state.clone(), guard::any_caller))
        .route_layer(map_response(RouteRoles::MAIN.tag()));
    let privileged = Router::new()
        .merge(routes::<MasterAdmin>())
        .merge(routes::<Admin>())
        .route_layer(from_fn_with_state(state.clone(), guard::master_admin))
        .route_layer(map_response(RouteRoles::MASTERADMIN.tag()));
    let cross_database = Router::new()
        .route("/dashboard", get(overview::dashboard))
        .route("/me", get(overview::me))
        .route("/counts", get(overview::counts))
        .route_layer(from_fn_with_state(state.clone(), guard::master_admin))
        .route_layer(map_response(RouteRoles::BOTH.tag()));

    Router::new()
        .route("/health", get(overview::health))
        .merge(business)
        .merge(privileged)
        .merge(cross_database)
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(from_fn_with_state(state.clone(), deadline))
        .layer(request_log::layer())
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such route".to_owned())
}

async fn unknown_method() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Answers `503` in the API's error format when a request outlives `request_timeout`; the
/// database timeouts normally answer first, this bounds everything else.
async fn deadline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable("the request took too long; retry later".to_owned())
            .into_response(),
    }
}
