use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use domain::{Entity, Id, Record, Timestamp, Version};
use ports::{Conflict, ListQuery, Listing, Repository, RepositoryError};

/// The records of one entity kind in one role's store, safe to share between threads.
///
/// Each instance is its own store: two instances, one per role, are as separate as two
/// databases.
#[derive(Debug)]
pub struct MemoryRepository<T: Entity> {
    table: RwLock<Table<T>>,
}

#[derive(Debug)]
struct Table<T: Entity> {
    // A BTreeMap keeps records in id order, the order every backend lists in.
    records: BTreeMap<Id<T>, Record<T>>,
    // The unique indexes: each unique field and value to the id holding it.
    unique: HashMap<(&'static str, String), Id<T>>,
}

impl<T: Entity> MemoryRepository<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            table: RwLock::new(Table {
                records: BTreeMap::new(),
                unique: HashMap::new(),
            }),
        }
    }

    // A panic while the lock was held cannot leave a table half-written (every write below
    // checks first, then mutates infallibly), so a poisoned lock is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, Table<T>> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table<T>> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Entity> Default for MemoryRepository<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Entity> Table<T> {
    fn ensure_unique(&self, record: &Record<T>) -> Result<(), RepositoryError> {
        for key in record.entity().unique_keys() {
            match self.unique.get(&key) {
                Some(holder) if *holder != record.id() => {
                    return Err(Conflict::Duplicate {
                        model: T::NAME,
                        key: key.0,
                    }
                    .into())
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn store(&mut self, record: Record<T>) {
        if let Some(old) = self.records.remove(&record.id()) {
            self.forget(&old);
        }
        for key in record.entity().unique_keys() {
            self.unique.insert(key, record.id());
        }
        self.records.insert(record.id(), record);
    }

    fn forget(&mut self, record: &Record<T>) {
        for key in record.entity().unique_keys() {
            self.unique.remove(&key);
        }
    }
}

fn not_found<T: Entity>(id: Id<T>) -> RepositoryError {
    RepositoryError::NotFound {
        model: T::NAME,
        id: id.to_string(),
    }
}

#[async_trait]
impl<T: Entity> Repository<T> for MemoryRepository<T> {
    async fn create(&self, entity: T) -> Result<Record<T>, RepositoryError> {
        let record = Record::new(entity);
        let mut table = self.write();
        table.ensure_unique(&record)?;
        table.store(record.clone());
        Ok(record)
    }

    async fn get(&self, id: Id<T>) -> Result<Record<T>, RepositoryError> {
        self.read()
            .records
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    async fn list(&self, query: ListQuery<T>) -> Result<Listing<T>, RepositoryError> {
        let table = self.read();
        let after = match query.cursor() {
            Some(id) => Bound::Excluded(id),
            None => Bound::Unbounded,
        };
        let selected = || {
            table
                .records
                .range((after, Bound::Unbounded))
                .map(|(_, record)| record)
                .filter(|record| query.filter().admits(record))
        };
        let page = query.page();
        let skip = usize::try_from(page.skip()).unwrap_or(usize::MAX);
        let limit = page.limit() as usize;
        // One more than the page tells whether a next page exists.
        let mut records: Vec<Record<T>> = selected().skip(skip).take(limit + 1).cloned().collect();
        let more = records.len() > limit;
        records.truncate(limit);
        let total = query.wants_total().then(|| {
            let everything = table.records.values();
            everything.filter(|r| query.filter().admits(r)).count() as u64
        });
        Ok(Listing {
            next_after: more.then(|| records.last().map(Record::id)).flatten(),
            records,
            total,
            unreadable: 0,
        })
    }

    async fn update(&self, record: Record<T>) -> Result<Record<T>, RepositoryError> {
        let mut table = self.write();
        let stored = table
            .records
            .get(&record.id())
            .ok_or_else(|| not_found(record.id()))?;
        if stored.version() != record.version() {
            return Err(Conflict::StaleVersion {
                model: T::NAME,
                id: record.id().to_string(),
            }
            .into());
        }
        table.ensure_unique(&record)?;
        let saved = record.saved();
        table.store(saved.clone());
        Ok(saved)
    }

    async fn delete(&self, id: Id<T>) -> Result<(), RepositoryError> {
        let mut table = self.write();
        let removed = table.records.remove(&id).ok_or_else(|| not_found(id))?;
        table.forget(&removed);
        Ok(())
    }

    async fn delete_if(
        &self,
        id: Id<T>,
        version: Version,
        updated_at: Timestamp,
    ) -> Result<(), RepositoryError> {
        // Compared and removed under one write lock: no save can land in between.
        let mut table = self.write();
        let stored = table.records.get(&id).ok_or_else(|| not_found(id))?;
        if stored.version() != version || stored.updated_at() != updated_at {
            return Err(Conflict::StaleVersion {
                model: T::NAME,
                id: id.to_string(),
            }
            .into());
        }
        if let Some(removed) = table.records.remove(&id) {
            table.forget(&removed);
        }
        Ok(())
    }

    async fn count(&self) -> Result<u64, RepositoryError> {
        Ok(self.read().records.len() as u64)
    }
}
