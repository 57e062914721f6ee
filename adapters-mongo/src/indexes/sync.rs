//! A collection's indexes brought in line with its declaration, on an operator's demand
//! (`app indexes sync`): the missing ones created, the extra ones dropped only when asked,
//! conflicting ones left alone and reported.

use mongodb::bson::Document;
use ports::{IndexRefusal, IndexSpec, IndexSync, RepositoryError};

use super::diff::is_id_index;
use super::{declared, DeclaredIndexes};

impl DeclaredIndexes {
    /// Creates the declared indexes that are missing, one at a time; drops the extra ones
    /// (never `_id`) only when `drop_extra` is set; leaves conflicting ones alone. Then reads
    /// the indexes again to say what still differs ([`IndexSync::after`]). Unlike the
    /// creation before a first write ([`Self::ensure`]), this is meant to be run by an
    /// operator (`app indexes sync`), and it is run again each time it is called.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached (what was done
    /// before stays done); [`RepositoryError::Internal`] when the server refuses to list the
    /// indexes; [`RepositoryError::ReadOnly`] on a read-only role. An index the server refuses
    /// to create or drop is in [`IndexSync::refused`].
    pub async fn sync(&self, drop_extra: bool) -> Result<IndexSync, RepositoryError> {
        let before = self.diff().await?;
        // Creating and dropping indexes are writes: a read-only role refuses them here.
        let collection = self
            .connection
            .database_for_writes()
            .await?
            .collection::<Document>(&self.collection);
        let mut sync = IndexSync::default();
        for index in before.missing {
            match collection.create_index(declared::to_model(&index)).await {
                Ok(_) => {
                    tracing::info!(collection = %self.collection, %index, "index created");
                    sync.created.push(index);
                }
                Err(err) => sync.refused.push(self.refusal(&err, index, "created")?),
            }
        }
        for index in before.extra {
            let name = match &index.name {
                Some(name) if drop_extra && !is_id_index(&index) => name.clone(),
                _ => {
                    sync.kept.push(index);
                    continue;
                }
            };
            match collection.drop_index(name).await {
                Ok(()) => {
                    tracing::info!(collection = %self.collection, %index, "index dropped");
                    sync.dropped.push(index);
                }
                Err(err) => sync.refused.push(self.refusal(&err, index, "dropped")?),
            }
        }
        for conflict in &before.conflicting {
            tracing::warn!(
                collection = %self.collection,
                declared = %conflict.declared,
                present = %conflict.present,
                "an index over the declared keys has other options: not changed; drop it and \
                 sync again to create the declared one"
            );
        }
        sync.after = self.diff().await?;
        Ok(sync)
    }

    /// `err` from creating or dropping `index`: unreachable is the caller's error, anything
    /// else the server answered is a refusal to report.
    fn refusal(
        &self,
        err: &mongodb::error::Error,
        index: IndexSpec,
        what: &str,
    ) -> Result<IndexRefusal, RepositoryError> {
        match self.connection.map_error(err, None) {
            unavailable @ RepositoryError::Unavailable { .. } => Err(unavailable),
            refused => {
                tracing::warn!(
                    collection = %self.collection, %index, error = %refused,
                    "the index could not be {what}"
                );
                Ok(IndexRefusal::new(vec![index], refused.to_string()))
            }
        }
    }
}
