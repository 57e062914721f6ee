//! The few words every documented operation is written in: a JSON body in the `{"data": …}`
//! envelope, the error answers, parameters and headers. The CRUD routes and the reports use
//! them, so every operation documents its answers the same way.

use axum::http::StatusCode;
use utoipa::openapi::path::{
    Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Header, Ref, RefOr, Required, ResponseBuilder};

/// The name of the bearer-token security scheme.
pub(crate) const BEARER: &str = "bearer";

/// The component every error answer's body is.
pub(crate) const ERROR_BODY: &str = "ErrorBody";

/// A reference to the component `name`.
pub(crate) fn component(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

/// `{"data": schema}`, the envelope of every success body.
pub(crate) fn data(schema: impl Into<RefOr<Schema>>) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("data", schema)
        .required("data")
        .into()
}

/// An operation with a summary, under the tag of the routes it belongs to.
pub(crate) fn operation(tag: &str, id: String, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(id))
        .summary(Some(summary))
}

/// What a success answers: `status` with a JSON `body` and the named `headers`.
pub(crate) fn success(
    builder: OperationBuilder,
    status: StatusCode,
    description: &str,
    body: impl Into<RefOr<Schema>>,
    headers: &[(&str, &str)],
) -> OperationBuilder {
    let response = headers.iter().fold(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", Content::new(Some(body))),
        |response, (name, description)| response.header(*name, text_header(description)),
    );
    builder.response(status.as_str(), response.build())
}

/// The error answers `statuses` may carry, each in the [`ERROR_BODY`] shape; `401` and `403`
/// come with every route that needs a token, `413` with every body.
pub(crate) fn errors(builder: OperationBuilder, statuses: &[StatusCode]) -> OperationBuilder {
    statuses.iter().fold(builder, |builder, status| {
        let response = ResponseBuilder::new()
            .description(status.canonical_reason().unwrap_or("an error"))
            .content(
                "application/json",
                Content::new(Some(component(ERROR_BODY))),
            );
        builder.response(status.as_str(), response.build())
    })
}

/// The statuses every route with a token may answer besides its own: no or a bad token, a
/// caller or a read-only role the route refuses, a database down, and a stored record that
/// cannot be read at all.
pub(crate) const WITH_TOKEN: [StatusCode; 4] = [
    StatusCode::UNAUTHORIZED,
    StatusCode::FORBIDDEN,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::INTERNAL_SERVER_ERROR,
];

/// The caller's bearer token, on an operation that needs one.
pub(crate) fn with_token(builder: OperationBuilder) -> Operation {
    errors(builder, &WITH_TOKEN)
        .security(SecurityRequirement::new(BEARER, Vec::<String>::new()))
        .build()
}

/// A JSON request body of the component `name`.
pub(crate) fn json_body(builder: OperationBuilder, name: &str) -> OperationBuilder {
    let body = RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", Content::new(Some(component(name))))
        .build();
    errors(
        builder.request_body(Some(body)),
        &[StatusCode::PAYLOAD_TOO_LARGE],
    )
}

/// A parameter `name` in `place`, of `schema`.
pub(crate) fn parameter(
    place: ParameterIn,
    name: &str,
    schema: impl Into<RefOr<Schema>>,
    description: &str,
) -> Parameter {
    let required = if place == ParameterIn::Path {
        Required::True
    } else {
        Required::False
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(required)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// A schema of `kind` with no further constraint.
pub(crate) fn scalar(kind: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(kind)
}

fn text_header(description: &str) -> Header {
    let mut header = Header::new(scalar(Type::String));
    header.description = Some(description.to_owned());
    header
}
