//! The storage every binding is created on: MongoDB through one connection manager, or memory.

use std::sync::Arc;

use adapters_memory::{MemoryMonitor, MemoryRepository};
use adapters_mongo::{ConnectionManager, MongoIdempotencyStore, MongoRepository};
use domain::Entity;
use ports::{ConnectionMonitor, IndexedCollection, Repository, Role, UnknownRole};

use crate::handle::{Maintenance, MongoMaintenance};

/// A binding's repository, and on MongoDB its collection to be scanned as stored.
pub(crate) type Bound<T> = (Arc<dyn Repository<T>>, Option<Arc<dyn Maintenance>>);

/// Where the repositories the registry creates keep their data.
#[derive(Debug, Clone)]
pub enum Backend {
    /// In memory, one separate store per (model, role), lost on exit.
    Memory(MemoryMonitor),
    /// MongoDB, through one manager of lazily created, cached clients.
    Mongo(ConnectionManager),
}

impl Backend {
    /// Memory stores for `roles`.
    pub fn memory(roles: impl IntoIterator<Item = Role>) -> Self {
        Backend::Memory(MemoryMonitor::new(roles))
    }

    /// A new repository of `T` on `role`. Does no I/O.
    ///
    /// # Errors
    /// [`UnknownRole`] when `role` is not configured: a binding to it could only fail later.
    pub fn repository<T: Entity>(&self, role: Role) -> Result<Arc<dyn Repository<T>>, UnknownRole> {
        self.repository_in::<T>(role, None)
    }

    /// A new repository of `T` on `role`, in `collection` when one is named rather than the
    /// one the model's name gives (memory stores have no collections). Does no I/O.
    ///
    /// # Errors
    /// [`UnknownRole`] when `role` is not configured.
    pub fn repository_in<T: Entity>(
        &self,
        role: Role,
        collection: Option<&str>,
    ) -> Result<Arc<dyn Repository<T>>, UnknownRole> {
        self.bound::<T>(role, collection)
            .map(|(repository, _)| repository)
    }

    /// A new repository of `T` on `role`, as [`Self::repository_in`], and on MongoDB the same
    /// collection to be scanned as stored (`app check`). Does no I/O.
    pub(crate) fn bound<T: Entity>(
        &self,
        role: Role,
        collection: Option<&str>,
    ) -> Result<Bound<T>, UnknownRole> {
        match self {
            Backend::Memory(monitor) => {
                let roles = monitor.roles();
                if !roles.contains(&role) {
                    return Err(UnknownRole::new(role, roles));
                }
                Ok((Arc::new(MemoryRepository::<T>::new()), None))
            }
            Backend::Mongo(manager) => {
                let connection = manager.role(role)?;
                let repository = match collection {
                    Some(collection) => MongoRepository::<T>::in_collection(connection, collection),
                    None => MongoRepository::<T>::new(connection),
                };
                let scan: Arc<dyn Maintenance> =
                    Arc::new(MongoMaintenance::new(repository.clone()));
                Ok((Arc::new(repository), Some(scan)))
            }
        }
    }

    /// The collection of `role`'s idempotency records (the answers kept for `Idempotency-Key`)
    /// with its declared indexes, for tools that compare and sync them (`app indexes`): on
    /// MongoDB, unless the role is read-only (it keeps none there) or not configured; `None` in
    /// memory.
    pub fn idempotency_records(&self, role: Role) -> Option<Arc<dyn IndexedCollection>> {
        let Backend::Mongo(manager) = self else {
            return None;
        };
        let connection = manager.role(role).ok().filter(|c| !c.read_only())?;
        Some(Arc::new(MongoIdempotencyStore::declared_indexes(
            connection,
        )))
    }

    /// The health of each role.
    pub fn monitor(&self) -> Arc<dyn ConnectionMonitor> {
        match self {
            Backend::Memory(monitor) => Arc::new(monitor.clone()),
            Backend::Mongo(manager) => Arc::new(manager.clone()),
        }
    }

    /// The configured roles, in configuration order.
    pub fn roles(&self) -> Vec<Role> {
        match self {
            Backend::Memory(monitor) => monitor.roles(),
            Backend::Mongo(manager) => manager.roles(),
        }
    }

    /// Closes every database client; in-memory data is simply dropped.
    pub async fn shutdown(&self) {
        if let Backend::Mongo(manager) = self {
            manager.shutdown().await;
        }
    }
}
