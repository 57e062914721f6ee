//! CRUD routes, written once over any declared model ([`Entity`]) and instantiated per model
//! by its router line.
//!
//! Request bodies are the model's strict forms ([`Model::New`](domain::Model::New),
//! [`Model::Change`](domain::Model::Change)), which refuse any key the model does not declare,
//! `$`-prefixed operators included: a `400` before anything reaches a repository.

mod list;
mod query;
mod record;
mod target;

use axum::routing::get;
use axum::Router;
use domain::Entity;
use ports::Role;

pub use self::query::MAX_SKIP;

use self::list::list;
use self::record::{create, delete, read, update};
use super::AppState;

/// The routes of `R` on `role`: list and create at `path`, read, change and delete under
/// `path/{id}`.
pub(crate) fn crud_routes<R: Entity>(path: &str, role: Role) -> Router<AppState> {
    Router::new()
        .route(
            path,
            get(move |state, uri, query| list::<R>(state, role, uri, query))
                .post(move |state, uri, body| create::<R>(state, role, uri, body)),
        )
        .route(
            &format!("{path}/{{id}}"),
            get(move |state, id| read::<R>(state, role, id))
                .patch(move |state, id, body| update::<R>(state, role, id, body))
                .delete(move |state, id| delete::<R>(state, role, id)),
        )
}
