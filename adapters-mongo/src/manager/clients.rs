//! The client cache: one shared client per connection identity, each with its client once created,
//! its state and its counts; the roles bound to the shared clients; creating a client on first use and
//! closing them all at shutdown.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mongodb::options::{ClientOptions, DatabaseOptions, SelectionCriteria};
use mongodb::{Client, Database};
use ports::{RepositoryError, Role, UnknownRole};
use tokio::sync::OnceCell;

use crate::commands::{CommandCounter, CommandObserver, EVENTS_TARGET};
use crate::config::{
    role_over_global_over_uri, ClientSettings, MongoSettings, RoleSettings, DEFAULT_MAX_POOL_SIZE,
};
use crate::errors::{repository_error, Operation};
use crate::pool::PoolCounter;
use crate::state::StateCell;

/// How long [`ConnectionManager::shutdown`](super::ConnectionManager::shutdown) lets a client
/// finish its work (open cursors and sessions) before closing it at once.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every clone of the manager and every role handle share.
pub(super) struct Inner {
    pub(super) slots: Vec<SharedClient>,
    /// Per role, in configuration order: the shared client it uses and its database.
    pub(super) bindings: Vec<RoleClient>,
    pub(super) ping_timeout: Duration,
    /// [`MongoSettings::auto_index`], for the repositories of every role.
    pub(super) auto_index: bool,
    /// Given every command event of every client, when the settings name one.
    command_observer: Option<CommandObserver>,
    /// Whether clients watch their commands (counts, metrics, debug lines).
    pub(super) command_monitoring: bool,
    pub(super) clients_created: AtomicUsize,
    closed: AtomicBool,
    pub(super) shutdown: OnceCell<()>,
}

/// One connection identity: its settings, its client once created, its state and its pool's
/// counts.
pub(super) struct SharedClient {
    pub(super) settings: RoleSettings,
    client: OnceCell<Client>,
    pub(super) state: Arc<StateCell>,
    pub(super) pool: Arc<PoolCounter>,
    pub(super) commands: Arc<CommandCounter>,
    /// The pool size given to the driver: the setting, else the URI's, else the crate's default.
    pub(super) max_pool_size: u32,
}

pub(super) struct RoleClient {
    pub(super) role: Role,
    pub(super) slot: usize,
    pub(super) database: String,
    /// The role's read preference and concerns, applied to its `Database` (not its client,
    /// which other roles may share).
    pub(super) database_options: DatabaseOptions,
    /// Writes through the role are refused before anything is sent.
    pub(super) read_only: bool,
    /// The role's `Database`, made once its client exists, then shared: making one per
    /// operation allocated its name and options again on every request.
    pub(super) handle: OnceLock<Database>,
}

impl Inner {
    /// The shared clients and role clients of `settings`, no client created yet: roles that can share a
    /// client share a shared client.
    pub(super) fn new(settings: &MongoSettings) -> Self {
        let mut slots: Vec<SharedClient> = Vec::new();
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
                    slots.push(SharedClient {
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
            bindings.push(RoleClient {
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
        inner
    }

    pub(super) fn binding_index(&self, role: Role) -> Result<usize, UnknownRole> {
        self.bindings
            .iter()
            .position(|b| b.role == role)
            .ok_or_else(|| UnknownRole::new(role, self.bindings.iter().map(|b| b.role)))
    }

    pub(super) fn slot(&self, role: Role) -> Option<&SharedClient> {
        let index = self.binding_index(role).ok()?;
        Some(&self.slots[self.bindings[index].slot])
    }

    /// The roles `shared client` serves, joined by commas (`main,masteradmin`), for its log lines.
    fn roles_of(&self, slot: &SharedClient) -> Arc<str> {
        let roles: Vec<&str> = self
            .bindings
            .iter()
            .filter(|b| std::ptr::eq(&self.slots[b.slot], slot))
            .map(|b| b.role.as_str())
            .collect();
        roles.join(",").into()
    }

    pub(super) fn bound_slot(&self, binding: usize) -> &SharedClient {
        &self.slots[self.bindings[binding].slot]
    }

    pub(super) async fn client(&self, binding: usize) -> Result<Client, RepositoryError> {
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

    /// Creates the shared client's client. Only SRV and TXT lookups (for `mongodb+srv://`) happen
    /// here; connections are opened by the driver in the background and on demand.
    async fn connect(&self, slot: &SharedClient, role: Role) -> Result<Client, RepositoryError> {
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
        let chosen = role_over_global_over_uri(
            &settings.role_options,
            &settings.options,
            ClientSettings::from(&options),
        );
        // The limit the pool's counts report, decided without I/O (see `max_pool_size`).
        options.max_pool_size = Some(slot.max_pool_size);
        options.min_pool_size = chosen.min_pool_size;
        options.max_connecting = chosen.max_connecting;
        options.max_idle_time = chosen.max_idle_time;
        options.server_selection_timeout = chosen.server_selection_timeout;
        options.connect_timeout = chosen.connect_timeout;
        options.app_name = chosen.app_name;
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

    pub(super) async fn close_all(&self) {
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
        .effective_client()
        .max_pool_size
        .unwrap_or(DEFAULT_MAX_POOL_SIZE)
}

fn shut_down(role: Role) -> RepositoryError {
    RepositoryError::Unavailable {
        role,
        reason: "the connection manager has been shut down".into(),
    }
}
