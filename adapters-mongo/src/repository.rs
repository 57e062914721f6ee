//! [`ports::Repository`] on one MongoDB collection, through a role's connection.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use domain::{Entity, Id, Record};
use futures::TryStreamExt;
use mongodb::bson::{doc, Document, RawDocumentBuf};
use mongodb::Collection;
use ports::{Conflict, IndexStatus, ListQuery, Listing, Repository, RepositoryError};

use crate::documents::{
    collection_name, from_document, object_id, saved_since, to_document, unchanged_since_read,
    versioned_filter, with_foreign_fields,
};
use crate::indexes::{self, DeclaredIndexes};
use crate::manager::RoleConnection;
use crate::selection;

/// How a duplicate on a unique index other than the model's own is named.
const OTHER_UNIQUE_KEY: &str = "unique key";

/// The repository of `T` in the database of a [`RoleConnection`]'s role, in the collection
/// Mongoose would give the model ([`collection_name`](crate::collection_name)) unless another
/// is named ([`Self::in_collection`]).
///
/// - Writes save whole validated records: `insert_one` to create, `replace_one` guarded by
///   `_id` and `__v` to update, so a concurrent save is detected and nothing is half-written.
/// - The indexes the model declares (unique for `unique` fields, plain for `filter` and
///   `index` fields) are created before the first write, or by [`Self::ensure_indexes`] at
///   start-up: once per repository, retried only while the database is unreachable. If the
///   server refuses them, that is logged once and kept ([`Self::index_status`]); writes go on
///   and check unique values by reading first. With auto-index off
///   ([`MongoSettings::with_auto_index`](crate::MongoSettings::with_auto_index)) writes never
///   create them: [`Self::sync_indexes`] (`app indexes --sync`) does.
/// - A duplicate key (code 11000) is [`Conflict::Duplicate`] naming the field, found by
///   reading which unique value is taken when the model has several.
/// - Filters are built only from typed ids, versions and the record's own values, never from
///   caller documents.
///
/// Cloning is cheap; clones share the index state.
pub struct MongoRepository<T> {
    connection: RoleConnection,
    collection: Arc<str>,
    /// The driver's handle on the collection, made on first use and shared by clones.
    handle: Arc<OnceLock<Collection<Document>>>,
    /// The collection's declared indexes and what became of them, shared by clones.
    indexes: DeclaredIndexes,
    entity: PhantomData<fn() -> T>,
}

impl<T: Entity> MongoRepository<T> {
    /// The repository of `T` in `connection`'s database, in the model's Mongoose collection.
    /// Does no I/O.
    pub fn new(connection: RoleConnection) -> Self {
        Self::in_collection(connection, &collection_name::<T>())
    }

    /// The repository of `T` in `connection`'s database, in `collection`: for a Mongoose
    /// model declared with a collection name of its own. Does no I/O.
    pub fn in_collection(connection: RoleConnection, collection: &str) -> Self {
        Self {
            indexes: DeclaredIndexes::of_model::<T>(connection.clone(), collection),
            connection,
            collection: Arc::from(collection),
            handle: Arc::new(OnceLock::new()),
            entity: PhantomData,
        }
    }

    /// The collection's name.
    pub fn collection_name(&self) -> &str {
        &self.collection
    }

    /// The connection the repository uses.
    pub fn connection(&self) -> &RoleConnection {
        &self.connection
    }

    /// The collection's declared indexes (see [`crate::DeclaredIndexes`]).
    pub(crate) fn indexes(&self) -> &DeclaredIndexes {
        &self.indexes
    }

    /// Before a write while the unique indexes are refused: the duplicate the index would
    /// have caught, found by reading.
    async fn check_unique_by_reading(
        &self,
        collection: &Collection<Document>,
        document: &Document,
    ) -> Result<(), RepositoryError> {
        // With auto-index off (`MONGO_AUTO_INDEX=false`) a write never sends `createIndexes`:
        // only an outcome already decided (by an explicit `ensure_indexes`) is used.
        let status = if self.connection.auto_index() {
            Some(self.ensure_indexes().await?)
        } else {
            self.index_status()
        };
        if !matches!(status, Some(IndexStatus::Refused { .. })) {
            return Ok(());
        }
        match self.taken_unique_key(collection, document).await {
            Some(key) => Err(Conflict::Duplicate {
                model: T::NAME,
                key,
            }
            .into()),
            None => Ok(()),
        }
    }

    async fn collection(&self) -> Result<Collection<Document>, RepositoryError> {
        let database = self.connection.database().await?;
        Ok(self.handle_in(&database))
    }

    /// The collection for a write: [`RepositoryError::ReadOnly`] on a read-only role, before
    /// anything is sent ([`RoleConnection::database_for_writes`]).
    async fn writable_collection(&self) -> Result<Collection<Document>, RepositoryError> {
        let database = self.connection.database_for_writes().await?;
        Ok(self.handle_in(&database))
    }

