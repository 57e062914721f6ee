use async_trait::async_trait;
use domain::{Entity, Id, Record, Timestamp, Version};

use crate::error::RepositoryError;
use crate::query::{ListQuery, Listing};

/// Storage of one kind of entity in one database.
///
/// The contract below is what every backend must honour; the contract suite in the `tests`
/// crate checks it against each one.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Repository<T: Entity>: Send + Sync {
    /// Stores a new entity under a fresh id and returns its record.
    ///
    /// # Errors
    /// - MUST return [`Conflict::Duplicate`](crate::Conflict::Duplicate) naming the unique field
    ///   (see [`Model::unique_keys`](domain::Model::unique_keys)) whose value another entity
    ///   already has; nothing is stored.
    /// - [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn create(&self, entity: T) -> Result<Record<T>, RepositoryError>;

    /// The record with this id.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::NotFound`] when no entity has the id.
    async fn get(&self, id: Id<T>) -> Result<Record<T>, RepositoryError>;

    /// The records `query` selects, in ascending id (creation) order: those meeting every
    /// condition of its filter, after its cursor, skipping and limited by its page. The listing
    /// has the next page's cursor when more records follow, and the total of all that match
    /// when the query asks for it.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn list(&self, query: ListQuery<T>) -> Result<Listing<T>, RepositoryError>;

    /// Saves `record` over the stored one, if the stored one still has `record.version()`.
    /// Returns what was saved: the next version, updated now.
    ///
    /// # Errors
    /// - MUST return [`RepositoryError::NotFound`] when no entity has the id.
    /// - MUST return [`Conflict::StaleVersion`](crate::Conflict::StaleVersion) when the stored
    ///   version differs (someone saved in between); nothing is changed.
    /// - MUST return [`Conflict::Duplicate`](crate::Conflict::Duplicate) when the new unique
    ///   value belongs to another entity; nothing is changed.
    async fn update(&self, record: Record<T>) -> Result<Record<T>, RepositoryError>;

    /// Removes the entity with this id.
    ///
    /// # Errors
    /// MUST return [`RepositoryError::NotFound`] when no entity has the id.
    async fn delete(&self, id: Id<T>) -> Result<(), RepositoryError>;

    /// Removes the entity with this id only while it is still the one read: its stored
    /// version is `version` and its `updatedAt` is `updated_at` (the two values an
    /// [`update`](Self::update) is guarded by). This is what a conditional `DELETE`
    /// (`If-Match`) needs: the check and the removal are one atomic step, so a save that
    /// lands between a read and this call is never deleted unseen.
    ///
    /// A stored record without an `updatedAt` of its own (written by an older Mongoose
    /// schema without `timestamps`) cannot tell that date, and is guarded by its version
    /// alone, as an update is.
    ///
    /// # Errors
    /// - MUST return [`RepositoryError::NotFound`] when no entity has the id.
    /// - MUST return [`Conflict::StaleVersion`](crate::Conflict::StaleVersion) when the stored
    ///   version or `updatedAt` differs; nothing is deleted.
    async fn delete_if(
        &self,
        id: Id<T>,
        version: Version,
        updated_at: Timestamp,
    ) -> Result<(), RepositoryError>;

    /// How many entities are stored.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn count(&self) -> Result<u64, RepositoryError>;
}
