//! The declared indexes compared with those a collection holds, and brought in line: what
//! Mongoose's `diffIndexes` and `syncIndexes` do, for operators who create indexes themselves
//! (`MONGO_AUTO_INDEX=false`, then `app indexes --sync`) rather than on a request's first write.
//!
//! Indexes are compared by their keys (fields, in order, and directions) and their `unique`
//! option, never by name: the same index may be named `name_1` by Mongoose, by this crate or
//! by the driver, and something else by an operator or another server. An index present with
//! the keys of a declared one but another `unique` option is a conflict: it cannot be fixed
//! without dropping it, so a sync reports it and leaves it alone.

use std::fmt;
use std::time::Duration;

use domain::Entity;
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document};
use mongodb::error::ErrorKind;
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use ports::RepositoryError;

use crate::indexes;
use crate::manager::RoleConnection;
use crate::repository::MongoRepository;

/// The server code of `NamespaceNotFound`: `listIndexes` on a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;
/// The name MongoDB gives the index on `_id`, which every collection has and none may drop.
const ID_INDEX: &str = "_id_";

/// One index, as a model declares it or as a collection holds it: what two indexes are
/// compared by (keys and `unique`), and the name to drop one by.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IndexSpec {
    /// The server's name for an index found in a collection; `None` for a declared index,
    /// whose name is whatever the server gives it.
    pub name: Option<String>,
    /// The indexed fields in order, each with its direction (`1`, `-1`) or kind (`"text"`).
    pub keys: Document,
    /// Whether the index refuses two documents with the same values.
    pub unique: bool,
    /// For a TTL index, how long after the date in its field a document is removed.
    pub expire_after: Option<Duration>,
}

impl IndexSpec {
    fn declared(model: IndexModel) -> Self {
        Self {
            name: None,
            ..Self::found(model)
        }
    }

    fn found(model: IndexModel) -> Self {
        let options = model.options.as_ref();
        Self {
            name: options.and_then(|o| o.name.clone()),
            unique: options.and_then(|o| o.unique) == Some(true),
            expire_after: options.and_then(|o| o.expire_after),
            keys: model.keys,
        }
    }

    /// The index to create for it, as it was declared.
    fn model(&self) -> IndexModel {
        let options = (self.unique || self.expire_after.is_some()).then(|| {
            IndexOptions::builder()
                .unique(self.unique.then_some(true))
                .expire_after(self.expire_after)
                .build()
        });
        IndexModel::builder()
            .keys(self.keys.clone())
            .options(options)
            .build()
    }

    /// Whether `other` has this index's options (its keys aside).
    fn same_options(&self, other: &IndexSpec) -> bool {
        self.unique == other.unique && self.expire_after == other.expire_after
    }

    /// Whether this is the `_id` index every collection has, which is never extra.
    fn is_id_index(&self) -> bool {
        self.name.as_deref() == Some(ID_INDEX) || same_keys(&self.keys, &id_keys())
    }
}

impl fmt::Display for IndexSpec {
    /// `{name: 1} unique (idx_branches_name)`: keys, `unique` when set, the name when known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|(field, direction)| format!("{field}: {direction}"))
            .collect();
        write!(f, "{{{}}}", keys.join(", "))?;
        if self.unique {
            write!(f, " unique")?;
        }
        if let Some(after) = self.expire_after {
            write!(f, " expiring {}s after", after.as_secs())?;
        }
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

/// A declared index whose keys a collection indexes with another `unique` option: a unique
/// field indexed plainly (as Mongoose's `index: true` leaves it), which the database then
/// does not enforce, or the reverse. MongoDB refuses to create the declared one next to it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IndexConflict {
    /// The index as the model declares it.
    pub declared: IndexSpec,
    /// The index the collection holds over the same keys.
    pub present: IndexSpec,
}

