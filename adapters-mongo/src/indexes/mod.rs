//! Indexes, from the declaration to the server, for any collection: a model's (declared by its
//! fields) or another one this crate keeps (the idempotency records, declared by their store).
//!
//! - [`declared`]: the one builder of declared indexes, and the one translation between the
//!   shared words ([`ports::IndexSpec`]) and the driver's.
//! - [`status`]: the creation before a first write, decided once per collection handle. A
//!   refusal (legacy duplicates, an index of the same keys with other options) is logged once
//!   and kept, never retried on every write: with legacy duplicates, a retry would rebuild an
//!   index over the whole collection each time and fail again. Writes then go on, and a
//!   repository checks unique values itself, by reading, until an operator resolves the
//!   conflict (`app check` lists what is in the way) and restarts.
//! - [`diff`] and [`sync`]: the declared indexes compared with those a collection holds, and
//!   brought in line: what Mongoose's `diffIndexes` and `syncIndexes` do, for operators who
//!   create indexes themselves (`MONGO_AUTO_INDEX=false`, then `app indexes sync`) rather than
//!   on a request's first write.
//!
//! Indexes are compared by their keys (fields, in order, and directions) and their options,
//! never by name: the same index may be named `name_1` by Mongoose, by this crate or by the
//! driver, and something else by an operator or another server.
//!
//! [`DeclaredIndexes`] is all of it for one collection on one role, and the
//! [`ports::IndexedCollection`] tools use.

mod declared;
mod diff;
mod status;
mod sync;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use domain::Entity;
use ports::{
    IndexDiff, IndexSpec, IndexStatus, IndexSync, IndexedCollection, RepositoryError, Role,
};
use tokio::sync::OnceCell;

pub use declared::index_keys;
pub(crate) use declared::unique_fields;

use crate::manager::RoleConnection;
use crate::repository::MongoRepository;

/// What a refused model index means for its writes, as the refusal's log line says it.
const MODEL_INDEXES_REFUSED: &str = "writes go on, and unique fields are checked by reading \
                                     until the conflict is resolved (run `app check`)";

/// One collection on one role with the indexes declared for it: what is created before a first
/// write ([`Self::ensure`]), compared ([`Self::diff`]) and brought in line ([`Self::sync`]). A
/// model's collection ([`MongoRepository::declared_indexes`]) or another one the service keeps
/// (its idempotency records).
///
/// Cloning is cheap; clones share what [`Self::ensure`] decided.
#[derive(Clone)]
pub struct DeclaredIndexes {
    connection: RoleConnection,
    collection: Arc<str>,
    declared: Arc<[IndexSpec]>,
    /// What the creation before a first write decided, once.
    status: Arc<OnceCell<IndexStatus>>,
    /// What a refusal means for the collection's writes, for the one line that logs it.
    when_refused: &'static str,
}

impl DeclaredIndexes {
    /// `collection` on `connection`'s role, declared to have `declared` (and `_id`). Does no
    /// I/O.
    pub fn new(connection: RoleConnection, collection: &str, declared: Vec<IndexSpec>) -> Self {
        Self {
            connection,
            collection: Arc::from(collection),
            declared: declared.into(),
            status: Arc::new(OnceCell::new()),
            when_refused: "writes go on without them",
        }
    }

    /// The same, saying what a refusal means for the collection (`old records stay`) in the
    /// one line that logs it.
    #[must_use]
    pub fn when_refused(mut self, consequence: &'static str) -> Self {
        self.when_refused = consequence;
        self
    }

    /// The collection of `T` with the indexes its fields declare.
    pub(crate) fn of_model<T: Entity>(connection: RoleConnection, collection: &str) -> Self {
        Self::new(connection, collection, declared::of_model::<T>())
            .when_refused(MODEL_INDEXES_REFUSED)
    }

    /// The collection's name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// The name of the role's database.
    pub fn database(&self) -> &str {
        self.connection.database_name()
    }

    /// The indexes declared for the collection (`_id` aside).
    pub fn declared(&self) -> &[IndexSpec] {
        &self.declared
    }
}

impl fmt::Debug for DeclaredIndexes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeclaredIndexes")
            .field("role", &self.connection.role())
            .field("collection", &self.collection)
            .field("declared", &self.declared)
            .field("status", &self.status.get())
            .finish()
    }
}

#[async_trait]
impl IndexedCollection for DeclaredIndexes {
    fn role(&self) -> Role {
        self.connection.role()
    }

    fn database(&self) -> &str {
        DeclaredIndexes::database(self)
    }

    fn collection(&self) -> &str {
        DeclaredIndexes::collection(self)
    }

    fn created_by_writes(&self) -> bool {
        DeclaredIndexes::created_by_writes(self)
    }

    fn status(&self) -> Option<IndexStatus> {
        DeclaredIndexes::status(self)
    }

    async fn ensure(&self) -> Result<IndexStatus, RepositoryError> {
        DeclaredIndexes::ensure(self).await
    }

    async fn diff(&self) -> Result<IndexDiff, RepositoryError> {
        DeclaredIndexes::diff(self).await
    }

    async fn sync(&self, drop_extra: bool) -> Result<IndexSync, RepositoryError> {
        DeclaredIndexes::sync(self, drop_extra).await
    }
}

/// A repository's indexes are its collection's [`DeclaredIndexes`], shared by its clones.
impl<T: Entity> MongoRepository<T> {
    /// The model's collection with the indexes the model declares, sharing what this
    /// repository's [`Self::ensure_indexes`] decided.
    pub fn declared_indexes(&self) -> DeclaredIndexes {
        self.indexes().clone()
    }

    /// Creates the index of each indexed field of the model (named `<field>_1`, as Mongoose
    /// names it; unique for `unique` fields) if it does not exist yet, once per repository.
    /// A refusal by the server is logged once and returned as [`IndexStatus::Refused`], never
    /// retried; writes then go on (see [`DeclaredIndexes::ensure`]).
    ///
    /// # Errors
    /// As [`DeclaredIndexes::ensure`].
    pub async fn ensure_indexes(&self) -> Result<IndexStatus, RepositoryError> {
        self.indexes().ensure().await
    }

    /// What became of the declared indexes, once [`Self::ensure_indexes`] or a write has tried;
    /// `None` before. Does no I/O.
    pub fn index_status(&self) -> Option<IndexStatus> {
        self.indexes().status()
    }

    /// See [`DeclaredIndexes::diff`].
    ///
    /// # Errors
    /// As [`DeclaredIndexes::diff`].
    pub async fn index_diff(&self) -> Result<IndexDiff, RepositoryError> {
        self.indexes().diff().await
    }

    /// See [`DeclaredIndexes::sync`].
    ///
    /// # Errors
    /// As [`DeclaredIndexes::sync`].
    pub async fn sync_indexes(&self, drop_extra: bool) -> Result<IndexSync, RepositoryError> {
        self.indexes().sync(drop_extra).await
    }
}
