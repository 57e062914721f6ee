//! One lazy, cached client per connection identity, and the role-scoped handles that reach it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mongodb::bson::doc;
use mongodb::options::{ClientOptions, DatabaseOptions, SelectionCriteria};
use mongodb::{Client, Database};
use ports::{ConnectionMonitor, ConnectionState, RepositoryError, Role, UnknownRole};
use tokio::sync::OnceCell;

use crate::commands::{CommandCounter, CommandObserver, EVENTS_TARGET};
use crate::config::{MongoSettings, RoleSettings, DEFAULT_MAX_POOL_SIZE};
use crate::errors::{repository_error, Operation};
use crate::pool::{PoolCounter, PoolStats};
use crate::state::StateCell;

/// How long [`ConnectionManager::shutdown`] lets a client finish its work (open cursors and
/// sessions) before closing it at once.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The clients of every configured role: created on first use, one per connection identity,
/// kept until [`Self::shutdown`].
///
/// Roles whose URIs differ at most in the database path, with the same options, share one
/// client and one pool, each bound to its own database (as Mongoose's `useDb`). Anything else
/// (another host, credentials, authentication database or option) gets its own client.
/// A role's own pool options ([`RoleOptions`](crate::RoleOptions)) count as options; its read
/// preference, concerns and read-only flag apply to its database only and never split a
/// client.
///
/// The state a role reports (see [`ConnectionMonitor`]) is that of its client, so roles that
/// share a client share its state: a role that was never used itself reads `connected` once the
/// other role's use has connected their common client.
///
/// Cloning is cheap and every clone is the same manager. Build it inside the Tokio runtime
/// that will use it: a driver client belongs to the runtime that created it.
#[derive(Clone)]
pub struct ConnectionManager {
    inner: Arc<Inner>,
}

struct Inner {
    slots: Vec<Slot>,
    /// Per role, in configuration order: the slot it uses and its database.
    bindings: Vec<Binding>,
    ping_timeout: Duration,
    /// [`MongoSettings::auto_index`], for the repositories of every role.
    auto_index: bool,
    /// Given every command event of every client, when the settings name one.
    command_observer: Option<CommandObserver>,
    /// Whether clients watch their commands (counts, metrics, debug lines).
    command_monitoring: bool,
    clients_created: AtomicUsize,
    closed: AtomicBool,
    shutdown: OnceCell<()>,
}

/// One connection identity: its settings, its client once created, its state and its pool's
/// counts.
struct Slot {
    settings: RoleSettings,
    client: OnceCell<Client>,
    state: Arc<StateCell>,
    pool: Arc<PoolCounter>,
    commands: Arc<CommandCounter>,
    /// The pool size given to the driver: the setting, else the URI's, else the crate's default.
    max_pool_size: u32,
}

struct Binding {
    role: Role,
    slot: usize,
    database: String,
    /// The role's read preference and concerns, applied to its `Database` (not its client,
    /// which other roles may share).
    database_options: DatabaseOptions,
    /// Writes through the role are refused before anything is sent.
    read_only: bool,
    /// The role's `Database`, made once its client exists, then shared: making one per
    /// operation allocated its name and options again on every request.
    handle: OnceLock<Database>,
}

