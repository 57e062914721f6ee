//! Extractors that turn every rejection into an [`ApiError`], so that clients see one error
//! format, and the caller's [`Identity`].

use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Json;
use domain::Id;

use super::error::ApiError;
use super::AppState;
use crate::auth::{AuthError, Identity};

/// A JSON body; rejections become `400` or `413` in the API's error format.
#[derive(FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

/// A query string; rejections become `400`.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// The `{id}` path segment, parsed as an id of `T`.
pub struct EntityId<T>(pub Id<T>);

impl<S: Send + Sync, T> FromRequestParts<S> for EntityId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state).await?;
        Ok(Self(Id::parse(&text)?))
    }
}

impl<S> FromRequestParts<S> for Identity
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Set only by the Lambda front door, from the API Gateway authorizer.
        if let Some(identity) = parts.extensions.get::<Identity>() {
            return Ok(identity.clone());
        }
        let mut headers = parts.headers.get_all(AUTHORIZATION).iter();
        let header = headers.next().ok_or(AuthError::MissingToken)?;
        if headers.next().is_some() {
            return Err(AuthError::SeveralTokens.into());
        }
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(AuthError::MissingToken)?;
        Ok(AppState::from_ref(state).keys.verify(token.trim())?)
    }
}
