use std::collections::{BTreeMap, HashMap};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use domain::{Entity, Id, Record};
use ports::{Conflict, Page, Repository, RepositoryError};

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
    // The unique index: the value of `T::UNIQUE_FIELD` to the id holding it.
    unique: HashMap<String, Id<T>>,
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
        let (Some(key), Some(value)) = (T::UNIQUE_FIELD, record.entity().unique_value()) else {
            return Ok(());
        };
        match self.unique.get(value) {
            Some(holder) if *holder != record.id() => Err(Conflict::Duplicate {
                model: T::NAME,
                key,
            }
            .into()),
            _ => Ok(()),
        }
    }

    fn store(&mut self, record: Record<T>) {
        if let Some(old) = self.records.get(&record.id()) {
            if let Some(value) = old.entity().unique_value() {
                self.unique.remove(value);
            }
        }
        if let Some(value) = record.entity().unique_value() {
            self.unique.insert(value.to_owned(), record.id());
        }
        self.records.insert(record.id(), record);
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

    async fn list(&self, page: Page) -> Result<Vec<Record<T>>, RepositoryError> {
        let table = self.read();
        let skip = usize::try_from(page.skip()).unwrap_or(usize::MAX);
        let limit = page.limit() as usize;
        Ok(table
            .records
            .values()
            .skip(skip)
            .take(limit)
            .cloned()
            .collect())
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
        if let Some(value) = removed.entity().unique_value() {
            table.unique.remove(value);
        }
        Ok(())
    }

    async fn count(&self) -> Result<u64, RepositoryError> {
        Ok(self.read().records.len() as u64)
    }
}
