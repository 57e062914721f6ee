//! One record of a model: create, read, change and delete, with conditional requests
//! (RFC 9110): every response carrying a record has its `ETag`; `GET` honours
//! `If-None-Match` (`304`), `PATCH` and `DELETE` honour `If-Match` (`412`).

use std::time::{Duration, Instant};

use axum::extract::{OriginalUri, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use domain::{Entity, Id, Record};
use ports::{Conflict, Repository, RepositoryError, Role};
use serde::Serialize;

use super::target::{ChangeBody, Target};
use crate::http::conditional::{etag, etag_header, Precondition};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::AppJson;
use crate::http::idempotency::WorkStarted;
use crate::http::{AppState, Data};

/// How many times a change without `If-Match` is read, applied and saved when each save
/// loses a race: the first attempt and up to seven more.
const SAVE_ATTEMPTS: u32 = 8;

/// The shortest bound of the pause before a retry. The bound is otherwise the time the lost
/// attempt took (the window another writer needs to read and save once, which grows with the
/// database's load), doubled for each earlier retry; the pause is random within it, so that
/// writers who collided do not collide again in step.
const MIN_RETRY_PAUSE: Duration = Duration::from_millis(1);

/// `201` with the record, its `ETag`, and its address in `Location`.
pub(super) async fn create<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    OriginalUri(uri): OriginalUri,
    started: Option<Extension<WorkStarted>>,
    AppJson(body): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let entity = R::from_request(body)?.admit()?;
    if let Some(Extension(started)) = started {
        started.begin();
    }
    let record = state.registry.repository::<R>(role)?.create(entity).await?;
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), record.id());
    let location = HeaderValue::from_str(&location)
        .ok()
        .map(|value| [(LOCATION, value)]);
    Ok((StatusCode::CREATED, location, with_etag(record)).into_response())
}

pub(super) async fn read<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    target: Target<R>,
) -> ApiResult<Response> {
    let record = state.registry.repository::<R>(role)?.get(target.id).await?;
    if let Some(condition) = &target.if_match {
        if !condition.matches_strongly(&record) {
            return Err(precondition_failed(&record));
        }
    }
    match &target.if_none_match {
        Some(condition) if condition.matches_weakly(&record) => {
            Ok((StatusCode::NOT_MODIFIED, [etag_header(&record)]).into_response())
        }
        _ => Ok(with_etag(record)),
    }
}

/// Read, apply the change through the domain, save guarded by the version and `updatedAt`
/// read: a concurrent change in between is never lost.
///
/// - With `If-Match` naming tags, the record read must have one of them, and the save must
///   win: otherwise `412`, nothing changed, no retry (the client asked for that state only).
/// - Without (or with `If-Match: *`), a save that loses a race reads again and applies the
///   same change to what the other writer saved, up to [`SAVE_ATTEMPTS`] times, after a
///   short random pause: the change is a plain value, so this is the read-modify-save retry
///   Mongoose handlers do. `409 stale_version` only when the retries run out, or when the
///   change no longer passes the domain's rules on the state someone else saved.
pub(super) async fn update<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    target: Target<R>,
    body: ChangeBody,
) -> ApiResult<Response> {
    let mut first_patch = Some(body.patch::<R>()?);
    let repository = state.registry.repository::<R>(role)?;
    let guard = target.if_match.as_ref().filter(|c| !c.is_any());
    let mut attempt = 0;
    loop {
        let started = Instant::now();
        let read = repository.get(target.id).await?;
        if let Some(condition) = guard {
            if !condition.matches_strongly(&read) {
                return Err(precondition_failed(&read));
            }
        }
        // The body parsed once already; parsing the same bytes again cannot fail.
        let patch = match first_patch.take() {
            Some(patch) => patch,
            None => body.patch::<R>()?,
        };
        let changed = match read.clone().apply(patch) {
            Ok(changed) => changed,
            Err(invalid) if attempt == 0 => return Err(invalid.into()),
            // Valid on the state first read, not on the one another writer saved since.
            Err(_) => return Err(stale::<R>(target.id)),
        };
        match repository.update(changed).await {
            Ok(saved) => return Ok(with_etag(saved)),
            Err(RepositoryError::Conflict(Conflict::StaleVersion { .. })) if guard.is_some() => {
                return Err(precondition_failed(&read));
            }
            Err(RepositoryError::Conflict(Conflict::StaleVersion { .. }))
                if attempt + 1 < SAVE_ATTEMPTS =>
            {
                attempt += 1;
                tokio::time::sleep(retry_pause(started.elapsed(), attempt)).await;
            }
            Err(other) => return Err(other.into()),
        }
    }
}

/// Removes the record. With `If-Match` naming tags, only while it is still in a state the
/// client named: the removal is guarded by the version and `updatedAt` in the same step
/// ([`Repository::delete_if`]), so a save between the check and the removal is a `412`, not a
/// lost change.
pub(super) async fn delete<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    target: Target<R>,
) -> ApiResult<Json<Data<Deleted>>> {
    let repository = state.registry.repository::<R>(role)?;
    match target.if_match.as_ref().filter(|c| !c.is_any()) {
        None => repository.delete(target.id).await?,
        Some(condition) => delete_if_matches(&*repository, target.id, condition).await?,
    }
    Ok(Data::json(Deleted {
        id: target.id.to_string(),
        deleted: true,
    }))
}

async fn delete_if_matches<R: Entity>(
    repository: &dyn Repository<R>,
    id: Id<R>,
    condition: &Precondition,
) -> ApiResult<()> {
    let read = repository.get(id).await?;
    if !condition.matches_strongly(&read) {
        return Err(precondition_failed(&read));
    }
    match repository
        .delete_if(id, read.version(), read.updated_at())
        .await
    {
        Ok(()) => Ok(()),
        Err(RepositoryError::Conflict(Conflict::StaleVersion { .. })) => {
            Err(precondition_failed(&read))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Serialize)]
pub(super) struct Deleted {
    id: String,
    deleted: bool,
}

/// `{"data": record}` with the record's `ETag`.
fn with_etag<R: Entity>(record: Record<R>) -> Response {
    ([etag_header(&record)], Data::json(record)).into_response()
}

fn precondition_failed<R: Entity>(current: &Record<R>) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "{} {} is not in the state If-Match names: its current ETag is {}; read it again",
        R::NAME,
        current.id(),
        etag(current)
    ))
}

fn stale<R: Entity>(id: Id<R>) -> ApiError {
    ApiError::Conflict(Conflict::StaleVersion {
        model: R::NAME,
        id: id.to_string(),
    })
}

/// A random pause before retry number `retry` (from 1) after an attempt that took `lost`:
/// up to `lost` (at least [`MIN_RETRY_PAUSE`]) doubled per earlier retry, at most 16 times.
fn retry_pause(lost: Duration, retry: u32) -> Duration {
    let base = lost.max(MIN_RETRY_PAUSE);
    let bound = base.saturating_mul(1 << retry.saturating_sub(1).min(4));
    let micros = u64::try_from(bound.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::random_range(0..=micros))
}
