use async_trait::async_trait;
use domain::{Entity, Id, Record};

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

    /// How many entities are stored.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    async fn count(&self) -> Result<u64, RepositoryError>;
}
