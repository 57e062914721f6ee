//! The HTTP API: one [`axum::Router`], served by `app serve` and by the Lambda front door,
//! and called directly by tests with `oneshot`.
//!
//! Success bodies are `{"data": …}`; errors are `{"error": {"code", "message"}}` (see
//! [`error::ApiError`] for the statuses).

mod arrival;
mod conditional;
pub mod cors;
pub mod error;
pub mod extract;
mod guard;
mod health;
pub mod idempotency;
pub mod metrics;
mod mount;
pub mod openapi;
mod overview;
mod request_log;
mod resources;
pub mod serve;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::{Admin, Branch, Customer, Machine, MasterAdmin, Order};
use ports::Role;
use registry::Registry;
use serde::Serialize;

use crate::auth::JwtKeys;
use error::ApiError;
pub use health::HEALTH_INTERVAL;
pub use mount::{crud, listing, reports, Access, Callers, Mount, MountError};
pub use resources::MAX_SKIP;
pub use serve::{serve, ServeLimits};

/// The largest accepted request body: 1 MiB.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// What every handler shares, behind one `Arc`: axum clones the state for each middleware
/// and extractor of every request, and a reference count is then all a clone costs (a clone
/// of every part took a few percent of the service's CPU under load).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state holding `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The repositories of every role.
    pub registry: Arc<Registry>,
    /// The routes served besides `/health`, checked against the registry at start-up.
    pub mounts: Arc<[Mount]>,
    /// The keys that verify callers' tokens.
    pub keys: JwtKeys,
    /// How long a health check waits for each database's ping.
    pub ping_timeout: Duration,
    /// The longest a request may take before it is answered `503`.
    pub request_timeout: Duration,
    /// Where answers to `POST`s with an `Idempotency-Key` are kept for their retries, by the
    /// route's role.
    pub idempotency: idempotency::IdempotencyStores,
    /// The origins browsers may call the API from; none by default.
    pub cors: cors::CorsConfig,
}

/// When the request arrived, as its deadline counts it: in the request's extensions, for a
/// wait inside it to end in time.
#[derive(Debug, Clone, Copy)]
pub struct Arrived(pub std::time::Instant);

/// A success body: `{"data": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// The back office's routes: one line per model, saying where it is served, from which role
/// and for whom; then the reports across databases.
pub fn back_office_routes() -> Vec<Mount> {
    vec![
        crud::<Branch>("/branches", Role::MAIN, Access::ANY_CALLER),
        crud::<Customer>("/customers", Role::MAIN, Access::ANY_CALLER),
        crud::<Order>("/orders", Role::MAIN, Access::ANY_CALLER),
        crud::<Machine>("/machines", Role::MAIN, Access::ANY_CALLER),
        crud::<MasterAdmin>("/master-admins", Role::MASTERADMIN, Access::MASTER_ADMIN),
        crud::<Admin>("/admins", Role::MASTERADMIN, Access::MASTER_ADMIN),
        reports(),
    ]
}

/// The whole API: `/health`, `/health/live` and `/health/ready` (sharing one cache of the
/// databases' health, made here), every mount of `state`, and `/openapi.json`, which
/// documents them all.
pub fn router(state: AppState) -> Router {
    let documented = state
        .mounts
        .iter()
        .fold(health::routes(&state), |routes, mount| {
            routes.merge(mount.router(&state))
        });
    let (routes, mut document) = documented.split_for_parts();
    let mut models: Vec<String> = state
        .registry
        .bindings()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    models.sort();
    models.dedup();
    overview::document_counts(&mut document, &state.registry.roles(), &models);
    routes
        .merge(openapi::route(document))
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(from_fn_with_state(state.clone(), deadline))
        .layer(tower::util::option_layer(state.cors.layer()))
        .layer(from_fn_with_state(
            metrics::RouteMetrics::default(),
            request_log::observe,
        ))
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such route".to_owned())
}

async fn unknown_method() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Answers in the API's error format when a request outlives `request_timeout`: `408` when
/// the handler was waiting for the rest of the client's body (the client is slow), `503`
/// otherwise (the database timeouts normally answer first; this bounds everything else).
async fn deadline(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    request
        .extensions_mut()
        .insert(Arrived(std::time::Instant::now()));
    let (request, body) = arrival::track(request);
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) if body.is_awaited() => ApiError::RequestTimeout.into_response(),
        Err(_) => ApiError::Unavailable("the request took too long; retry later".to_owned())
            .into_response(),
    }
}
