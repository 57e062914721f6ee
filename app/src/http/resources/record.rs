//! One record of a model: create, read, change and delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::{Entity, Record};
use ports::Role;
use serde::Serialize;

use crate::http::error::ApiResult;
use crate::http::extract::{AppJson, EntityId};
use crate::http::{AppState, Data};

pub(super) async fn create<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    AppJson(body): AppJson<R::New>,
) -> ApiResult<(StatusCode, Json<Data<Record<R>>>)> {
    let entity = R::from_new(body)?.admit()?;
    let record = state.registry.repository::<R>(role)?.create(entity).await?;
    Ok((StatusCode::CREATED, Data::json(record)))
}

pub(super) async fn read<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    EntityId(id): EntityId<R>,
) -> ApiResult<Json<Data<Record<R>>>> {
    let record = state.registry.repository::<R>(role)?.get(id).await?;
    Ok(Data::json(record))
}

/// Read, apply the change through the domain, save guarded by the version read: a
/// concurrent change in between is a `409`, never a lost update.
pub(super) async fn update<R: Entity>(
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

pub(super) async fn delete<R: Entity>(
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
pub(super) struct Deleted {
    id: String,
    deleted: bool,
}
