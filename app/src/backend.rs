//! Start-up wiring: storage chosen from configuration, one repository per bound
//! (entity kind, role), and the state every front door serves.

use std::sync::Arc;

use adapters_memory::{MemoryMonitor, MemoryRepository};
use adapters_mongo::{ConnectionManager, MongoEntity, MongoRepository, MongoSettings};
use domain::{Admin, Branch, Customer, EntityKind, Machine, MasterAdmin, Order};
use ports::{ConnectionMonitor, Repository, Role};
use secrecy::ExposeSecret;

use crate::auth::JwtKeys;
use crate::config::{AppConfig, BackendConfig};
use crate::demo::{self, DemoLogin};
use crate::http::AppState;
use crate::registry::{Registered, Registry};

/// The storage the repositories run on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// In memory.
    Memory,
    /// MongoDB, through one manager of lazily created, cached clients.
    Mongo(ConnectionManager),
}

impl Backend {
    fn repository<T: Registered + MongoEntity>(&self, role: Role) -> Arc<dyn Repository<T>> {
        match self {
            Backend::Memory => Arc::new(MemoryRepository::<T>::new()),
            Backend::Mongo(manager) => Arc::new(MongoRepository::<T>::new(manager.role(role))),
        }
    }

    fn monitor(&self) -> Arc<dyn ConnectionMonitor> {
        match self {
            Backend::Memory => Arc::new(MemoryMonitor),
            Backend::Mongo(manager) => Arc::new(manager.clone()),
        }
    }

    /// Closes every database client; in-memory data is simply dropped.
    pub async fn shutdown(&self) {
        if let Backend::Mongo(manager) = self {
            manager.shutdown().await;
        }
    }
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A MongoDB setting is wrong.
    #[error(transparent)]
    Mongo(#[from] adapters_mongo::ConfigError),
    /// MongoDB is configured but no secret to verify tokens is (or it is empty).
    #[error("AUTH_JWT_SECRET is required, and must not be empty, when MONGO_URI is set")]
    MissingJwtSecret,
    /// Demo records could not be written.
    #[error("could not write the demo records: {0}")]
    Demo(#[from] demo::SeedError),
}

/// A wired service: its state, its storage, and the demo login when it runs as a demo.
#[derive(Debug)]
pub struct Application {
    /// What the router serves.
    pub state: AppState,
    /// The storage, kept to close it on exit.
    pub backend: Backend,
    /// Set when the service made up its own secret and demo records.
    pub demo: Option<DemoLogin>,
}

impl Application {
    /// Wires the service. Does no database I/O: connections open on first use.
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build(config: AppConfig) -> Result<Self, StartupError> {
        let backend = match config.backend {
            BackendConfig::Memory => Backend::Memory,
            BackendConfig::Mongo(settings) => {
                let settings = settings.with_ping_timeout(config.ping_timeout);
                warn_if_roles_share_a_database(&settings);
                Backend::Mongo(ConnectionManager::new(settings))
            }
        };
        // An empty secret would let anyone sign tokens: refuse it like a missing one.
        let jwt_secret = config
            .jwt_secret
            .filter(|s| !s.expose_secret().trim().is_empty());
        let demo_mode = jwt_secret.is_none();
        let secret = match (jwt_secret, &backend) {
            (Some(secret), _) => secret,
            (None, Backend::Memory) => demo::generated_secret(),
            (None, Backend::Mongo(_)) => return Err(StartupError::MissingJwtSecret),
        };
        let registry = bind_all(&backend, config.bindings.iter());
        let state = AppState {
            registry,
            keys: JwtKeys::new(&secret),
            ping_timeout: config.ping_timeout,
            request_timeout: config.request_timeout,
        };
        let demo = match demo_mode {
            true => Some(demo::seed(&state).await?),
            false => None,
        };
        Ok(Self {
            state,
            backend,
            demo,
        })
    }

    /// The keys that verify tokens, to mint tokens for callers (the demo, tests).
    pub fn keys(&self) -> &JwtKeys {
        &self.state.keys
    }
}

/// The fallback (no `MASTER_ADMIN_MONGO_URI`) keeps administrator accounts in the business
/// database: allowed, as in the Node.js system, but worth a line at every start.
fn warn_if_roles_share_a_database(settings: &MongoSettings) {
    let (main, admin) = (settings.role(Role::Main), settings.role(Role::MasterAdmin));
    if main.database() == admin.database() && main.redacted_uri() == admin.redacted_uri() {
        tracing::warn!(
            database = main.database(),
            "MASTER_ADMIN_MONGO_URI is not set: administrator accounts share the main database"
        );
    }
}

fn bind_all(backend: &Backend, bindings: impl Iterator<Item = (EntityKind, Role)>) -> Registry {
    bindings.fold(
        Registry::new(backend.monitor()),
        |registry, (kind, role)| match kind {
            EntityKind::Branch => registry.bind(role, backend.repository::<Branch>(role)),
            EntityKind::Customer => registry.bind(role, backend.repository::<Customer>(role)),
            EntityKind::Order => registry.bind(role, backend.repository::<Order>(role)),
            EntityKind::Machine => registry.bind(role, backend.repository::<Machine>(role)),
            EntityKind::MasterAdmin => registry.bind(role, backend.repository::<MasterAdmin>(role)),
            EntityKind::Admin => registry.bind(role, backend.repository::<Admin>(role)),
        },
    )
}
