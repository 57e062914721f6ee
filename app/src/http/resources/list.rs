//! `GET` of a model's path: a page of its records, filtered on the model's declared filter
//! fields, after a cursor, optionally counted.
//!
//! The next page's cursor is in the body (`meta.next`) and in a `Link: <…>; rel="next"` header
//! that repeats the request's filters and limit; both are absent on the last page.

use axum::extract::{OriginalUri, State};
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue};
use axum::Json;
use domain::{Entity, Record};
use ports::{Listing, Role};
use serde::Serialize;

use super::query::{cursor, list_query};
use crate::http::error::ApiResult;
use crate::http::extract::AppQuery;
use crate::http::AppState;

pub(super) async fn list<R: Entity>(
    State(state): State<AppState>,
    role: Role,
    OriginalUri(uri): OriginalUri,
    AppQuery(pairs): AppQuery<Vec<(String, String)>>,
) -> ApiResult<(HeaderMap, Json<Listed<R>>)> {
    let query = list_query::<R>(&pairs)?;
    let repository = state.registry.repository::<R>(role)?;
    let listing = repository.list(query).await?;
    let next = listing.next_after.map(cursor);
    let mut headers = HeaderMap::new();
    if let Some(link) = next
        .as_deref()
        .and_then(|next| next_link(uri.path(), &pairs, next))
    {
        headers.insert(LINK, link);
    }
    Ok((headers, Json(Listed::of(listing, next))))
}

/// `<path?…&after=next>; rel="next"`: the request's parameters but `skip` and `after`, which
/// the cursor replaces.
fn next_link(path: &str, pairs: &[(String, String)], next: &str) -> Option<HeaderValue> {
    let mut kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(name, _)| name != "skip" && name != "after")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    kept.push(("after", next));
    let query = serde_urlencoded::to_string(&kept).ok()?;
    HeaderValue::from_str(&format!("<{path}?{query}>; rel=\"next\"")).ok()
}

/// The body of a list: `{"data": [...]}`, and `meta` when something is worth saying about the
/// page.
#[derive(Serialize)]
pub(super) struct Listed<R: Entity> {
    data: Vec<Record<R>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<ListMeta>,
}

impl<R: Entity> Listed<R> {
    fn of(listing: Listing<R>, next: Option<String>) -> Self {
        let meta = ListMeta {
            next,
            total: listing.total,
            unreadable: (listing.unreadable > 0).then_some(listing.unreadable),
        };
        let said = meta.next.is_some() || meta.total.is_some() || meta.unreadable.is_some();
        Self {
            data: listing.records,
            meta: said.then_some(meta),
        }
    }
}

/// What a client should know about a page.
#[derive(Serialize)]
pub(super) struct ListMeta {
    /// The cursor of the next page, for `after`; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    /// How many records the filters select in all, when asked with `count=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    /// Stored records that could not be read at all (a field of another type) and were left
    /// out; each is logged with its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    unreadable: Option<u64>,
}