impl ConnectionManager {
    /// A manager for `settings`. Does no I/O: nothing connects until a role is first used.
    pub fn new(settings: MongoSettings) -> Self {
        let mut slots: Vec<Slot> = Vec::new();
        let mut bindings = Vec::new();
        for (role, role_settings) in settings
            .roles()
            .filter_map(|role| Some((role, settings.role(role)?)))
        {
            let slot = match slots
                .iter()
                .position(|s| s.settings.shares_client_with(role_settings))
            {
                Some(index) => index,
                None => {
                    slots.push(Slot {
                        settings: role_settings.clone(),
                        client: OnceCell::new(),
                        state: Arc::default(),
                        pool: Arc::default(),
                        commands: Arc::default(),
                        max_pool_size: max_pool_size(role_settings),
                    });
                    slots.len() - 1
                }
            };
            let own = role_settings.role_options();
            bindings.push(Binding {
                role,
                slot,
                database: role_settings.database().to_owned(),
                database_options: DatabaseOptions::builder()
                    .selection_criteria(
                        own.read_preference
                            .clone()
                            .map(SelectionCriteria::ReadPreference),
                    )
                    .read_concern(own.read_concern.clone())
                    .write_concern(own.write_concern.clone())
                    .build(),
                read_only: own.read_only,
                handle: OnceLock::new(),
            });
        }
        let inner = Inner {
            slots,
            bindings,
            ping_timeout: settings.ping_timeout(),
            auto_index: settings.auto_index(),
            command_observer: settings.command_observer(),
            command_monitoring: settings.command_monitoring()
                || settings.command_observer().is_some(),
            clients_created: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            shutdown: OnceCell::new(),
        };
        // Each client's state gauge exists from the start: disconnected until first use.
        for slot in &inner.slots {
            slot.state.serves(inner.roles_of(slot));
        }
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The handle through which code bound to `role` reaches its database, and only it.
    ///
    /// # Errors
    /// [`UnknownRole`] listing the configured roles when `role` is not one of them.
    pub fn role(&self, role: Role) -> Result<RoleConnection, UnknownRole> {
        let binding = self.inner.binding_index(role)?;
        Ok(RoleConnection {
            inner: Arc::clone(&self.inner),
            role,
            binding,
        })
    }

    /// The configured roles, in configuration order.
    pub fn roles(&self) -> Vec<Role> {
        self.inner.bindings.iter().map(|b| b.role).collect()
    }

    /// The database `role` works in, if it is configured.
    pub fn database_name(&self, role: Role) -> Option<&str> {
        let index = self.inner.binding_index(role).ok()?;
        Some(&self.inner.bindings[index].database)
    }

    /// How many clients have been created so far: at most one per connection identity.
    pub fn client_count(&self) -> usize {
        self.inner.clients_created.load(Ordering::Acquire)
    }

    /// The connection counts of the pool that serves `role`, kept from the driver's
    /// connection-pool events; roles that share a client report the same pool. All zero before
    /// the role's client is created; `None` for a role that is not configured. Does no I/O.
    pub fn pool_stats(&self, role: Role) -> Option<PoolStats> {
        let slot = self.inner.slot(role)?;
        Some(slot.pool.stats(slot.max_pool_size))
    }

    /// How many commands named `name` (`ping`, `createIndexes`, …) the client that serves `role`
    /// has sent, as the driver's command monitoring reports them; roles that share a client
    /// report the same figures. `None` for a role that is not configured, or without command
    /// monitoring ([`MongoSettings::with_command_monitoring`]): counts are opt-in. Does no I/O.
    pub fn commands_started(&self, role: Role, name: &str) -> Option<u64> {
        if !self.inner.command_monitoring {
            return None;
        }
        Some(self.inner.slot(role)?.commands.started(name))
    }

    /// Closes every client: states go to disconnecting, then disconnected, and any later use
    /// fails as [`RepositoryError::Unavailable`]. Waits up to 10 s for open cursors and
    /// sessions to be dropped, then closes regardless. Calling it again waits for the first
    /// call to finish.
    pub async fn shutdown(&self) {
        self.inner
            .shutdown
            .get_or_init(|| self.inner.close_all())
            .await;
    }
}

impl Inner {
    fn binding_index(&self, role: Role) -> Result<usize, UnknownRole> {
        self.bindings
            .iter()
            .position(|b| b.role == role)
            .ok_or_else(|| UnknownRole::new(role, self.bindings.iter().map(|b| b.role)))
    }

    fn slot(&self, role: Role) -> Option<&Slot> {
        let index = self.binding_index(role).ok()?;
        Some(&self.slots[self.bindings[index].slot])
    }

