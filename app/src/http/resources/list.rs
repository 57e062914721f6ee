//! `GET` of a model's path: a page of its records.

use axum::extract::State;
use axum::Json;
use domain::{Entity, Record};
use ports::{ListQuery, Page, Role};
use serde::Serialize;

use crate::http::error::ApiResult;
use crate::http::extract::{AppQuery, PageQuery};
use crate::http::AppState;

pub(super) async fn list<R: Entity>(
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
pub(super) struct Listed<R: Entity> {
    data: Vec<Record<R>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<ListMeta>,
}

/// What a client should know about a page.
#[derive(Serialize)]
pub(super) struct ListMeta {
    /// Stored records that could not be read at all (a field of another type) and were left
    /// out; each is logged with its id.
    unreadable: u64,
}
