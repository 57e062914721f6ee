//! Start-up wiring: storage chosen from configuration, one binding per (model, role), the
//! routes checked against the bindings, and the state every front door serves.

use std::sync::Arc;

use adapters_mongo::{ConnectionManager, MongoSettings};
use domain::{Admin, Branch, Customer, Machine, MasterAdmin, Order};
use ports::Role;
use registry::{Registry, RegistryError};
use secrecy::ExposeSecret;

pub use registry::Backend;

use crate::auth::{CallerRole, JwtKeys};
use crate::config::{AppConfig, StorageSettings};
use crate::demo::{self, DemoLogin};
use crate::http::idempotency::{self, IdempotencyStores};
use crate::http::{back_office_routes, AppState, Mount, MountError, Shared};

/// What a service built on this crate serves: the roles it needs beyond `main` and
/// `masteradmin`, its bindings and its routes. [`Service::back_office`] is this repository's;
/// a team's own service declares its own.
#[derive(Debug, Clone)]
pub struct Service {
    /// Roles besides the two defaults (for the in-memory backend; MongoDB takes them from its
    /// settings).
    pub roles: Vec<Role>,
    /// Caller roles besides [`CallerRole::BUILT_IN`] that its tokens may carry (`analyst`),
    /// for its routes' [`Access`](crate::http::Access).
    pub callers: Vec<CallerRole>,
    /// One line per (model, role): what the registry serves.
    pub bind: fn(Registry) -> Result<Registry, RegistryError>,
    /// The routes, each checked at start-up against the bindings.
    pub routes: fn() -> Vec<Mount>,
    /// Whether the zero-configuration demo writes the back office's demo records and prints
    /// a master-admin token (it needs the back office's models bound).
    pub seeds_demo: bool,
}

impl Service {
    /// The back office: business models on `main`, administrator accounts on `masteradmin`.
    pub fn back_office() -> Self {
        Self {
            roles: Vec::new(),
            callers: Vec::new(),
            bind: |registry| {
                registry
                    .bind::<Branch>(Role::MAIN)?
                    .bind::<Customer>(Role::MAIN)?
                    .bind::<Order>(Role::MAIN)?
                    .bind::<Machine>(Role::MAIN)?
                    .bind::<MasterAdmin>(Role::MASTERADMIN)?
                    .bind::<Admin>(Role::MASTERADMIN)
            },
            routes: back_office_routes,
            seeds_demo: true,
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
    /// The secret to verify tokens is too short to be safe.
    #[error(transparent)]
    WeakJwtSecret(#[from] crate::auth::WeakSecret),
    /// A binding names an unknown model or role.
    #[error(transparent)]
    Binding(#[from] RegistryError),
    /// A route needs a binding that is missing, or is too open for its role.
    #[error(transparent)]
    Route(#[from] MountError),
    /// An idempotency claim would end before a request may: a retry could then run while the
    /// first attempt is still working, and create twice.
    #[error("IDEMPOTENCY_LEASE_MS must be at least REQUEST_TIMEOUT_MS")]
    LeaseShorterThanRequests,
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
    /// Wires the back office. Does no database I/O: connections open on first use.
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build(config: AppConfig) -> Result<Self, StartupError> {
        Self::build_service(config, Service::back_office()).await
    }

    /// Wires `service`: its bindings, then `config`'s extra bindings, then its routes, each
    /// checked against what is bound. Does no database I/O.
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build_service(config: AppConfig, service: Service) -> Result<Self, StartupError> {
        let backend = match config.backend {
            StorageSettings::Memory => Backend::memory(
                Role::DEFAULTS
                    .into_iter()
                    .chain(service.roles.iter().copied()),
            ),
            StorageSettings::Mongo(settings) => {
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
            (None, Backend::Memory(_)) => demo::generated_secret(),
            (None, Backend::Mongo(_)) => return Err(StartupError::MissingJwtSecret),
        };
        let mut policy = config.token_policy;
        policy.caller_roles.extend(service.callers.iter().copied());
        let keys = JwtKeys::new(&secret, policy)?;
        let lease = config
            .idempotency
            .lease
            .unwrap_or(config.request_timeout + idempotency::LEASE_MARGIN);
        if lease < config.request_timeout {
            return Err(StartupError::LeaseShorterThanRequests);
        }
        let registry =
            (service.bind)(Registry::new(backend.clone()))?.bind_listed(&config.bindings)?;
        let mut mounts = (service.routes)();
        mounts.retain(|mount| mount.is_served(&registry));
        for mount in &mounts {
            mount.check(&registry)?;
        }
        let state = AppState::new(Shared {
            registry: Arc::new(registry),
            mounts: mounts.into(),
            keys,
            ping_timeout: config.ping_timeout,
            request_timeout: config.request_timeout,
            idempotency: IdempotencyStores::on(&backend, &config.idempotency, lease),
            cors: config.cors,
        });
        let demo = match demo_mode && service.seeds_demo {
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
    if let (Some(main), Some(_)) = (
        settings.role(Role::MAIN),
        settings.fallback_of(Role::MASTERADMIN),
    ) {
        tracing::warn!(
            database = main.database(),
            "MASTER_ADMIN_MONGO_URI is not set: administrator accounts share the main database"
        );
    }
}