    /// The roles `slot` serves, joined by commas (`main,masteradmin`), for its log lines.
    fn roles_of(&self, slot: &Slot) -> Arc<str> {
        let roles: Vec<&str> = self
            .bindings
            .iter()
            .filter(|b| std::ptr::eq(&self.slots[b.slot], slot))
            .map(|b| b.role.as_str())
            .collect();
        roles.join(",").into()
    }

    fn bound_slot(&self, binding: usize) -> &Slot {
        &self.slots[self.bindings[binding].slot]
    }

    async fn client(&self, binding: usize) -> Result<Client, RepositoryError> {
        let slot = self.bound_slot(binding);
        let role = self.bindings[binding].role;
        if self.closed.load(Ordering::Acquire) {
            return Err(shut_down(role));
        }
        let client = slot
            .client
            .get_or_try_init(|| self.connect(slot, role))
            .await?;
        if self.closed.load(Ordering::Acquire) {
            return Err(shut_down(role));
        }
        Ok(client.clone())
    }

    /// Creates the slot's client. Only SRV and TXT lookups (for `mongodb+srv://`) happen
    /// here; connections are opened by the driver in the background and on demand.
    async fn connect(&self, slot: &Slot, role: Role) -> Result<Client, RepositoryError> {
        let settings = &slot.settings;
        let fail = |err: mongodb::error::Error| {
            slot.state.creation_failed();
            let operation = Operation { role, unique: None };
            let err = repository_error(&err, operation, |m| settings.uri.scrub(m));
            tracing::warn!(%role, uri = settings.redacted_uri(), error = %err, "cannot create a MongoDB client");
            err
        };
        slot.state.client_created(self.roles_of(slot));
        let mut options = ClientOptions::parse(settings.uri.parsed().clone())
            .await
            .map_err(fail)?;
        let chosen = &settings.client_settings();
        options.max_pool_size = Some(slot.max_pool_size);
        options.min_pool_size = chosen.min_pool_size.or(options.min_pool_size);
        options.max_connecting = chosen.max_connecting.or(options.max_connecting);
        options.max_idle_time = chosen.max_idle_time.or(options.max_idle_time);
        options.server_selection_timeout = chosen
            .server_selection_timeout
            .or(options.server_selection_timeout);
        options.connect_timeout = chosen.connect_timeout.or(options.connect_timeout);
        options.app_name = chosen.app_name.clone().or(options.app_name.take());
        // The driver's events become the state lines (info/warn) and `debug` lines naming the
        // roles; see `state.rs`, `pool.rs` and `commands.rs`.
        let roles = self.roles_of(slot);
        options.sdam_event_handler = Some(slot.state.event_handler());
        options.cmap_event_handler = Some(
            slot.pool
                .event_handler(Arc::clone(&roles), slot.max_pool_size),
        );
        // Only when something consumes the events: the driver builds a document of every
        // command and reply for the handler (see `MongoSettings::with_command_monitoring`).
        let debug_lines = tracing::enabled!(target: EVENTS_TARGET, tracing::Level::DEBUG);
        if self.command_monitoring || debug_lines {
            options.command_event_handler = Some(
                slot.commands
                    .event_handler(roles, self.command_observer.clone()),
            );
        }
        let client = Client::with_options(options).map_err(fail)?;
        self.clients_created.fetch_add(1, Ordering::AcqRel);
        tracing::info!(%role, uri = settings.redacted_uri(), "created a MongoDB client");
        Ok(client)
    }

