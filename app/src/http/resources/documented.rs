//! The documentation of a model's CRUD routes, written from its declaration: the same five
//! operations for every model, with its schemas, its filters and the statuses each answers.

use axum::http::StatusCode;
use domain::{Entity, Field, Kind};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterIn, PathItemBuilder, Paths, PathsBuilder,
};
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use super::query::CURSOR_PATTERN;
use super::MAX_SKIP;
use crate::http::idempotency::{KEY_PATTERN, MAX_KEY_LEN};
use crate::http::openapi::operations::{
    component, data, errors, json_body, operation, parameter, scalar, success, with_token,
};
use crate::http::openapi::schemas::{
    self, change_name, model_components, new_name, record_name, requested_id,
};
use crate::http::Access;

/// The documentation of `M`'s routes at `path` (`/branches`): the model's components, and the
/// list and create operations (only list when `read_only`), each saying who may call it.
pub(crate) fn collection<M: Entity>(
    path: &str,
    access: Access,
    read_only: bool,
) -> (Vec<(String, RefOr<Schema>)>, Paths) {
    let tag = tag(path);
    let list = operation(&tag, format!("{tag}.list"), &format!("A page of {tag}"));
    let list = M::FIELDS
        .iter()
        .filter(|field| field.filter)
        .fold(paging(list), |list, field| list.parameter(filter(field)));
    let list = success(
        errors(list, &[StatusCode::BAD_REQUEST]),
        StatusCode::OK,
        "A page, and in `meta` the next page's cursor (also in `Link`), the total when asked \
         for, and how many stored records could not be read",
        listed(component(&record_name::<M>())),
        &[(
            "Link",
            "`<…?after=…>; rel=\"next\"` when there is a next page",
        )],
    );
    let create = operation(
        &tag,
        format!("{tag}.create"),
        &format!("Create one of {tag}"),
    )
    .parameter(parameter(
        ParameterIn::Header,
        "Idempotency-Key",
        scalar(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_KEY_LEN))
            .pattern(Some(KEY_PATTERN)),
        "Makes a retried create answer the first answer again instead of creating twice: 1 to \
         255 visible ASCII characters",
    ));
    let create = json_body(create, &new_name::<M>());
    let create = errors(
        create,
        &[
            StatusCode::BAD_REQUEST,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::CONFLICT,
            StatusCode::UNPROCESSABLE_ENTITY,
        ],
    );
    let create = success(
        create,
        StatusCode::CREATED,
        "The record as stored",
        data(component(&record_name::<M>())),
        &[("ETag", ETAG), ("Location", "The record's path")],
    );
    let item = PathItemBuilder::new().operation(HttpMethod::Get, guarded(list, access, false));
    let item = if read_only {
        item
    } else {
        item.operation(
            HttpMethod::Post,
            linked(guarded(create, access, true), &tag),
        )
    };
    (
        model_components::<M>(),
        PathsBuilder::new().path(path, item.build()).build(),
    )
}

/// A create's `201`, linked to the operations on the record it created (by the `id` it
/// answers): what client generators and API testers follow from a create to its record.
fn linked(mut create: Operation, tag: &str) -> Operation {
    if let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") {
        for verb in ["get", "update", "delete"] {
            let link = LinkBuilder::new()
                .operation_id(format!("{tag}.{verb}"))
                .parameter("id", "$response.body#/data/id")
                .build();
            created.links.insert(verb.to_owned(), link.into());
        }
    }
    create
}

/// `operation` with its token, and, when only some caller roles may make it, its `403` and
/// the roles in its description.
fn guarded(operation: OperationBuilder, access: Access, writing: bool) -> Operation {
    let Some(names) = access.callers(writing).names() else {
        return with_token(operation);
    };
    let operation = errors(operation, &[StatusCode::FORBIDDEN])
        .description(Some(format!("For callers with the role {names}.")));
    with_token(operation)
}

