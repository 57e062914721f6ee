//! The API's contract, `GET /openapi.json` (OpenAPI 3.1), for client generators and for the
//! end-to-end tests, which validate every answer they receive against it.
//!
//! Every route is registered through [`OpenApiRouter`](utoipa_axum::router::OpenApiRouter)
//! together with its documentation, so a route cannot be served undocumented: the reports and
//! health handlers carry `#[utoipa::path]`, and a model's CRUD routes are documented from its
//! declaration (`resources/documented.rs`, in the words of [`operations`] and [`schemas`]),
//! which is how a model mounted by another team appears here with no line of its own.

pub(crate) mod operations;
pub(crate) mod schemas;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::path::{HttpMethod, PathItemBuilder, PathsBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi};
use utoipa::{PartialSchema, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::AppState;
use operations::{operation, success, BEARER, ERROR_BODY};

/// Where the document is served.
pub const PATH: &str = "/openapi.json";

/// The route serving `document`, completed with what no single route says (the API's name,
/// the bearer scheme, the error body) and with this route itself.
pub(crate) fn route(mut document: OpenApi) -> Router<AppState> {
    document.info = InfoBuilder::new()
        .title("Back office API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Branches, customers, orders and machines on the main database; master admins \
             and admins on the masteradmin database. Success bodies are `{\"data\": …}`, \
             errors `{\"error\": {\"code\", \"message\"}}`.",
        ))
        .build();
    document.merge(shared_parts());
    // Written once; a document that cannot be written is a bug, answered as one.
    let written: Result<Bytes, String> = document
        .to_json()
        .map(Bytes::from)
        .map_err(|error| format!("the OpenAPI document cannot be written: {error}"));
    Router::new().route(
        PATH,
        get(move || {
            let written = written.clone();
            async move {
                match written {
                    Ok(text) => ([(CONTENT_TYPE, "application/json")], text).into_response(),
                    Err(cause) => ApiError::Internal(cause).into_response(),
                }
            }
        }),
    )
}

/// The bearer scheme, the error body and `GET /openapi.json`.
fn shared_parts() -> OpenApi {
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .build();
    let components = ComponentsBuilder::new()
        .security_scheme(BEARER, SecurityScheme::Http(bearer))
        .schema(ERROR_BODY, ErrorBody::schema())
        .schemas_from_iter(error_parts())
        .build();
    let itself = success(
        operation("meta", "openapi".to_owned(), "This document"),
        axum::http::StatusCode::OK,
        "The OpenAPI 3.1 document of every route",
        utoipa::openapi::schema::ObjectBuilder::new(),
        &[],
    );
    let paths = PathsBuilder::new()
        .path(
            PATH,
            PathItemBuilder::new()
                .operation(HttpMethod::Get, itself.build())
                .build(),
        )
        .build();
    let mut parts = OpenApi::new(InfoBuilder::new().build(), paths);
    parts.components = Some(components);
    parts
}

/// The components [`ErrorBody`] refers to.
fn error_parts() -> Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)> {
    let mut parts = Vec::new();
    ErrorBody::schemas(&mut parts);
    parts
}