/// How one collection's indexes differ from those its model declares: what an operator must
/// create, may drop, and must resolve by hand before the database enforces what the model
/// says. Read with [`MongoRepository::index_diff`]; a collection that does not exist yet has
/// every declared index missing.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct IndexDiff {
    /// Declared, and absent: no index over these keys.
    pub missing: Vec<IndexSpec>,
    /// Present, and not declared (the `_id` index aside): left by Mongoose, another service or
    /// an operator. Kept by a sync unless it is asked to drop them.
    pub extra: Vec<IndexSpec>,
    /// Present over the keys of a declared index, with another `unique` option.
    pub conflicting: Vec<IndexConflict>,
}

impl IndexDiff {
    /// Whether the collection holds exactly the declared indexes (and `_id`).
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.conflicting.is_empty()
    }
}

/// An index a sync could not create or drop, and the server's answer: legacy duplicates under
/// a unique field, say, which must be removed first.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IndexRefusal {
    /// The index.
    pub index: IndexSpec,
    /// What the server answered, as the repository maps it.
    pub reason: String,
}

/// What [`MongoRepository::sync_indexes`] did to one collection, and how it differs from the
/// declaration afterwards, read again from the server.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct IndexSync {
    /// The missing indexes created.
    pub created: Vec<IndexSpec>,
    /// The extra indexes dropped (only when asked to).
    pub dropped: Vec<IndexSpec>,
    /// The extra indexes kept, because dropping was not asked for.
    pub kept: Vec<IndexSpec>,
    /// What the server refused to create or drop.
    pub refused: Vec<IndexRefusal>,
    /// The collection's indexes against the declaration after the sync: conflicts remain
    /// (they cannot be fixed without dropping an index the model's keys rely on), and so do
    /// extras that were kept and anything refused.
    pub after: IndexDiff,
}

/// One collection with the indexes declared for it: what a diff and a sync compare and bring
/// in line. A model's collection ([`MongoRepository::declared_indexes`]) or another one the
/// service keeps (its idempotency records), on one role.
#[derive(Debug, Clone)]
pub struct DeclaredIndexes {
    connection: RoleConnection,
    collection: String,
    declared: Vec<IndexSpec>,
}

impl<T: Entity> MongoRepository<T> {
    /// The model's collection with the indexes the model declares.
    pub fn declared_indexes(&self) -> DeclaredIndexes {
        DeclaredIndexes::new(
            self.connection().clone(),
            self.collection_name(),
            indexes::declared::<T>(),
        )
    }

    /// See [`DeclaredIndexes::diff`].
    ///
    /// # Errors
    /// As [`DeclaredIndexes::diff`].
    pub async fn index_diff(&self) -> Result<IndexDiff, RepositoryError> {
        self.declared_indexes().diff().await
    }

    /// See [`DeclaredIndexes::sync`].
    ///
    /// # Errors
    /// As [`DeclaredIndexes::sync`].
    pub async fn sync_indexes(&self, drop_extra: bool) -> Result<IndexSync, RepositoryError> {
        self.declared_indexes().sync(drop_extra).await
    }
}

impl DeclaredIndexes {
    /// `collection` on `connection`'s role, declared to have `declared` (and `_id`).
    pub fn new(connection: RoleConnection, collection: &str, declared: Vec<IndexModel>) -> Self {
        Self {
            connection,
            collection: collection.to_owned(),
            declared: declared.into_iter().map(IndexSpec::declared).collect(),
        }
    }

    /// The collection's name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// The name of the role's database.
    pub fn database(&self) -> &str {
        self.connection.database_name()
    }

    fn connection(&self) -> &RoleConnection {
        &self.connection
    }

    fn collection_name(&self) -> &str {
        &self.collection
    }

    /// How the collection's indexes differ from those declared, compared by keys and
    /// `unique`, never by name (see [`IndexDiff`]). Reads the index list only; creates
    /// nothing.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached;
    /// [`RepositoryError::Internal`] when the server refuses to list the indexes.
    pub async fn diff(&self) -> Result<IndexDiff, RepositoryError> {
        let present = self.present_indexes().await?;
        Ok(compare(self.declared.clone(), present))
    }