/// The documentation of `M`'s routes at `path/{id}`: read, change and delete one record (only
/// read when `read_only`).
pub(crate) fn record<M: Entity>(path: &str, access: Access, read_only: bool) -> Paths {
    let tag = tag(path);
    let one = |verb: &str, summary: &str| {
        let builder = operation(&tag, format!("{tag}.{verb}"), summary).parameter(parameter(
            ParameterIn::Path,
            "id",
            requested_id(),
            "The record's id",
        ));
        errors(builder, &[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND])
    };
    let stored = || data(component(&record_name::<M>()));
    let read = one("get", "One record").parameter(header(
        "If-None-Match",
        "ETags the client holds; `304` with no body when one is current",
    ));
    let read = success(
        read,
        StatusCode::OK,
        "The record",
        stored(),
        &[("ETag", ETAG)],
    );
    let read = read.response("304", not_modified());
    let update = one("update", "Change some fields of one record").parameter(if_match());
    let update = errors(
        json_body(update, &change_name::<M>()),
        &[
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::CONFLICT,
            StatusCode::PRECONDITION_FAILED,
            StatusCode::UNPROCESSABLE_ENTITY,
        ],
    );
    let update = success(
        update,
        StatusCode::OK,
        "The record as stored",
        stored(),
        &[("ETag", ETAG)],
    );
    let delete = one("delete", "Delete one record").parameter(if_match());
    let delete = success(
        errors(delete, &[StatusCode::PRECONDITION_FAILED]),
        StatusCode::OK,
        "The record is gone",
        data(deleted()),
        &[],
    );
    let item = PathItemBuilder::new().operation(HttpMethod::Get, guarded(read, access, false));
    let item = if read_only {
        item
    } else {
        item.operation(HttpMethod::Patch, guarded(update, access, true))
            .operation(HttpMethod::Delete, guarded(delete, access, true))
    };
    PathsBuilder::new()
        .path(format!("{path}/{{id}}"), item.build())
        .build()
}

const ETAG: &str = "The record's version, for `If-Match` and `If-None-Match`";

/// The tag of a mount's operations: its path without the slash (`master-admins`).
fn tag(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

fn paging(builder: OperationBuilder) -> OperationBuilder {
    let whole = |minimum: f64, maximum: f64| {
        scalar(Type::Integer)
            .minimum(Some(minimum))
            .maximum(Some(maximum))
    };
    builder
        .parameter(parameter(
            ParameterIn::Query,
            "limit",
            whole(1.0, f64::from(ports::Page::MAX_LIMIT)),
            "How many records, 20 unless given",
        ))
        .parameter(parameter(
            ParameterIn::Query,
            "skip",
            whole(0.0, MAX_SKIP as f64),
            "How many records to skip; page further with `after`",
        ))
        .parameter(parameter(
            ParameterIn::Query,
            "after",
            scalar(Type::String).pattern(Some(CURSOR_PATTERN)),
            "The cursor of `meta.next`: the page after the one that gave it",
        ))
        .parameter(parameter(
            ParameterIn::Query,
            "count",
            scalar(Type::Boolean),
            "`true` to have the total in `meta.total`",
        ))
}

/// The query parameter filtering a list on `field`: one value, or several separated by
/// commas, any of which matches.
fn filter(field: &Field) -> utoipa::openapi::path::Parameter {
    let description = match field.kind {
        Kind::Choice(names) => format!("Any of {}, separated by commas", names.join(", ")),
        Kind::Reference(model) => format!("The ids of one or more {model}s, separated by commas"),
        _ => "One or more values, separated by commas".to_owned(),
    };
    parameter(
        ParameterIn::Query,
        field.name,
        scalar(Type::String).pattern(ports::filter_pattern(field)),
        &description,
    )
}

fn header(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    parameter(ParameterIn::Header, name, scalar(Type::String), description)
}

fn if_match() -> utoipa::openapi::path::Parameter {
    header(
        "If-Match",
        "The ETag the client edited; `412` and no change when the record moved on",
    )
}

fn not_modified() -> utoipa::openapi::Response {
    utoipa::openapi::ResponseBuilder::new()
        .description("The client's copy is current")
        .build()
}

/// `{"data": [records], "meta": {"next", "total", "unreadable"}}`.
fn listed(record: RefOr<Schema>) -> Schema {
    let count = || scalar(Type::Integer).minimum(Some(0.0));
    let meta = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("next", scalar(Type::String))
        .property("total", count())
        .property("unreadable", count())
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("data", ArrayBuilder::new().items(record))
        .required("data")
        .property("meta", meta)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

fn deleted() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("id", schemas::id())
        .required("id")
        .property("deleted", scalar(Type::Boolean))
        .required("deleted")
}
