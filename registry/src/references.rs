//! References a model declares `checked`: the record a create or a change points at must
//! exist, on the role its model is bound on. Checked here, below any HTTP, so that every
//! service embedding the registry gets the check with its repositories.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{Edit, Entity, Field, Id, Kind, Record, Timestamp, Version};
use ports::{ListQuery, Listing, Repository, RepositoryError};

use crate::error::ByNameError;
use crate::handle::Untyped;

/// One checked field and the repository its referenced records are looked up in.
pub(crate) struct Target {
    pub(crate) field: &'static Field,
    pub(crate) model: &'static str,
    /// `None` when the referenced model is bound on no role: nothing can be checked, and
    /// writes are refused rather than let through unchecked.
    pub(crate) records: Option<Arc<dyn Untyped>>,
}

/// The checked reference fields of `T`, each with the name of the model it references.
pub(crate) fn checked_fields<T: Entity>() -> impl Iterator<Item = (&'static Field, &'static str)> {
    T::FIELDS.iter().filter_map(|field| match field.kind {
        Kind::Reference(model) if field.checked => Some((field, model)),
        _ => None,
    })
}

/// A repository of `T` whose creates and changes first check that `T`'s checked references
/// exist; reads pass through, and stored references are read as they are.
pub(crate) struct CheckedReferences<T: Entity> {
    pub(crate) inner: Arc<dyn Repository<T>>,
    pub(crate) targets: Vec<Target>,
}

impl<T: Entity> CheckedReferences<T> {
    /// Checks the references of `entity`; on a change, only those a change can set (a fixed
    /// reference was checked when the record was created).
    async fn check(&self, entity: &T, creating: bool) -> Result<(), RepositoryError> {
        for target in &self.targets {
            if !creating && target.field.edit != Edit::Free {
                continue;
            }
            let Some(id) = entity.checked_reference(target.field.name) else {
                continue;
            };
            let Some(records) = &target.records else {
                return Err(RepositoryError::Internal(format!(
                    "{} references {}, which is bound on no role: bind it to check the reference",
                    target.field.name, target.model
                )));
            };
            match records.get(&id).await {
                Ok(_) => {}
                Err(ByNameError::Repository(RepositoryError::NotFound { .. })) => {
                    return Err(RepositoryError::MissingReference {
                        field: target.field.name,
                        model: target.model,
                        id,
                    });
                }
                Err(ByNameError::Repository(failure)) => return Err(failure),
                Err(other) => return Err(RepositoryError::Internal(other.to_string())),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl<T: Entity> Repository<T> for CheckedReferences<T> {
    async fn create(&self, entity: T) -> Result<Record<T>, RepositoryError> {
        self.check(&entity, true).await?;
        self.inner.create(entity).await
    }

    async fn get(&self, id: Id<T>) -> Result<Record<T>, RepositoryError> {
        self.inner.get(id).await
    }

    async fn list(&self, query: ListQuery<T>) -> Result<Listing<T>, RepositoryError> {
        self.inner.list(query).await
    }

    async fn update(&self, record: Record<T>) -> Result<Record<T>, RepositoryError> {
        self.check(record.entity(), false).await?;
        self.inner.update(record).await
    }

    async fn delete(&self, id: Id<T>) -> Result<(), RepositoryError> {
        self.inner.delete(id).await
    }

    async fn delete_if(
        &self,
        id: Id<T>,
        version: Version,
        updated_at: Timestamp,
    ) -> Result<(), RepositoryError> {
        self.inner.delete_if(id, version, updated_at).await
    }

    async fn count(&self) -> Result<u64, RepositoryError> {
        self.inner.count().await
    }
}