    async fn close_all(&self) {
        self.closed.store(true, Ordering::Release);
        for slot in &self.slots {
            slot.state.closing();
        }
        for slot in &self.slots {
            // Waits for a client still being created (a `+srv` lookup may be under way) and
            // never starts a new one, so no client outlives the shutdown unclosed.
            let created = slot.client.get_or_try_init(|| async { Err(()) }).await;
            if let Ok(client) = created {
                let graceful = tokio::time::timeout(SHUTDOWN_GRACE, client.clone().shutdown());
                if graceful.await.is_err() {
                    tracing::warn!(
                        uri = slot.settings.redacted_uri(),
                        "cursors or sessions still open after {SHUTDOWN_GRACE:?}: closing the MongoDB client at once"
                    );
                    client.clone().shutdown().immediate(true).await;
                }
            }
            slot.state.closed();
        }
        tracing::info!("closed every MongoDB client");
    }
}

/// The pool size a client for `settings` gets: the setting, else the URI's `maxPoolSize`, else
/// [`DEFAULT_MAX_POOL_SIZE`]. Read without I/O: a `mongodb+srv://` TXT record cannot set it.
fn max_pool_size(settings: &RoleSettings) -> u32 {
    settings
        .client_settings()
        .max_pool_size
        .or(settings.uri.parsed().max_pool_size)
        .unwrap_or(DEFAULT_MAX_POOL_SIZE)
}

fn shut_down(role: Role) -> RepositoryError {
    RepositoryError::Unavailable {
        role,
        reason: "the connection manager has been shut down".into(),
    }
}

impl fmt::Debug for ConnectionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut roles = f.debug_map();
        for binding in &self.inner.bindings {
            let slot = &self.inner.slots[binding.slot];
            roles.entry(
                &binding.role.as_str(),
                &format_args!(
                    "{} ({}, {})",
                    binding.database,
                    slot.settings.redacted_uri(),
                    slot.state.get()
                ),
            );
        }
        roles.finish()
    }
}

#[async_trait]
impl ConnectionMonitor for ConnectionManager {
    fn roles(&self) -> Vec<Role> {
        ConnectionManager::roles(self)
    }

    fn state(&self, role: Role) -> ConnectionState {
        self.inner
            .slot(role)
            .map_or(ConnectionState::Disconnected, |slot| slot.state.get())
    }

    fn client_of(&self, role: Role) -> Option<usize> {
        let index = self.inner.binding_index(role).ok()?;
        Some(self.inner.bindings[index].slot)
    }

    async fn ping(&self, role: Role) -> Result<Duration, RepositoryError> {
        let connection = self
            .role(role)
            .map_err(|unknown| RepositoryError::Unavailable {
                role,
                reason: unknown.to_string(),
            })?;
        let timeout = self.inner.ping_timeout;
        let round_trip = async {
            let database = connection.database().await?;
            let started = Instant::now();
            database
                .run_command(doc! { "ping": 1 })
                .await
                .map_err(|err| connection.map_error(&err, None))?;
            let latency = started.elapsed();
            connection.answered();
            Ok(latency)
        };
        tokio::time::timeout(timeout, round_trip)
            .await
            .unwrap_or_else(|_| {
                Err(RepositoryError::Unavailable {
                    role,
                    reason: format!("no answer to ping within {} ms", timeout.as_millis()),
                })
            })
    }
}

/// The way to one role's database. It offers no way to name another database: code that is
/// given the `main` handle cannot reach `masteradmin` through it. (Isolation against code
/// that digs into the driver's `Database::client()` comes from giving each role its own
/// credentials in its URI.)
#[derive(Clone)]
pub struct RoleConnection {
    inner: Arc<Inner>,
    role: Role,
    /// Index of the role's binding: checked to exist when the handle was made.
    binding: usize,
}

impl RoleConnection {
    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The name of the role's database.
    pub fn database_name(&self) -> &str {
        &self.inner.bindings[self.binding].database
    }

    /// The role's database for reading, creating the client on first use (once, however many
    /// callers race), with the role's read preference and read and write concerns
    /// ([`RoleOptions`](crate::RoleOptions)). No server is contacted here; the first operation
    /// waits for one. Writes go through [`Self::database_for_writes`], which a read-only role
    /// refuses.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when an `mongodb+srv://` lookup fails or the manager
    /// has been shut down; [`RepositoryError::Internal`] when the driver refuses the options.
    pub async fn database(&self) -> Result<Database, RepositoryError> {
        // Asked for first on every call: it checks that the manager is not shut down.
        let client = self.inner.client(self.binding).await?;
        let binding = &self.inner.bindings[self.binding];
        let database = binding.handle.get_or_init(|| {
            client.database_with_options(&binding.database, binding.database_options.clone())
        });
        Ok(database.clone())
    }

