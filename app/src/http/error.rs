//! The one error type of the HTTP layer: where domain, repository and registry errors meet
//! status codes. Bodies are `{"error": {"code", "message"}}` and never carry a query, a
//! connection string or a stack trace; causes of 500s are logged, not sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{IdError, Invalid, ValidationError};
use ports::{Conflict, RepositoryError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use registry::RegistryError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `400 Bad Request`: malformed JSON, a bad id, a query parameter out of bounds.
    #[error("{0}")]
    BadRequest(String),
    /// `400 Bad Request`: a body whose fields break the model's declared rules; every field
    /// error is listed, each naming its field.
    #[error(transparent)]
    Invalid(Invalid),
    /// `409 Conflict`: the change is well formed, and the record's current state refuses it
    /// (a completed order reopened).
    #[error(transparent)]
    StateConflict(ValidationError),
    /// `401 Unauthorized`: no credentials, or credentials that do not verify.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// `403 Forbidden`: the caller's role does not reach this route.
    #[error("{0}")]
    Forbidden(String),
    /// `403 Forbidden`: the route's database role is read-only in this service
    /// (`MONGO_READ_ONLY_<ROLE>`); nothing was written.
    #[error("{0}")]
    ReadOnly(String),
    /// `404 Not Found`: unknown id or route.
    #[error("{0}")]
    NotFound(String),
    /// `405 Method Not Allowed`: the route exists, not with this method.
    #[error("this route does not accept this method")]
    MethodNotAllowed,
    /// `409 Conflict`: a unique key is taken, or the entity changed since it was read.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// `422 Unprocessable Content`: a `checked` reference names a record that does not exist.
    #[error("{message}")]
    MissingReference {
        /// The referencing field.
        field: &'static str,
        /// Which record is missing.
        message: String,
    },
    /// `412 Precondition Failed`: an `If-Match` names a state of the record other than the
    /// stored one; nothing was changed, and the client should read it again.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `413 Payload Too Large`: a body over the limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// `408 Request Timeout`: the request's body was still arriving when the request's time
    /// was up. The client's network (or the client) is slow, not the service.
    #[error("the request body took too long to arrive")]
    RequestTimeout,
    /// `503 Service Unavailable`: a database is down or too slow; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// `500 Internal Server Error`: a bug. The cause is logged; the client sees a generic text.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::StateConflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::ReadOnly(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::MissingReference { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) | ApiError::Invalid(_) => "bad_request",
            ApiError::StateConflict(_) => "state_conflict",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::ReadOnly(_) => "read_only",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(Conflict::Duplicate { .. }) => "duplicate",
            ApiError::Conflict(Conflict::StaleVersion { .. }) => "stale_version",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::MissingReference { .. } => "reference_not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// The body of every error answer, `{"error": {"code", "message", "fields"}}`: clients branch
/// on the stable `code`; the `message` is for people; `fields` places each error on its field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong, in [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `bad_request`, `not_found`, `duplicate`, `state_conflict`, …
    code: &'static str,
    /// For people; never a query, a connection string or a stack trace.
    message: String,
    /// Each field a request's body got wrong, all at once: what a form shows beside its inputs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
}

/// One field's error, in [`ErrorDetail::fields`].
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the body: `name`, `items[2].quantity`; empty for the body itself.
    field: String,
    /// What is wrong, and what would be accepted.
    message: String,
}

impl ErrorBody {
    /// The body of an error with `code` and `message`.
    pub fn new(code: &'static str, message: String) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message,
                fields: Vec::new(),
            },
        }
    }

    fn with_field(mut self, field: &str, message: String) -> Self {
        self.error.fields.push(FieldError {
            field: field.to_owned(),
            message,
        });
        self
    }

    fn with_fields(self, errors: &[ValidationError]) -> Self {
        errors.iter().fold(self, |body, error| {
            body.with_field(error.field(), error.problem().to_string())
        })
    }
}

/// The cause of a `500`, attached to the response for the request log (which logs it) and
/// never serialised into the body.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (message, cause) = match self {
            ApiError::Internal(ref cause) => ("internal error".to_owned(), Some(cause.clone())),
            ref other => (other.to_string(), None),
        };
        let body = match &self {
            ApiError::Invalid(invalid) => {
                ErrorBody::new(self.code(), message).with_fields(invalid.errors())
            }
            ApiError::StateConflict(error) => {
                ErrorBody::new(self.code(), message).with_fields(std::slice::from_ref(error))
            }
            ApiError::MissingReference { field, .. } => {
                ErrorBody::new(self.code(), message).with_field(field, "names no record".to_owned())
            }
            _ => ErrorBody::new(self.code(), message),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(cause) = cause {
            response.extensions_mut().insert(InternalCause(cause));
        }
        response
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            RepositoryError::Conflict(conflict) => ApiError::Conflict(conflict),
            // The reason names servers and topology: for the log, not for the client.
            // The reason names servers and topology: the adapter logged it; the client gets
            // the role.
            RepositoryError::Unavailable { role, .. } => {
                ApiError::Unavailable(format!("the {role} database is unavailable; retry later"))
            }
            RepositoryError::ReadOnly { .. } => ApiError::ReadOnly(error.to_string()),
            RepositoryError::MissingReference { field, .. } => ApiError::MissingReference {
                field,
                message: error.to_string(),
            },
            RepositoryError::Invalid(_) => ApiError::BadRequest(error.to_string()),
            RepositoryError::Internal(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        if error.problem().is_state_conflict() {
            ApiError::StateConflict(error)
        } else {
            ApiError::Invalid(error.into())
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        match invalid.errors() {
            [one] if one.problem().is_state_conflict() => ApiError::StateConflict(one.clone()),
            _ => ApiError::Invalid(invalid),
        }
    }
}

impl From<IdError> for ApiError {
    fn from(error: IdError) -> Self {
        ApiError::BadRequest(error.to_string())
    }
}

impl From<RegistryError> for ApiError {
    // A route reaching an unbound kind is a wiring bug, not the caller's fault.
    fn from(error: RegistryError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: super::BODY_LIMIT_BYTES,
            }
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