    /// Creates the declared indexes that are missing, one at a time; drops the extra ones
    /// (never `_id`) only when `drop_extra` is set; leaves conflicting ones alone. Then reads
    /// the indexes again to say what still differs ([`IndexSync::after`]). Unlike the
    /// creation before a first write ([`Self::ensure_indexes`]), this is meant to be run by an
    /// operator (`app indexes --sync`), and it is run again each time it is called.
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
            .connection()
            .database_for_writes()
            .await?
            .collection::<Document>(self.collection_name());
        let mut sync = IndexSync::default();
        for index in before.missing {
            match collection.create_index(index.model()).await {
                Ok(_) => {
                    tracing::info!(collection = %self.collection_name(), %index, "index created");
                    sync.created.push(index);
                }
                Err(err) => sync.refused.push(self.refusal(&err, index, "created")?),
            }
        }
        for index in before.extra {
            let name = match &index.name {
                Some(name) if drop_extra && !index.is_id_index() => name.clone(),
                _ => {
                    sync.kept.push(index);
                    continue;
                }
            };
            match collection.drop_index(name).await {
                Ok(()) => {
                    tracing::info!(collection = %self.collection_name(), %index, "index dropped");
                    sync.dropped.push(index);
                }
                Err(err) => sync.refused.push(self.refusal(&err, index, "dropped")?),
            }
        }
        for conflict in &before.conflicting {
            tracing::warn!(
                collection = %self.collection_name(),
                declared = %conflict.declared,
                present = %conflict.present,
                "an index over the declared keys has other options: not changed; drop it and \
                 sync again to create the declared one"
            );
        }
        sync.after = self.diff().await?;
        Ok(sync)
    }

    /// The indexes the collection holds; none when it does not exist.
    async fn present_indexes(&self) -> Result<Vec<IndexSpec>, RepositoryError> {
        let fail = |err: mongodb::error::Error| self.connection().map_error(&err, None);
        let collection = self
            .connection()
            .database()
            .await?
            .collection::<Document>(self.collection_name());
        let listed = match collection.list_indexes().await {
            Ok(cursor) => cursor.try_collect::<Vec<IndexModel>>().await,
            Err(err) => Err(err),
        };
        match listed {
            Ok(models) => {
                self.connection().answered();
                Ok(models.into_iter().map(IndexSpec::found).collect())
            }
            Err(err) if namespace_not_found(&err) => {
                self.connection().answered();
                Ok(Vec::new())
            }
            Err(err) => Err(fail(err)),
        }
    }

    /// `err` from creating or dropping `index`: unreachable is the caller's error, anything
    /// else the server answered is a refusal to report.
    fn refusal(
        &self,
        err: &mongodb::error::Error,
        index: IndexSpec,
        what: &str,
    ) -> Result<IndexRefusal, RepositoryError> {
        match self.connection().map_error(err, None) {
            unavailable @ RepositoryError::Unavailable { .. } => Err(unavailable),
            refused => {
                tracing::warn!(
                    collection = %self.collection_name(), %index, error = %refused,
                    "the index could not be {what}"
                );
                Ok(IndexRefusal {
                    index,
                    reason: refused.to_string(),
                })
            }
        }
    }
}

/// The indexes `T` declares, as compared.
#[cfg(test)]
fn declared_specs<T: Entity>() -> Vec<IndexSpec> {
    indexes::declared::<T>()
        .into_iter()
        .map(IndexSpec::declared)
        .collect()
}

/// `present` against `declared`, by keys and `unique`; the `_id` index is never extra.
pub(crate) fn compare(declared: Vec<IndexSpec>, present: Vec<IndexSpec>) -> IndexDiff {
    let mut present: Vec<Option<IndexSpec>> = present
        .into_iter()
        .filter(|index| !index.is_id_index())
        .map(Some)
        .collect();
    let mut diff = IndexDiff::default();
    for wanted in declared {
        let position = |same_unique: bool| {
            present.iter().position(|slot| {
                slot.as_ref().is_some_and(|found| {
                    same_keys(&found.keys, &wanted.keys)
                        && (!same_unique || found.same_options(&wanted))
                })
            })
        };
        if let Some(exact) = position(true) {
            present[exact] = None;
        } else if let Some(other) = position(false) {
            if let Some(found) = present[other].take() {
                diff.conflicting.push(IndexConflict {
                    declared: wanted,
                    present: found,
                });
            }
        } else {
            diff.missing.push(wanted);
        }
    }
    diff.extra = present.into_iter().flatten().collect();
    diff
}