    /// The role's database for writing (inserts, replaces, deletes, index builds): the one
    /// place where a read-only role ([`RoleOptions::read_only`](crate::RoleOptions::read_only))
    /// is enforced, before any client is created or anything is sent.
    ///
    /// # Errors
    /// [`RepositoryError::ReadOnly`] for a read-only role; otherwise as [`Self::database`].
    pub async fn database_for_writes(&self) -> Result<Database, RepositoryError> {
        if self.read_only() {
            return Err(RepositoryError::ReadOnly { role: self.role });
        }
        self.database().await
    }

    /// Whether writes through this role are refused.
    pub fn read_only(&self) -> bool {
        self.inner.bindings[self.binding].read_only
    }

    /// Whether repositories on this connection create the model's declared indexes before
    /// their first write ([`MongoSettings::with_auto_index`]).
    pub fn auto_index(&self) -> bool {
        self.inner.auto_index
    }

    /// The role's connection state.
    pub fn state(&self) -> ConnectionState {
        self.slot().state.get()
    }

    fn slot(&self) -> &Slot {
        self.inner.bound_slot(self.binding)
    }

    /// Maps a driver error of an operation through this role; `unique` names the kind and key
    /// reported for a duplicate.
    pub(crate) fn map_error(
        &self,
        err: &mongodb::error::Error,
        unique: Option<(&'static str, &'static str)>,
    ) -> RepositoryError {
        let slot = self.slot();
        let operation = Operation {
            role: self.role,
            unique,
        };
        repository_error(err, operation, |m| slot.settings.uri.scrub(m))
    }

    /// An operation got an answer from the server.
    pub(crate) fn answered(&self) {
        self.slot().state.answered();
    }
}

