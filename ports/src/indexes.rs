//! What a collection's declared indexes are, and what became of them in a store, in words
//! every backend and every tool shares: an index ([`IndexSpec`]), how a collection differs
//! from its declaration ([`IndexDiff`]), what a sync did ([`IndexSync`]), what the creation
//! before a first write decided ([`IndexStatus`]) and the one thing a store may answer to any
//! of them, a refusal ([`IndexRefusal`]).
//!
//! [`IndexedCollection`] is the contract a backend with indexes honours for one collection:
//! a model's, or another one a service keeps (its idempotency records). The in-memory backend
//! has no indexes and implements none.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::role::Role;

/// One field of an index, in the index's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKey {
    /// The field (`name`, `items.sku`).
    pub field: String,
    /// How the field is indexed.
    pub order: KeyOrder,
}

impl IndexKey {
    /// `field`, ascending (`1`): what a declared field gets.
    pub fn ascending(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            order: KeyOrder::Ascending,
        }
    }

    /// `field`, descending (`-1`).
    pub fn descending(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            order: KeyOrder::Descending,
        }
    }
}

/// How one field of an index is indexed. Two keys are the same key when their orders are
/// equal, however the store wrote the number (`1`, `1.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyOrder {
    /// `1`.
    Ascending,
    /// `-1`.
    Descending,
    /// A kind of index rather than an order: `text`, `2dsphere`, `hashed`.
    Kind(String),
    /// Any other value a store holds (a number other than `1` and `-1`), as it shows it.
    Other(String),
}

impl fmt::Display for KeyOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrder::Ascending => f.write_str("1"),
            KeyOrder::Descending => f.write_str("-1"),
            KeyOrder::Kind(kind) => write!(f, "\"{kind}\""),
            KeyOrder::Other(value) => f.write_str(value),
        }
    }
}

/// One index, as a collection's declaration says it or as a store holds it: what two indexes
/// are compared by (keys and options, never the name), and the name to drop one by.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexSpec {
    /// The store's name for an index found in a collection; `None` for a declared index,
    /// whose name is whatever the store gives it.
    pub name: Option<String>,
    /// The indexed fields, in order.
    pub keys: Vec<IndexKey>,
    /// Whether the index refuses two documents with the same values.
    pub unique: bool,
    /// For a TTL index, how long after the date in its field a document is removed.
    pub expire_after: Option<Duration>,
}

impl IndexSpec {
    /// A plain, unnamed index over `keys`.
    pub fn new(keys: Vec<IndexKey>) -> Self {
        Self {
            name: None,
            keys,
            unique: false,
            expire_after: None,
        }
    }

    /// The same index, refusing two documents with the same values.
    #[must_use]
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// The same index, removing a document `after` the date in its field.
    #[must_use]
    pub fn expiring_after(mut self, after: Duration) -> Self {
        self.expire_after = Some(after);
        self
    }

    /// The same index, as a store names it.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether `other` has this index's options (`unique`, expiry), its keys aside.
    pub fn same_options(&self, other: &IndexSpec) -> bool {
        self.unique == other.unique && self.expire_after == other.expire_after
    }
}

impl fmt::Display for IndexSpec {
    /// `{name: 1} unique (idx_branches_name)`: keys, `unique` when set, the name when known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("{}: {}", key.field, key.order))
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

/// A declared index whose keys a collection indexes with other options: a unique field
/// indexed plainly (as Mongoose's `index: true` leaves it), which the store then does not
/// enforce, or the reverse. A store refuses to create the declared one next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexConflict {
    /// The index as declared.
    pub declared: IndexSpec,
    /// The index the collection holds over the same keys.
    pub present: IndexSpec,
}

impl IndexConflict {
    /// `present`, in the way of `declared`.
    pub fn new(declared: IndexSpec, present: IndexSpec) -> Self {
        Self { declared, present }
    }
}

/// How one collection's indexes differ from those declared for it: what an operator must
/// create, may drop, and must resolve by hand before the store enforces the declaration. A
/// collection that does not exist yet has every declared index missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexDiff {
    /// Declared, and absent: no index over these keys.
    pub missing: Vec<IndexSpec>,
    /// Present, and not declared (the store's own index on the id aside): left by Mongoose,
    /// another service or an operator. Kept by a sync unless it is asked to drop them.
    pub extra: Vec<IndexSpec>,
    /// Present over the keys of a declared index, with other options.
    pub conflicting: Vec<IndexConflict>,
}

impl IndexDiff {
    /// Whether the collection holds exactly the declared indexes (and the id's).
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.conflicting.is_empty()
    }
}

/// The store's refusal to create or drop indexes, and its answer: legacy duplicates under a
/// unique field, or an index over the same keys with other options, which an operator must
/// resolve first. The one refusal of the index vocabulary: a sync's
/// ([`IndexSync::refused`]), the creation before a first write's ([`IndexStatus::Refused`]),
/// and what a service reports of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexRefusal {
    /// The indexes the store was asked for: the one a sync created or dropped, or every
    /// declared index of the collection when they were created together.
    pub indexes: Vec<IndexSpec>,
    /// What the store answered, as the repository maps it.
    pub reason: String,
}

