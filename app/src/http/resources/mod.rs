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
use super::{Access, AppState};

/// The routes of `R` on `role`, each with its documentation: list and create at `path`,
/// read, change and delete under `path/{id}`; only list and read when `read_only`.
pub(crate) fn crud_routes<R: Entity>(
    path: &str,
    role: Role,
    access: Access,
    read_only: bool,
) -> OpenApiRouter<AppState> {
    let (schemas, collection) = documented::collection::<R>(path, access, read_only);
    let listed = get(move |state, uri, query| list::<R>(state, role, uri, query));
    let read = get(move |state, id| read::<R>(state, role, id));
    let (listed, read) = if read_only {
        (listed, read)
    } else {
        (
            listed.post(move |state, uri, started, body| {
                create::<R>(state, role, uri, started, body)
            }),
            read.patch(move |state, id, body| update::<R>(state, role, id, body))
                .delete(move |state, id| delete::<R>(state, role, id)),
        )
    };
    OpenApiRouter::default()
        .routes((schemas, collection, listed))
        .routes((
            Vec::new(),
            documented::record::<R>(path, access, read_only),
            read,
        ))
}