impl fmt::Debug for RoleConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleConnection")
            .field("role", &self.role)
            .field("database", &self.database_name())
            .field("read_only", &self.read_only())
            .field("state", &self.state())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn handles_are_thread_safe_and_cheap_to_clone() {
        assert_send_sync::<ConnectionManager>();
        assert_send_sync::<RoleConnection>();
    }

    #[test]
    fn roles_whose_uris_differ_only_in_the_database_share_one_slot() {
        let settings = MongoSettings::new("mongodb://h:1/main")
            .unwrap()
            .with_masteradmin_uri("mongodb://h:1/masteradmin")
            .unwrap();
        let manager = ConnectionManager::new(settings);
        assert_eq!(manager.inner.slots.len(), 1);
        assert_eq!(manager.database_name(Role::MAIN), Some("main"));
        assert_eq!(
            manager.database_name(Role::MASTERADMIN),
            Some("masteradmin")
        );

        let settings = MongoSettings::new("mongodb://h:1/main")
            .unwrap()
            .with_masteradmin_uri("mongodb://h:2/masteradmin")
            .unwrap();
        assert_eq!(ConnectionManager::new(settings).inner.slots.len(), 2);
    }

    #[test]
    fn any_number_of_roles_share_a_client_when_only_their_databases_differ() {
        let billing = Role::new("billing").unwrap();
        let analytics = Role::new("analytics").unwrap();
        let settings = MongoSettings::new("mongodb://h:1/main")
            .unwrap()
            .with_role_uri(billing, "mongodb://h:1/billing")
            .unwrap()
            .with_role_uri(analytics, "mongodb://elsewhere:1/analytics")
            .unwrap();
        let manager = ConnectionManager::new(settings);
        assert_eq!(
            manager.inner.slots.len(),
            2,
            "main, masteradmin and billing share one"
        );
        assert_eq!(
            manager.roles(),
            [Role::MAIN, Role::MASTERADMIN, billing, analytics]
        );
        assert_eq!(manager.database_name(billing), Some("billing"));
        let client = |role| manager.client_of(role).unwrap();
        assert_eq!(client(Role::MAIN), client(billing));
        assert_eq!(client(Role::MASTERADMIN), client(billing));
        assert_ne!(client(Role::MAIN), client(analytics));
        let archive = Role::new("archive").unwrap();
        assert_eq!(manager.client_of(archive), None);
        let unknown = manager.role(archive).unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("main, masteradmin, billing, analytics"),
            "{unknown}"
        );
    }

    #[test]
    fn role_options_are_per_binding_and_only_pool_options_split_a_client() {
        use crate::config::RoleOptions;
        use mongodb::options::WriteConcern;

        let billing = Role::new("billing").unwrap();
        let settings = MongoSettings::new("mongodb://h:1/main")
            .unwrap()
            .with_role_uri(billing, "mongodb://h:1/billing")
            .unwrap()
            .with_role_options(
                Role::MASTERADMIN,
                RoleOptions {
                    read_only: true,
                    write_concern: Some(WriteConcern::majority()),
                    ..RoleOptions::default()
                },
            )
            .unwrap()
            .with_role_options(
                billing,
                RoleOptions {
                    max_idle_time: Some(Duration::from_secs(60)),
                    ..RoleOptions::default()
                },
            )
            .unwrap();
        let manager = ConnectionManager::new(settings);
        assert_eq!(manager.inner.slots.len(), 2, "billing's pool differs");
        assert_eq!(
            manager.client_of(Role::MAIN),
            manager.client_of(Role::MASTERADMIN)
        );
        assert_ne!(manager.client_of(Role::MAIN), manager.client_of(billing));
        assert!(manager.role(Role::MASTERADMIN).unwrap().read_only());
        assert!(!manager.role(Role::MAIN).unwrap().read_only());
        let options = |role| {
            let index = manager.inner.binding_index(role).unwrap();
            manager.inner.bindings[index].database_options.clone()
        };
        assert_eq!(
            options(Role::MASTERADMIN).write_concern,
            Some(WriteConcern::majority())
        );
        assert_eq!(options(Role::MAIN).write_concern, None);
    }

    #[tokio::test]
    async fn a_read_only_role_refuses_the_write_database_without_creating_a_client() {
        use crate::config::RoleOptions;

        let settings = MongoSettings::new("mongodb://h:1/main")
            .unwrap()
            .with_role_options(
                Role::MAIN,
                RoleOptions {
                    read_only: true,
                    ..RoleOptions::default()
                },
            )
            .unwrap();
        let manager = ConnectionManager::new(settings);
        let refused = manager
            .role(Role::MAIN)
            .unwrap()
            .database_for_writes()
            .await;
        assert_eq!(
            refused.err(),
            Some(RepositoryError::ReadOnly { role: Role::MAIN })
        );
        assert_eq!(manager.client_count(), 0);
    }

    #[test]
    fn before_first_use_every_role_is_disconnected_and_no_client_exists() {
        let manager = ConnectionManager::new(MongoSettings::new("mongodb://h:1/main").unwrap());
        for role in Role::DEFAULTS {
            assert_eq!(manager.state(role), ConnectionState::Disconnected);
        }
        assert_eq!(manager.client_count(), 0);
    }

    #[test]
    fn before_first_use_the_pool_is_empty_with_the_limit_from_the_settings_the_uri_or_the_default()
    {
        let stats = |settings: MongoSettings, role| {
            ConnectionManager::new(settings).pool_stats(role).unwrap()
        };
        let from_uri = MongoSettings::new("mongodb://h:1/main?maxPoolSize=7").unwrap();
        let pool = stats(from_uri.clone(), Role::MAIN);
        assert_eq!((pool.open, pool.peak, pool.max_pool_size), (0, 0, 7));
        assert_eq!(stats(from_uri.clone(), Role::MASTERADMIN), pool);
        let pool = stats(from_uri.with_max_pool_size(3), Role::MAIN);
        assert_eq!(pool.max_pool_size, 3);
        let pool = stats(
            MongoSettings::new("mongodb://h:1/main").unwrap(),
            Role::MAIN,
        );
        assert_eq!(pool.max_pool_size, DEFAULT_MAX_POOL_SIZE);
    }
}
