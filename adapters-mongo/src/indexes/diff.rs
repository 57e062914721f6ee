//! The declared indexes compared with those a collection holds: by keys and options, never by
//! name. An index present with the keys of a declared one but other options is a conflict: it
//! cannot be fixed without dropping it, so a sync reports it and leaves it alone.

use futures::TryStreamExt;
use mongodb::bson::Document;
use mongodb::error::ErrorKind;
use mongodb::IndexModel;
use ports::{IndexConflict, IndexDiff, IndexKey, IndexSpec, RepositoryError};

use super::{declared, DeclaredIndexes};

/// The server code of `NamespaceNotFound`: `listIndexes` on a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;
/// The name MongoDB gives the index on `_id`, which every collection has and none may drop.
const ID_INDEX: &str = "_id_";

impl DeclaredIndexes {
    /// How the collection's indexes differ from those declared, compared by keys and options,
    /// never by name (see [`IndexDiff`]); a collection that does not exist yet has every
    /// declared index missing. Reads the index list only; creates nothing.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached;
    /// [`RepositoryError::Internal`] when the server refuses to list the indexes.
    pub async fn diff(&self) -> Result<IndexDiff, RepositoryError> {
        let present = self.present_indexes().await?;
        Ok(compare(&self.declared, present))
    }

    /// The indexes the collection holds; none when it does not exist.
    async fn present_indexes(&self) -> Result<Vec<IndexSpec>, RepositoryError> {
        let collection = self
            .connection
            .database()
            .await?
            .collection::<Document>(&self.collection);
        let listed = match collection.list_indexes().await {
            Ok(cursor) => cursor.try_collect::<Vec<IndexModel>>().await,
            Err(err) => Err(err),
        };
        match listed {
            Ok(models) => {
                self.connection.answered();
                Ok(models.into_iter().map(declared::from_model).collect())
            }
            Err(err) if namespace_not_found(&err) => {
                self.connection.answered();
                Ok(Vec::new())
            }
            Err(err) => Err(self.connection.map_error(&err, None)),
        }
    }
}

/// `present` against `declared`, by keys and options; the `_id` index is never extra.
pub(crate) fn compare(declared: &[IndexSpec], present: Vec<IndexSpec>) -> IndexDiff {
    let mut present: Vec<Option<IndexSpec>> = present
        .into_iter()
        .filter(|index| !is_id_index(index))
        .map(Some)
        .collect();
    let mut diff = IndexDiff::default();
    for wanted in declared {
        let position = |same_options: bool| {
            present.iter().position(|slot| {
                slot.as_ref().is_some_and(|found| {
                    found.keys == wanted.keys && (!same_options || found.same_options(wanted))
                })
            })
        };
        if let Some(exact) = position(true) {
            present[exact] = None;
        } else if let Some(other) = position(false) {
            if let Some(found) = present[other].take() {
                diff.conflicting
                    .push(IndexConflict::new(wanted.clone(), found));
            }
        } else {
            diff.missing.push(wanted.clone());
        }
    }
    diff.extra = present.into_iter().flatten().collect();
    diff
}

/// Whether `index` is the `_id` index every collection has, which is never extra.
pub(crate) fn is_id_index(index: &IndexSpec) -> bool {
    index.name.as_deref() == Some(ID_INDEX) || index.keys == [IndexKey::ascending("_id")]
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
    use crate::indexes::index_keys;

    fn found(name: &str, keys: Document, unique: bool) -> IndexSpec {
        let index = IndexSpec::new(index_keys(&keys)).named(name);
        if unique {
            index.unique()
        } else {
            index
        }
    }

    #[test]
    fn an_empty_collection_misses_every_declared_index() {
        let declared = declared::of_model::<Branch>();
        let diff = compare(&declared, Vec::new());
        assert_eq!(diff.missing.len(), declared.len());
        assert!(diff
            .missing
            .iter()
            .any(|i| i.keys == index_keys(&doc! { "name": 1 }) && i.unique));
        assert!(diff.extra.is_empty() && diff.conflicting.is_empty());
        assert!(!diff.is_clean());
    }

    #[test]
    fn indexes_are_compared_by_keys_and_unique_never_by_name() {
        let declared = vec![
            IndexSpec::new(vec![IndexKey::ascending("name")]),
            IndexSpec::new(vec![IndexKey::ascending("email")]).unique(),
        ];
        let present = vec![
            found("_id_", doc! { "_id": 1 }, false),
            found("idx_x_name", doc! { "name": 1.0 }, false),
            found("whatever", doc! { "email": 1_i64 }, true),
        ];
        assert!(compare(&declared, present).is_clean());

        let present = vec![
            found("_id_", doc! { "_id": 1 }, false),
            found("email_1", doc! { "email": 1 }, false),
            found("location_1", doc! { "location": 1 }, false),
            found("name_-1", doc! { "name": -1 }, false),
        ];
        let diff = compare(&declared, present);
        assert_eq!(diff.missing.len(), 1);
        assert_eq!(diff.missing[0].keys, index_keys(&doc! { "name": 1 }));
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
        let declared = &declared::of_model::<Branch>()[0];
        assert_eq!(declared.to_string(), "{name: 1} unique");
    }
}
