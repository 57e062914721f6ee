//! Which store keeps the answers of each role's routes: on MongoDB, a collection in that
//! role's own database (so a master admin's answer stays in `masteradmin`); in memory, one
//! store for the process. A read-only role has none: its routes refuse writes anyway.

use std::collections::BTreeMap;
use std::sync::Arc;

use adapters_memory::MemoryIdempotencyStore;
use adapters_mongo::MongoIdempotencyStore;
use ports::{IdempotencyStore, IdempotencyTerms, Role};
use registry::Backend;

use super::IdempotencyConfig;

/// The store of each role, made once at start-up.
#[derive(Debug, Clone)]
pub struct IdempotencyStores {
    by_role: BTreeMap<Role, Arc<dyn IdempotencyStore>>,
}

impl IdempotencyStores {
    /// The stores of `backend`'s roles, with claims leased for `lease`.
    pub fn on(backend: &Backend, config: &IdempotencyConfig, lease: std::time::Duration) -> Self {
        let terms = IdempotencyTerms {
            window: config.window,
            lease,
        };
        let by_role = match backend {
            Backend::Memory(_) => {
                let shared: Arc<dyn IdempotencyStore> =
                    Arc::new(MemoryIdempotencyStore::new(terms, config.max_keys));
                backend
                    .roles()
                    .into_iter()
                    .map(|role| (role, shared.clone()))
                    .collect()
            }
            Backend::Mongo(manager) => manager
                .roles()
                .into_iter()
                .filter_map(|role| manager.role(role).ok())
                .filter(|connection| !connection.read_only())
                .map(|connection| {
                    let store: Arc<dyn IdempotencyStore> =
                        Arc::new(MongoIdempotencyStore::new(connection.clone(), terms));
                    (connection.role(), store)
                })
                .collect(),
        };
        Self { by_role }
    }

    /// The store of `role`'s routes, if it has one.
    pub fn of(&self, role: Role) -> Option<&Arc<dyn IdempotencyStore>> {
        self.by_role.get(&role)
    }
}
