/*!
The repository ports on MongoDB, in the storage shape the Node.js/Mongoose services use, so that
both can work on the same databases while handlers migrate one at a time.

- [`MongoSettings`]: where the `main` and `masteradmin` databases are, from the environment
  (`MONGO_URI`, `MASTER_ADMIN_MONGO_URI`, …) or built in code, checked at start-up without I/O.
- [`ConnectionManager`]: one lazy, cached driver client per deployment and credentials, shared
  by the roles that can share it; connection state per role, ping, graceful shutdown, and
  the connection counts of each pool ([`PoolStats`]).
- [`RoleConnection`]: what code bound to one role holds; it reaches that role's database only.
- [`MongoRepository`]: [`ports::Repository`] for any declared model ([`domain::Model`]), the
  built-in ones and a service's own alike: the document mapping follows from the declaration.
- [`DeclaredIndexes`]: one collection's declared indexes, from the declaration to the server
  (created before a first write, compared, synced, their [`ports::IndexStatus`]), for a
  model's collection and for the idempotency records alike; it is the
  [`ports::IndexedCollection`] tools use.

What this crate is not: it holds no business rule and no per-model code, it
never builds a filter from caller-supplied documents, and it contains nothing that exists to
please a particular test server.

# Embedding in another service

```no_run
use std::sync::Arc;

use adapters_mongo::{ConnectionManager, MongoRepository, MongoSettings};
use domain::{Branch, BranchName, Location, MasterAdmin};
use ports::{ConnectionMonitor, Repository, Role};

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
// From the environment: `MongoSettings::from_env()?`. Or in code:
let settings = MongoSettings::new("mongodb://db.internal:27017/main")?
    .with_masteradmin_uri("mongodb://db.internal:27017/masteradmin")?
    .with_max_pool_size(20)
    .with_app_name("billing-service");

// No I/O yet. Both URIs differ only in the database: one client, one pool.
let manager = ConnectionManager::new(settings);

let branches: Arc<dyn Repository<Branch>> =
    Arc::new(MongoRepository::<Branch>::new(manager.role(Role::MAIN)?));
let master_admins = MongoRepository::<MasterAdmin>::new(manager.role(Role::MASTERADMIN)?);
master_admins.ensure_indexes().await?; // optional: writes create them on first use

let name = BranchName::parse("Lyon")?;
let lyon = branches.create(Branch::new(name, Location::parse("12 rue de la Forge")?)).await?;
let latency = manager.ping(Role::MAIN).await?;
println!("created branch {} ({latency:?} to the main database)", lyon.id());

manager.shutdown().await;
# Ok(())
# }
```
*/
#![deny(missing_docs)]
// A failed unwrap in a unit test is the assertion failing, with its value shown.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod commands;
mod config;
mod documents;
mod errors;
mod idempotency;
mod indexes;
mod manager;
mod pool;
mod repository;
mod scan;
mod selection;
mod state;
mod uri;

pub use commands::CommandObserver;
pub use config::{
    parse_setting, ConfigError, GlobalOptions, MongoSettings, RoleSettings, DEFAULT_MAX_POOL_SIZE,
    DEFAULT_PING_TIMEOUT, MASTER_ADMIN_MONGO_URI, MONGO_AUTO_INDEX, MONGO_MAX_POOL_SIZE,
    MONGO_ROLES, MONGO_SERVER_SELECTION_TIMEOUT_MS, MONGO_URI,
};
pub use config::{
    role_variable, RoleOptions, MONGO_MAX_CONNECTING, MONGO_MAX_IDLE_TIME_MS, MONGO_MIN_POOL_SIZE,
    MONGO_READ_CONCERN, MONGO_READ_ONLY, MONGO_READ_PREFERENCE, MONGO_WRITE_CONCERN,
};
pub use documents::{collection_name, DocumentError};
pub use idempotency::{MongoIdempotencyStore, IDEMPOTENCY_COLLECTION};
pub use indexes::{index_keys, DeclaredIndexes};
pub use manager::{ConnectionManager, RoleConnection};
pub use pool::PoolStats;
pub use repository::MongoRepository;
