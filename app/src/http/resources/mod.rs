//! CRUD routes, written once over any declared model ([`Entity`]) and instantiated per model
//! by its router line.
//!
//! Request bodies are the model's strict forms ([`Model::New`](domain::Model::New),
//! [`Model::Change`](domain::Model::Change)), which refuse any key the model does not declare,
//! `$`-prefixed operators included: a `400` before anything reaches a repository.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use domain::{Entity, Record};
use ports::{ListQuery, Page, Role};
use serde::Serialize;

use super::error::ApiResult;
use super::extract::{AppJson, AppQuery, EntityId, PageQuery};
use super::{AppState, Data};

/// The routes of `R` on `role`: list and create at `path`, read, change and delete under
/// `path/{id}`.
pub(crate) fn crud_routes<R: Entity>(path: &str, role: Role) -> Router<AppState> {
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

async fn list<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    AppQuery(query): AppQuery<PageQuery>,
) -> ApiResult<Json<Listed<R>>> {
    let page = Page::new(query.limit, query.skip)?;
    let repository = state.registry.repository::<R>(role)?;
    let listing = repository.list(ListQuery::new(page)).await?;
    let meta = (listing.unreadable > 0).then_some(ListMeta {
        unreadable: listing.unreadable,
    });
    Ok(Json(Listed {
        data: listing.records,
        meta,
    }))
}

/// The body of a list: `{"data": [...]}`, and `meta` when something is worth saying about the
/// page.
#[derive(Serialize)]
struct Listed<R: Entity> {
    data: Vec<Record<R>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<ListMeta>,
}

/// What a client should know about a page.
#[derive(Serialize)]
struct ListMeta {
    /// Stored records that could not be read at all (a field of another type) and were left
    /// out; each is logged with its id.
    unreadable: u64,
}

async fn create<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    AppJson(body): AppJson<R::New>,
) -> ApiResult<(StatusCode, Json<Data<Record<R>>>)> {
    let entity = R::from_new(body)?.admit()?;
    let record = state.registry.repository::<R>(role)?.create(entity).await?;
    Ok((StatusCode::CREATED, Data::json(record)))
}

async fn read<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    EntityId(id): EntityId<R>,
) -> ApiResult<Json<Data<Record<R>>>> {
    let record = state.registry.repository::<R>(role)?.get(id).await?;
    Ok(Data::json(record))
}

/// Read, apply the change through the domain, save guarded by the version read: a
/// concurrent change in between is a `409`, never a lost update.
async fn update<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    EntityId(id): EntityId<R>,
    AppJson(body): AppJson<R::Change>,
) -> ApiResult<Json<Data<Record<R>>>> {
    let patch = R::patch_from(body)?;
    let repository = state.registry.repository::<R>(role)?;
    let changed = repository.get(id).await?.apply(patch)?;
    Ok(Data::json(repository.update(changed).await?))
}

async fn delete<R: Entity>(
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
