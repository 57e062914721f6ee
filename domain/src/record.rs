use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use crate::entity::Entity;
use crate::error::ValidationError;
use crate::id::Id;

/// A point in time with millisecond precision, the precision of a BSON date, so that a
/// timestamp survives a round trip through any backend unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time, truncated to the millisecond.
    pub fn now() -> Self {
        Self(Utc::now().trunc_subsecs(3))
    }

    /// The time `millis` milliseconds after the Unix epoch, if representable.
    pub fn from_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(Self)
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0.timestamp_millis()
    }
}

/// How many times a record has been saved since it was created: the optimistic-concurrency
/// token. Stored as Mongoose's `__v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u32);

impl Version {
    /// The version of a record that has never been updated.
    pub const INITIAL: Version = Version(0);

    /// The version with this number.
    pub const fn new(number: u32) -> Self {
        Self(number)
    }

    /// How many saves, as stored in `__v`.
    pub const fn number(self) -> u32 {
        self.0
    }

    /// The version after one more save.
    pub const fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }
}

/// A stored entity: the entity with its id, timestamps and version.
///
/// Serialises as the entity's fields plus `id`, `createdAt` and `updatedAt`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", bound = "T: Serialize")]
pub struct Record<T> {
    id: Id<T>,
    #[serde(flatten)]
    entity: T,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(skip)]
    version: Version,
}

impl<T: Entity> Record<T> {
    /// A record for a new entity: a fresh id, both timestamps now, the initial version.
    pub fn new(entity: T) -> Self {
        let now = Timestamp::now();
        Self::restore(Id::generate(), entity, now, now, Version::INITIAL)
    }

    /// A record as a backend stored it.
    pub fn restore(
        id: Id<T>,
        entity: T,
        created_at: Timestamp,
        updated_at: Timestamp,
        version: Version,
    ) -> Self {
        Self {
            id,
            entity,
            created_at,
            updated_at,
            version,
        }
    }

    /// The record with `patch` applied to its entity. Id, timestamps and version are kept:
    /// the repository advances them when it saves.
    ///
    /// # Errors
    /// The entity's [`ValidationError`] when the change breaks one of its rules.
    pub fn apply(self, patch: T::Patch) -> Result<Self, ValidationError> {
        let entity = self.entity.apply(patch)?;
        Ok(Self { entity, ..self })
    }

    /// The record as it is saved over `self`: next version, updated now.
    pub fn saved(self) -> Self {
        Self {
            version: self.version.next(),
            updated_at: Timestamp::now().max(self.updated_at),
            ..self
        }
    }

    /// The id the record is stored and addressed under.
    pub fn id(&self) -> Id<T> {
        self.id
    }

    /// The entity as stored, without the record's bookkeeping.
    pub fn entity(&self) -> &T {
        &self.entity
    }

    /// When the record was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When the record was last saved.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// The version the record had when it was read.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The entity, without the record around it.
    pub fn into_entity(self) -> T {
        self.entity
    }
}
