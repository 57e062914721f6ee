//! What a request about one record carries besides its body: the record it addresses with
//! its preconditions, and a change body kept as bytes.

use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::Json;
use domain::{Entity, Id};
use serde::de::IgnoredAny;

use crate::http::conditional::Precondition;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::EntityId;

/// The record a request addresses (the `{id}` segment) and the preconditions it carries.
pub(super) struct Target<R> {
    pub(super) id: Id<R>,
    pub(super) if_match: Option<Precondition>,
    pub(super) if_none_match: Option<Precondition>,
}

impl<S: Send + Sync, R> FromRequestParts<S> for Target<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let EntityId(id) = EntityId::<R>::from_request_parts(parts, state).await?;
        Ok(Self {
            id,
            if_match: Precondition::if_match(&parts.headers),
            if_none_match: Precondition::if_none_match(&parts.headers),
        })
    }
}

/// A change request's JSON body, kept as bytes so that a retried save can parse the same
/// change again (a patch is consumed when applied). Refused exactly as [`AppJson`](crate::http::extract::AppJson) refuses
/// a body: the same content-type check, size limit and error texts.
pub(super) struct ChangeBody(Bytes);

impl ChangeBody {
    /// The patch the body holds.
    pub(super) fn patch<R: Entity>(&self) -> ApiResult<R::Patch> {
        let Json(change) = Json::<serde_json::Value>::from_bytes(&self.0)?;
        Ok(R::patch_from_request(change)?)
    }
}

impl<S: Send + Sync> FromRequest<S> for ChangeBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        // axum's own content-type check, on the head alone, before the body is read.
        let head = Request::from_parts(parts.clone(), Body::empty());
        if let Err(refused @ JsonRejection::MissingJsonContentType(_)) =
            Json::<IgnoredAny>::from_request(head, state).await
        {
            return Err(refused.into());
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(JsonRejection::from)?;
        Ok(Self(bytes))
    }
}
