//! The by-name face of a repository, for tools that do not know the model's type.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{Entity, Id};
use ports::{ListQuery, Page, Repository};
use serde::Serialize;
use serde_json::Value;

use crate::error::ByNameError;

/// What the registry can do with a repository whose type only the binding knew.
#[async_trait]
pub(crate) trait Untyped: Send + Sync {
    async fn count(&self) -> Result<u64, ByNameError>;
    async fn get(&self, id: &str) -> Result<Value, ByNameError>;
    async fn list(&self, page: Page) -> Result<Vec<Value>, ByNameError>;
}

pub(crate) struct Typed<T: Entity>(pub(crate) Arc<dyn Repository<T>>);

#[async_trait]
impl<T: Entity + Serialize> Untyped for Typed<T> {
    async fn count(&self) -> Result<u64, ByNameError> {
        Ok(self.0.count().await?)
    }

    async fn get(&self, id: &str) -> Result<Value, ByNameError> {
        let record = self.0.get(Id::parse(id)?).await?;
        Ok(json(&record))
    }

    async fn list(&self, page: Page) -> Result<Vec<Value>, ByNameError> {
        let listing = self.0.list(ListQuery::new(page)).await?;
        Ok(listing.records.iter().map(json).collect())
    }
}

// A record is plain data (strings, numbers, ids, dates): it always serialises.
fn json(record: &impl Serialize) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// One model on one role, addressed by name: the seed's `getModel('Branch', 'main')`.
/// Records come as the JSON the API answers with.
#[derive(Clone)]
pub struct ModelHandle {
    pub(crate) plural: String,
    pub(crate) repository: Arc<dyn Untyped>,
}

impl ModelHandle {
    /// The model's plural name (`branches`).
    pub fn name(&self) -> &str {
        &self.plural
    }

    /// How many records are stored.
    ///
    /// # Errors
    /// The repository's error.
    pub async fn count(&self) -> Result<u64, ByNameError> {
        self.repository.count().await
    }

    /// The record with id `id` (24 hexadecimal characters), as JSON.
    ///
    /// # Errors
    /// [`ByNameError::Id`] for a malformed id; the repository's error (not found, …).
    pub async fn get(&self, id: &str) -> Result<Value, ByNameError> {
        self.repository.get(id).await
    }

    /// A page of records in creation order, as JSON.
    ///
    /// # Errors
    /// The repository's error.
    pub async fn list(&self, page: Page) -> Result<Vec<Value>, ByNameError> {
        self.repository.list(page).await
    }
}
