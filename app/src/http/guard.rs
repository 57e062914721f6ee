//! Route guards: authentication and the caller role each group of routes needs, checked
//! before any body is read.

use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::AppState;
use crate::auth::{CallerRole, Identity};

/// Any verified caller.
pub async fn any_caller(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (request, _) = identify(&state, request).await?;
    Ok(next.run(request).await)
}

/// Master admins only: the `masteradmin` database is theirs.
pub async fn master_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (request, identity) = identify(&state, request).await?;
    if identity.role() != CallerRole::MasterAdmin {
        return Err(ApiError::Forbidden(CallerRole::MasterAdmin.as_str()));
    }
    Ok(next.run(request).await)
}

/// Verifies the caller and keeps the identity on the request for the handler.
async fn identify(state: &AppState, request: Request) -> Result<(Request, Identity), ApiError> {
    let (mut parts, body) = request.into_parts();
    let identity = Identity::from_request_parts(&mut parts, state).await?;
    parts.extensions.insert(identity.clone());
    Ok((Request::from_parts(parts, body), identity))
}