/// The same fields in the same order with the same directions: `1`, `1.0` and `1_i64` are
/// the same direction, as the server stores whichever number it was given.
fn same_keys(a: &Document, b: &Document) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((field_a, a), (field_b, b))| field_a == field_b && same_direction(a, b))
}

fn same_direction(a: &Bson, b: &Bson) -> bool {
    match (number(a), number(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        // Index directions are 1 or -1: no precision is lost.
        #[allow(clippy::cast_precision_loss)]
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    }
}

fn id_keys() -> Document {
    mongodb::bson::doc! { "_id": 1 }
}

/// Whether `err` says the collection does not exist (MongoDB's answer to `listIndexes` then).
fn namespace_not_found(err: &mongodb::error::Error) -> bool {
    matches!(err.kind.as_ref(), ErrorKind::Command(e) if e.code == NAMESPACE_NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use domain::Branch;
    use mongodb::bson::doc;

    use super::*;

    fn found(name: &str, keys: Document, unique: bool) -> IndexSpec {
        IndexSpec {
            name: Some(name.to_owned()),
            keys,
            unique,
            expire_after: None,
        }
    }

    #[test]
    fn an_empty_collection_misses_every_declared_index() {
        let diff = compare(declared_specs::<Branch>(), Vec::new());
        assert_eq!(diff.missing.len(), declared_specs::<Branch>().len());
        assert!(diff
            .missing
            .iter()
            .any(|i| i.keys == doc! { "name": 1 } && i.unique));
        assert!(diff.extra.is_empty() && diff.conflicting.is_empty());
        assert!(!diff.is_clean());
    }

    #[test]
    fn indexes_are_compared_by_keys_and_unique_never_by_name() {
        let declared = vec![
            IndexSpec::declared(IndexModel::builder().keys(doc! { "name": 1 }).build()),
            IndexSpec {
                name: None,
                keys: doc! { "email": 1 },
                unique: true,
                expire_after: None,
            },
        ];
        let present = vec![
            found("_id_", doc! { "_id": 1 }, false),
            found("idx_x_name", doc! { "name": 1.0 }, false),
            found("whatever", doc! { "email": 1_i64 }, true),
        ];
        assert!(compare(declared.clone(), present).is_clean());

        let present = vec![
            found("_id_", doc! { "_id": 1 }, false),
            found("email_1", doc! { "email": 1 }, false),
            found("location_1", doc! { "location": 1 }, false),
            found("name_-1", doc! { "name": -1 }, false),
        ];
        let diff = compare(declared, present);
        assert_eq!(diff.missing.len(), 1);
        assert_eq!(diff.missing[0].keys, doc! { "name": 1 });
        let extra: Vec<_> = diff.extra.iter().map(|i| i.name.as_deref()).collect();
        assert_eq!(extra, [Some("location_1"), Some("name_-1")]);
        assert_eq!(diff.conflicting.len(), 1);
        let conflict = &diff.conflicting[0];
        assert!(conflict.declared.unique && !conflict.present.unique);
        assert_eq!(conflict.present.name.as_deref(), Some("email_1"));
    }

    #[test]
    fn an_index_is_shown_by_its_keys_its_uniqueness_and_its_name() {
        let index = found("idx_branches_name", doc! { "name": 1, "at": -1 }, true);
        assert_eq!(
            index.to_string(),
            "{name: 1, at: -1} unique (idx_branches_name)"
        );
        let declared = &declared_specs::<Branch>()[0];
        assert_eq!(declared.to_string(), "{name: 1} unique");
    }
}
