//! The route guard: authentication, then the caller role the operation needs, checked before
//! any body is read.

use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::mount::Access;
use super::AppState;
use crate::auth::Identity;

/// What a mount's guard needs: the state (to verify tokens) and the mount's access.
#[derive(Clone)]
pub(crate) struct Guarded {
    pub(crate) state: AppState,
    pub(crate) access: Access,
}

/// Verifies the caller, keeps the identity on the request for the handler, and lets it
/// through when its role may make this kind of operation: `GET` and `HEAD` read, the rest
/// write.
pub(crate) async fn allow(
    State(guarded): State<Guarded>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let identity = Identity::from_request_parts(&mut parts, &guarded.state).await?;
    let writing = !matches!(parts.method, Method::GET | Method::HEAD);
    if !guarded.access.allows(identity.role(), writing) {
        let callers = guarded.access.callers(writing).names().unwrap_or_default();
        return Err(ApiError::Forbidden(format!(
            "this operation is for {callers} callers"
        )));
    }
    parts.extensions.insert(identity);
    Ok(next.run(Request::from_parts(parts, body)).await)
}