    /// The collection's handle, made in `database` the first time: the role's database
    /// never changes, and a new handle per operation cost allocations on every request.
    fn handle_in(&self, database: &mongodb::Database) -> Collection<Document> {
        self.handle
            .get_or_init(|| database.collection(&self.collection))
            .clone()
    }

    fn not_found(id: Id<T>) -> RepositoryError {
        RepositoryError::NotFound {
            model: T::NAME,
            id: id.to_string(),
        }
    }

    fn stale(id: Id<T>) -> RepositoryError {
        Conflict::StaleVersion {
            model: T::NAME,
            id: id.to_string(),
        }
        .into()
    }

    /// What a duplicate key on a write is reported as, before reading which: the model's one
    /// unique field, or, with several or none (a unique index Mongoose added), a generic key.
    fn unique() -> Option<(&'static str, &'static str)> {
        let mut fields = indexes::unique_fields::<T>();
        match (fields.next(), fields.next()) {
            (Some(field), None) => Some((T::NAME, field)),
            _ => Some((T::NAME, OTHER_UNIQUE_KEY)),
        }
    }

    /// `error`, with the duplicate's key found by reading when the write could have hit
    /// several.
    async fn named_duplicate(
        &self,
        collection: &Collection<Document>,
        document: &Document,
        error: RepositoryError,
    ) -> RepositoryError {
        let RepositoryError::Conflict(Conflict::Duplicate {
            key: OTHER_UNIQUE_KEY,
            ..
        }) = error
        else {
            return error;
        };
        match self.taken_unique_key(collection, document).await {
            Some(key) => Conflict::Duplicate {
                model: T::NAME,
                key,
            }
            .into(),
            None => error,
        }
    }

    /// The first unique field whose value in `document` another stored record holds.
    async fn taken_unique_key(
        &self,
        collection: &Collection<Document>,
        document: &Document,
    ) -> Option<&'static str> {
        for field in indexes::unique_fields::<T>() {
            let Some(value) = document.get(field) else {
                continue;
            };
            let taken = doc! { field: value.clone(), "_id": { "$ne": document.get("_id") } };
            let found = collection.find_one(taken).projection(doc! { "_id": 1 });
            if let Ok(Some(_)) = found.await {
                return Some(field);
            }
        }
        None
    }

    /// Maps a driver error and logs what is not the caller's doing.
    fn fail(
        &self,
        err: &mongodb::error::Error,
        unique: Option<(&'static str, &'static str)>,
    ) -> RepositoryError {
        let mapped = self.connection.map_error(err, unique);
        match &mapped {
            RepositoryError::Unavailable { .. } => {
                tracing::warn!(collection = %self.collection, error = %mapped, "database unavailable");
            }
            RepositoryError::Internal(_) => {
                tracing::error!(collection = %self.collection, error = %mapped, "database operation failed");
            }
            _ => {}
        }
        mapped
    }

    /// Why a version-guarded write matched nothing: the record is gone, or someone saved it
    /// since it was read.
    async fn missing_or_stale(
        &self,
        collection: &Collection<Document>,
        id: Id<T>,
    ) -> RepositoryError {
        let exists = collection
            .find_one(doc! { "_id": object_id(id) })
            .projection(doc! { "_id": 1 })
            .await
            .map(|found| found.is_some());
        match exists {
            Ok(true) => Self::stale(id),
            Ok(false) => Self::not_found(id),
            Err(err) => self.fail(&err, None),
        }
    }

    /// The records `documents` hold, leaving out (and logging, with its id) any document that
    /// does not read as the model, and how many were left out.
    fn readable(&self, documents: &[RawDocumentBuf]) -> (Vec<Record<T>>, u64) {
        let mut unreadable = 0;
        let records = documents
            .iter()
            .filter_map(|document| match from_document(document, &self.collection) {
                Ok(record) => Some(record),
                Err(err) => {
                    unreadable += 1;
                    tracing::error!(error = %err, "a stored document left out of a list");
                    None
                }
            })
            .collect();
        (records, unreadable)
    }

    /// Answers from the server prove it is reachable: keeps the state current between
    /// monitoring heartbeats.
    fn answered<V>(&self, value: V) -> V {
        self.connection.answered();
        value
    }
}

#[async_trait]
impl<T: Entity> Repository<T> for MongoRepository<T> {
    async fn create(&self, entity: T) -> Result<Record<T>, RepositoryError> {
        let record = Record::new(entity);
        let document = to_document(&record)?;
        let collection = self.writable_collection().await?;
        self.check_unique_by_reading(&collection, &document).await?;
        if let Err(err) = collection.insert_one(&document).await {
            let error = self.fail(&err, Self::unique());
            return Err(self.named_duplicate(&collection, &document, error).await);
        }
        Ok(self.answered(record))
    }

    async fn get(&self, id: Id<T>) -> Result<Record<T>, RepositoryError> {
        let found = self
            .collection()
            .await?
            .clone_with_type::<RawDocumentBuf>()
            .find_one(doc! { "_id": object_id(id) })
            .await
            .map_err(|err| self.fail(&err, None))?;
        match self.answered(found) {
            Some(document) => from_document(&document, &self.collection),
            None => Err(Self::not_found(id)),
        }
    }