impl IndexRefusal {
    /// `indexes` refused, for `reason`.
    pub fn new(indexes: Vec<IndexSpec>, reason: impl Into<String>) -> Self {
        Self {
            indexes,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for IndexRefusal {
    /// `{name: 1} unique: <reason>`, the indexes separated by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let indexes: Vec<String> = self.indexes.iter().map(ToString::to_string).collect();
        write!(f, "{}: {}", indexes.join(", "), self.reason)
    }
}

/// What a sync did to one collection, and how it differs from the declaration afterwards,
/// read again from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexSync {
    /// The missing indexes created.
    pub created: Vec<IndexSpec>,
    /// The extra indexes dropped (only when asked to).
    pub dropped: Vec<IndexSpec>,
    /// The extra indexes kept, because dropping was not asked for.
    pub kept: Vec<IndexSpec>,
    /// What the store refused to create or drop, one index each.
    pub refused: Vec<IndexRefusal>,
    /// The collection's indexes against the declaration after the sync: conflicts remain
    /// (they cannot be fixed without dropping an index the declared keys rely on), and so do
    /// extras that were kept and anything refused.
    pub after: IndexDiff,
}

/// What became of a collection's declared indexes when they were created before its first
/// write: decided once, never retried per write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexStatus {
    /// Every declared index exists: the store enforces the unique fields.
    Ready,
    /// The store refused them. Writes go on; a repository checks unique fields by reading
    /// first, which a concurrent writer can race.
    Refused(IndexRefusal),
}

/// One stored collection with the indexes declared for it, on one role: what a backend with
/// indexes offers tools (`app check`, `app indexes`), for a model's collection or another one
/// a service keeps. Indexes are compared by keys and options, never by name: the same index
/// may be named differently by every tool that created it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IndexedCollection: Send + Sync {
    /// The role whose database holds the collection.
    fn role(&self) -> Role;

    /// The name of the role's database.
    fn database(&self) -> &str;

    /// The collection's name.
    fn collection(&self) -> &str;

    /// Whether the declared indexes are created by the first write, without an operator:
    /// auto-index on and the role writable. A tool that only reads must not create them
    /// otherwise.
    fn created_by_writes(&self) -> bool;

    /// What became of the declared indexes, once [`Self::ensure`] or a write has tried;
    /// `None` before. Does no I/O.
    fn status(&self) -> Option<IndexStatus>;

    /// Creates the declared indexes if that was not tried yet, and says what became of them:
    /// decided once, a refusal kept and never retried.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the store cannot be reached: the next call
    /// tries again. [`RepositoryError::ReadOnly`] on a read-only role, which builds no index.
    async fn ensure(&self) -> Result<IndexStatus, RepositoryError>;

    /// How the collection's indexes differ from those declared ([`IndexDiff`]). Reads the
    /// index list only; creates nothing.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the store cannot be reached;
    /// [`RepositoryError::Internal`] when it refuses to list the indexes.
    async fn diff(&self) -> Result<IndexDiff, RepositoryError>;

    /// Creates the declared indexes that are missing, one at a time; drops the extra ones
    /// (never the id's) only when `drop_extra` is set; leaves conflicting ones alone. Then
    /// reads the indexes again to say what still differs ([`IndexSync::after`]). Run by an
    /// operator, again each time it is called.
    ///
    /// # Errors
    /// As [`Self::diff`], and [`RepositoryError::ReadOnly`] on a read-only role; what was
    /// done before an error stays done. An index the store refuses to create or drop is in
    /// [`IndexSync::refused`], not an error.
    async fn sync(&self, drop_extra: bool) -> Result<IndexSync, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_shown_by_its_keys_its_options_and_its_name() {
        let index = IndexSpec::new(vec![
            IndexKey::ascending("name"),
            IndexKey::descending("at"),
        ])
        .unique()
        .named("idx_branches_name");
        assert_eq!(
            index.to_string(),
            "{name: 1, at: -1} unique (idx_branches_name)"
        );
        let ttl = IndexSpec::new(vec![IndexKey::ascending("expiresAt")])
            .expiring_after(Duration::from_secs(60));
        assert_eq!(ttl.to_string(), "{expiresAt: 1} expiring 60s after");
        let text = IndexSpec::new(vec![IndexKey {
            field: "notes".into(),
            order: KeyOrder::Kind("text".into()),
        }]);
        assert_eq!(text.to_string(), "{notes: \"text\"}");
    }

    #[test]
    fn a_refusal_names_its_indexes_and_the_answer() {
        let name = IndexSpec::new(vec![IndexKey::ascending("name")]).unique();
        let refusal = IndexRefusal::new(vec![name], "E11000 duplicate key");
        assert_eq!(
            refusal.to_string(),
            "{name: 1} unique: E11000 duplicate key"
        );
    }
}
