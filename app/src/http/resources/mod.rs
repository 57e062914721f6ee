//! CRUD routes, written once over [`Resource`] and instantiated per entity kind.
//!
//! Request bodies are typed DTOs with `deny_unknown_fields`, so any key the DTO does not name,
//! `$`-prefixed operators included, is a `400` before anything reaches a repository.

mod admin;
mod branch;
mod customer;
mod machine;
mod master_admin;
mod order;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use domain::{Record, ValidationError};
use ports::{Page, Role};
use registry::Bindable;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::ApiResult;
use super::extract::{AppJson, AppQuery, EntityId, PageQuery};
use super::{AppState, Data};

/// A model served over HTTP: the DTOs its bodies are parsed from. Where it is mounted and on
/// which role is said by the router line ([`crud`](super::crud)).
pub trait Resource: Bindable {
    /// The body of `POST`.
    type Create: DeserializeOwned + Send + 'static;
    /// The body of `PATCH`.
    type Update: DeserializeOwned + Send + 'static;

    /// The validated entity of a `POST` body.
    ///
    /// # Errors
    /// The first field that fails validation.
    fn create(body: Self::Create) -> Result<Self, ValidationError>;

    /// The validated change of a `PATCH` body.
    ///
    /// # Errors
    /// The first field that fails validation.
    fn patch(body: Self::Update) -> Result<Self::Patch, ValidationError>;
}

/// The routes of `R` on `role`: list and create at `path`, read, change and delete under
/// `path/{id}`.
pub(crate) fn crud_routes<R: Resource>(path: &str, role: Role) -> Router<AppState> {
    Router::new()
        .route(
            path,
            get(move |state, query| list::<R>(state, role, query))
                .post(move |state, body| create::<R>(state, role, body)),
        )
        .route(
            &format!("{path}/{{id}}"),
            get(move |state, id| read::<R>(state, role, id))
                .patch(move |state, id, body| update::<R>(state, role, id, body))
                .delete(move |state, id| delete::<R>(state, role, id)),
        )
}

async fn list<R: Resource>(
    State(state): State<AppState>,
    role: Role,
    AppQuery(query): AppQuery<PageQuery>,
) -> ApiResult<Json<Data<Vec<Record<R>>>>> {
    let page = Page::new(query.limit, query.skip)?;
    let records = state.registry.repository::<R>(role)?.list(page).await?;
    Ok(Data::json(records))
}

async fn create<R: Resource>(
    State(state): State<AppState>,
    role: Role,
    AppJson(body): AppJson<R::Create>,
) -> ApiResult<(StatusCode, Json<Data<Record<R>>>)> {
    let entity = R::create(body)?;
    let record = state.registry.repository::<R>(role)?.create(entity).await?;
    Ok((StatusCode::CREATED, Data::json(record)))
}

async fn read<R: Resource>(
    State(state): State<AppState>,
    role: Role,
    EntityId(id): EntityId<R>,
) -> ApiResult<Json<Data<Record<R>>>> {
    let record = state.registry.repository::<R>(role)?.get(id).await?;
    Ok(Data::json(record))
}

/// Read, apply the change through the domain, save guarded by the version read: a
/// concurrent change in between is a `409`, never a lost update.
async fn update<R: Resource>(
    State(state): State<AppState>,
    role: Role,
    EntityId(id): EntityId<R>,
    AppJson(body): AppJson<R::Update>,
) -> ApiResult<Json<Data<Record<R>>>> {
    let patch = R::patch(body)?;
    let repository = state.registry.repository::<R>(role)?;
    let changed = repository.get(id).await?.apply(patch)?;
    Ok(Data::json(repository.update(changed).await?))
}

async fn delete<R: Resource>(
    State(state): State<AppState>,
    role: Role,
    EntityId(id): EntityId<R>,
) -> ApiResult<Json<Data<Deleted>>> {
    state.registry.repository::<R>(role)?.delete(id).await?;
    Ok(Data::json(Deleted {
        id: id.to_string(),
        deleted: true,
    }))
}

#[derive(Serialize)]
struct Deleted {
    id: String,
    deleted: bool,
}

/// Parses an optional field of a body: `None` when absent, the parsed value otherwise.
fn optional<T, U>(
    value: Option<T>,
    parse: impl FnOnce(T) -> Result<U, ValidationError>,
) -> Result<Option<U>, ValidationError> {
    value.map(parse).transpose()
}

/// Lets a `PATCH` body tell "absent" (`None`) from "set to null" (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Parses an id field of a body, naming the field when it is malformed.
fn id_field<T>(field: &'static str, text: &str) -> Result<domain::Id<T>, ValidationError> {
    domain::Id::parse(text).map_err(|_| {
        ValidationError::new(
            field,
            domain::Problem::Malformed("an id of 24 hexadecimal characters"),
        )
    })
}