    async fn list(&self, query: ListQuery<T>) -> Result<Listing<T>, RepositoryError> {
        let collection = self.collection().await?;
        let page = query.page();
        let limit = page.limit() as usize;
        // One more than the page tells whether a next page exists.
        let documents: Vec<RawDocumentBuf> = collection
            .clone_with_type::<RawDocumentBuf>()
            .find(selection::page_filter(&query))
            .sort(doc! { "_id": 1 })
            .skip(page.skip())
            .limit(i64::from(page.limit()) + 1)
            .await
            .map_err(|err| self.fail(&err, None))?
            .try_collect()
            .await
            .map_err(|err| self.fail(&err, None))?;
        let documents = self.answered(documents);
        let more = documents.len() > limit;
        let on_page = &documents[..documents.len().min(limit)];
        let (records, unreadable) = self.readable(on_page);
        // The cursor is the last document's, read or not, so a walk never meets it again.
        let last = on_page.last().and_then(|d| d.get_object_id("_id").ok());
        let total = if query.wants_total() {
            let count = collection.count_documents(selection::filter(&query)).await;
            Some(count.map_err(|err| self.fail(&err, None))?)
        } else {
            None
        };
        Ok(Listing {
            next_after: more
                .then(|| last.map(|oid| Id::from_bytes(oid.bytes())))
                .flatten(),
            records,
            total,
            unreadable,
        })
    }

    async fn update(&self, record: Record<T>) -> Result<Record<T>, RepositoryError> {
        let collection = self.writable_collection().await?;
        let id = record.id();
        // Read the stored document first: to carry over the fields this crate does not own
        // (see `with_foreign_fields`), and to see writes that moved `updatedAt` but not `__v`.
        let stored = collection
            .find_one(versioned_filter(id, record.version()))
            .await
            .map_err(|err| self.fail(&err, None))?;
        let Some(stored) = self.answered(stored) else {
            return Err(self.missing_or_stale(&collection, id).await);
        };
        if saved_since(&stored, &record) {
            return Err(Self::stale(id));
        }
        let mut filter = versioned_filter(id, record.version());
        filter.extend(unchanged_since_read(&stored));
        let saved = record.saved();
        let document = with_foreign_fields::<T>(stored, to_document(&saved)?);
        self.check_unique_by_reading(&collection, &document).await?;
        let result = match collection.replace_one(filter, &document).await {
            Ok(result) => result,
            Err(err) => {
                let error = self.fail(&err, Self::unique());
                return Err(self.named_duplicate(&collection, &document, error).await);
            }
        };
        match result.matched_count {
            0 => Err(self.missing_or_stale(&collection, id).await),
            _ => Ok(saved),
        }
    }

    async fn delete(&self, id: Id<T>) -> Result<(), RepositoryError> {
        let result = self
            .writable_collection()
            .await?
            .delete_one(doc! { "_id": object_id(id) })
            .await
            .map_err(|err| self.fail(&err, None))?;
        match self.answered(result.deleted_count) {
            0 => Err(Self::not_found(id)),
            _ => Ok(()),
        }
    }

    async fn delete_if(
        &self,
        id: Id<T>,
        version: domain::Version,
        updated_at: domain::Timestamp,
    ) -> Result<(), RepositoryError> {
        // One guarded `delete_one`: the version and `updatedAt` are checked by the server as
        // it deletes, never read first. A document without `updatedAt` cannot tell that date
        // and relies on `__v` alone, as an update does (see `saved_since`).
        let mut filter = versioned_filter(id, version);
        let read_at = mongodb::bson::DateTime::from_millis(updated_at.millis());
        filter.insert(
            "$or",
            vec![
                doc! { "updatedAt": read_at },
                doc! { "updatedAt": { "$exists": false } },
            ],
        );
        let collection = self.writable_collection().await?;
        let result = collection
            .delete_one(filter)
            .await
            .map_err(|err| self.fail(&err, None))?;
        match self.answered(result.deleted_count) {
            0 => Err(self.missing_or_stale(&collection, id).await),
            _ => Ok(()),
        }
    }

    async fn count(&self) -> Result<u64, RepositoryError> {
        let count = self
            .collection()
            .await?
            .count_documents(doc! {})
            .await
            .map_err(|err| self.fail(&err, None))?;
        Ok(self.answered(count))
    }
}

impl<T> Clone for MongoRepository<T> {
    fn clone(&self) -> Self {
        Self {
            connection: self.connection.clone(),
            collection: Arc::clone(&self.collection),
            handle: Arc::clone(&self.handle),
            indexes: self.indexes.clone(),
            entity: PhantomData,
        }
    }
}

impl<T> fmt::Debug for MongoRepository<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoRepository")
            .field("collection", &self.collection)
            .field("connection", &self.connection)
            .finish()
    }
}
