//! CRUD routes, written once over any declared model ([`Entity`]) and instantiated per model
//! by its router line.
//!
//! Request bodies are the model's strict forms ([`Model::New`](domain::Model::New),
//! [`Model::Change`](domain::Model::Change)), which refuse any key the model does not declare,
//! `$`-prefixed operators included: a `400` before anything reaches a repository.

mod documented;
mod list;
mod query;
mod record;
mod target;

use axum::routing::get;
use domain::Entity;
use ports::Role;
use utoipa_axum::router::OpenApiRouter;

pub use self::query::MAX_SKIP;

use self::list::list;
use self::record::{create, delete, read, update};
use super::AppState;

/// The routes of `R` on `role`, each with its documentation: list and create at `path`,
/// read, change and delete under `path/{id}`.
pub(crate) fn crud_routes<R: Entity>(path: &str, role: Role) -> OpenApiRouter<AppState> {
    let (schemas, collection) = documented::collection::<R>(path);
    OpenApiRouter::default()
        .routes((
            schemas,
            collection,
            get(move |state, uri, query| list::<R>(state, role, uri, query)).post(
                move |state, uri, started, body| create::<R>(state, role, uri, started, body),
            ),
        ))
        .routes((
            Vec::new(),
            documented::record::<R>(path),
            get(move |state, id| read::<R>(state, role, id))
                .patch(move |state, id, body| update::<R>(state, role, id, body))
                .delete(move |state, id| delete::<R>(state, role, id)),
        ))
}
