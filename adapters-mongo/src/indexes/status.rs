//! The declared indexes created before a collection's first write, and what became of them:
//! decided once, retried only while the database is unreachable.

use mongodb::bson::Document;
use ports::{IndexRefusal, IndexStatus, RepositoryError};

use super::{declared, DeclaredIndexes};

impl DeclaredIndexes {
    /// Creates the declared indexes, all in one command, if that was not tried yet, and says
    /// what became of them. A refusal by the server is logged once and returned as
    /// [`IndexStatus::Refused`] (naming every declared index, since they were asked for
    /// together), never retried: writes then go on without them. A collection that declares
    /// no index is [`IndexStatus::Ready`] without any I/O.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached: the next call
    /// tries again. [`RepositoryError::ReadOnly`] on a read-only role, which builds no index.
    pub async fn ensure(&self) -> Result<IndexStatus, RepositoryError> {
        let status = self.status.get_or_try_init(|| self.create());
        status.await.cloned()
    }

    /// What became of the declared indexes, once [`Self::ensure`] has tried; `None` before.
    /// Does no I/O.
    pub fn status(&self) -> Option<IndexStatus> {
        self.status.get().cloned()
    }

    /// Whether writes create the declared indexes by themselves: auto-index on
    /// (`MONGO_AUTO_INDEX`) and the role writable. A tool reading the database must not create
    /// them otherwise.
    pub fn created_by_writes(&self) -> bool {
        self.connection.auto_index() && !self.connection.read_only()
    }

    /// Classified by the error's kind, never its text: unreachable is retried later, anything
    /// else the server answered is a refusal to keep.
    async fn create(&self) -> Result<IndexStatus, RepositoryError> {
        if self.declared.is_empty() {
            return Ok(IndexStatus::Ready);
        }
        let created = self
            .connection
            .database_for_writes()
            .await?
            .collection::<Document>(&self.collection)
            .create_indexes(self.declared.iter().map(declared::to_model))
            .await;
        match created.map_err(|err| self.connection.map_error(&err, None)) {
            Ok(_) => {
                tracing::debug!(collection = %self.collection, "indexes ensured");
                Ok(IndexStatus::Ready)
            }
            Err(unavailable @ RepositoryError::Unavailable { .. }) => {
                tracing::warn!(
                    collection = %self.collection, error = %unavailable, "database unavailable"
                );
                Err(unavailable)
            }
            Err(refused) => {
                tracing::error!(
                    collection = %self.collection,
                    role = %self.connection.role(),
                    error = %refused,
                    "the declared indexes cannot be created: {}",
                    self.when_refused
                );
                let refusal = IndexRefusal::new(self.declared.to_vec(), refused.to_string());
                Ok(IndexStatus::Refused(refusal))
            }
        }
    }
}
