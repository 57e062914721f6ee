//! Where each role's database is and how to reach it: from the environment or built in code,
//! validated without I/O.
//!
//! This file holds [`MongoSettings`], the builder over every role; the variables' names, the
//! error, one role's options and the parsing of values each have a module of their own.

mod error;
mod global;
mod names;
mod role;
#[cfg(test)]
mod tests;
mod values;

use std::fmt;
use std::time::Duration;

use ports::Role;

use crate::commands::CommandObserver;

pub use error::ConfigError;
pub use global::{parse_setting, GlobalOptions};
pub use names::{
    role_variable, MASTER_ADMIN_MONGO_URI, MONGO_AUTO_INDEX, MONGO_MAX_CONNECTING,
    MONGO_MAX_IDLE_TIME_MS, MONGO_MAX_POOL_SIZE, MONGO_MIN_POOL_SIZE, MONGO_READ_CONCERN,
    MONGO_READ_ONLY, MONGO_READ_PREFERENCE, MONGO_ROLES, MONGO_SERVER_SELECTION_TIMEOUT_MS,
    MONGO_URI, MONGO_WRITE_CONCERN,
};
pub(crate) use role::{role_over_global_over_uri, ClientSettings};
pub use role::{RoleOptions, RoleSettings};

use names::variable_of;

/// The pool size when neither the settings nor the URI's `maxPoolSize` give one.
pub const DEFAULT_MAX_POOL_SIZE: u32 = 50;
/// How long [`ConnectionMonitor::ping`](ports::ConnectionMonitor::ping) waits by default.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the database of each role is and how to reach it.
///
/// Every deployment has `main` and `masteradmin`; `masteradmin` falls back to `main`'s URI
/// when it has none of its own, as the Node.js system does. Further roles are declared with
/// [`Self::with_role_uri`] (or [`MONGO_ROLES`]) and never fall back: a role without a URI is a
/// start-up error, so a typo cannot put one role's data in another role's database.
///
/// Options set here (pool sizes, timeouts, application name) apply to every role and take
/// precedence over the same options in the URIs; anything else in a URI (`replicaSet`, `tls`,
/// `authSource`, `mongodb+srv://`, …) reaches the driver untouched. One role's own options
/// (read preference, concerns, read-only, pool) are set with [`Self::with_role_options`] and
/// win over these. `Debug` shows the URIs redacted.
#[derive(Clone)]
pub struct MongoSettings {
    /// In declaration order, `main` first.
    roles: Vec<DeclaredRole>,
    ping_timeout: Duration,
    auto_index: bool,
    /// Also given every command event of every client ([`Self::with_command_event_handler`]).
    command_observer: Option<CommandObserver>,
    /// See [`Self::with_command_monitoring`].
    command_monitoring: bool,
}

#[derive(Clone)]
struct DeclaredRole {
    role: Role,
    settings: RoleSettings,
    /// The role whose URI this one uses because it has none of its own.
    fallback_of: Option<Role>,
}

impl MongoSettings {
    /// Settings from the process environment: [`MONGO_URI`] (required),
    /// [`MASTER_ADMIN_MONGO_URI`] (defaults to `MONGO_URI`: both roles then use the same
    /// database), the roles named in [`MONGO_ROLES`] with their `MONGO_URI_<NAME>` (required),
    /// and optionally [`MONGO_MAX_POOL_SIZE`], [`MONGO_SERVER_SELECTION_TIMEOUT_MS`] and
    /// [`MONGO_AUTO_INDEX`]. Empty variables count as unset.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable when a URI is missing, malformed or names no
    /// database, a role name is invalid, a number is not a positive integer, or
    /// [`MONGO_AUTO_INDEX`] is neither true nor false.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], reading variables through `get`.
    ///
    /// # Errors
    /// As [`Self::from_env`].
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|value| !value.trim().is_empty());
        let main_uri = get(MONGO_URI).ok_or(ConfigError::Missing {
            variable: MONGO_URI.to_owned(),
            role: Role::MAIN,
        })?;
        let options = GlobalOptions::from_lookup(get)?;
        Self::assembled(main_uri, get(MASTER_ADMIN_MONGO_URI), &options, get)
    }

    /// Settings from typed values: the `main` URI, the `masteradmin` one (`main`'s when
    /// `None`), and the options of every role (from a command line, say); each further role's
    /// URI and the per-role options come from the process environment (`MONGO_URI_<NAME>`,
    /// `MONGO_*_<ROLE>`), as [`Self::from_env`] reads them.
    ///
    /// # Errors
    /// As [`Self::from_env`].
    pub fn configured(
        main_uri: impl Into<String>,
        masteradmin_uri: Option<String>,
        options: &GlobalOptions,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self::assembled(main_uri, masteradmin_uri, options, get)
    }

    /// The settings of typed URIs and options, with each further role's URI and each role's
    /// own options read through `get`: the one place both ways in meet.
    fn assembled(
        main_uri: impl Into<String>,
        masteradmin_uri: Option<String>,
        options: &GlobalOptions,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut settings = Self::new(main_uri)?;
        if let Some(uri) = masteradmin_uri {
            settings = settings.with_masteradmin_uri(uri)?;
        }
        for &role in &options.roles {
            let variable = role.uri_variable();
            let uri = get(&variable).ok_or(ConfigError::Missing { variable, role })?;
            settings = settings.with_role_uri(role, uri)?;
        }
        settings = settings.with_global_options(options);
        for role in settings.roles().collect::<Vec<_>>() {
            let own = RoleOptions::from_lookup(role, &get)?;
            if own != RoleOptions::default() {
                settings = settings.with_role_options(role, own)?;
            }
        }
        Ok(settings)
    }

    /// Settings with one URI for `main` and `masteradmin`, which then use the same database;
    /// set the `masteradmin` one with [`Self::with_masteradmin_uri`].
    ///
    /// # Errors
    /// A [`ConfigError`] naming [`MONGO_URI`] when the URI is malformed or names no database.
    pub fn new(main_uri: impl Into<String>) -> Result<Self, ConfigError> {
        let main = RoleSettings::parse(MONGO_URI.to_owned(), &main_uri.into())?;
        let declared = |role, fallback_of| DeclaredRole {
            role,
            settings: main.clone(),
            fallback_of,
        };
        Ok(Self {
            roles: vec![
                declared(Role::MAIN, None),
                declared(Role::MASTERADMIN, Some(Role::MAIN)),
            ],
            ping_timeout: DEFAULT_PING_TIMEOUT,
            auto_index: true,
            command_observer: None,
            command_monitoring: false,
        })
    }

    /// The same settings with this `masteradmin` URI.
    ///
    /// # Errors
    /// A [`ConfigError`] naming [`MASTER_ADMIN_MONGO_URI`] when the URI is malformed or names
    /// no database.
    pub fn with_masteradmin_uri(self, uri: impl Into<String>) -> Result<Self, ConfigError> {
        self.with_role_uri(Role::MASTERADMIN, uri)
    }

    /// The same settings with `role` reached through `uri`: a new role, or another URI for one
    /// already declared. The options set so far apply to it too.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the role's variable ([`MONGO_URI`], [`MASTER_ADMIN_MONGO_URI`]
    /// or `MONGO_URI_<NAME>`) when the URI is malformed or names no database.
    pub fn with_role_uri(
        mut self,
        role: Role,
        uri: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let mut settings = RoleSettings::parse(variable_of(role), &uri.into())?;
        settings.options = self.roles[0].settings.options.clone();
        match self.roles.iter_mut().find(|d| d.role == role) {
            Some(existing) => {
                // The role's own options belong to the role, not to its URI.
                settings.role_options = existing.settings.role_options.clone();
                *existing = DeclaredRole {
                    role,
                    settings,
                    fallback_of: None,
                };
            }
            None => self.roles.push(DeclaredRole {
                role,
                settings,
                fallback_of: None,
            }),
        }
        Ok(self)
    }

    /// The same settings with `role`'s own options (read preference, concerns, read-only,
    /// pool), replacing any given before. They apply to that role only, whatever the order of
    /// the other builder calls: a pool option here wins over [`Self::with_max_pool_size`] and
    /// the like. A `masteradmin` that falls back to `main`'s URI still has its own options.
    ///
    /// ```
    /// # use adapters_mongo::{MongoSettings, RoleOptions};
    /// # use mongodb::options::WriteConcern;
    /// # use ports::Role;
    /// let settings = MongoSettings::new("mongodb://db:27017/main")?
    ///     .with_role_options(Role::MAIN, RoleOptions {
    ///         write_concern: Some(WriteConcern::majority()),
    ///         ..RoleOptions::default()
    ///     })?
    ///     .with_role_options(Role::MASTERADMIN, RoleOptions {
    ///         read_only: true,
    ///         ..RoleOptions::default()
    ///     })?;
    /// assert!(settings.role(Role::MASTERADMIN).unwrap().read_only());
    /// # Ok::<(), adapters_mongo::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::UndeclaredRole`] when `role` has no URI yet.
    pub fn with_role_options(
        mut self,
        role: Role,
        options: RoleOptions,
    ) -> Result<Self, ConfigError> {
        match self.roles.iter_mut().find(|d| d.role == role) {
            Some(declared) => declared.settings.role_options = options,
            None => return Err(ConfigError::UndeclaredRole { role }),
        }
        Ok(self)
    }

    /// Refuses every write through `role` before it reaches the server, keeping its other
    /// options: what [`MONGO_READ_ONLY`]`_<ROLE>=true` says, in code.
    ///
    /// # Errors
    /// [`ConfigError::UndeclaredRole`] when `role` has no URI yet.
    pub fn with_read_only(self, role: Role) -> Result<Self, ConfigError> {
        let kept = self.role(role).map(|r| r.role_options().clone());
        let options = RoleOptions {
            read_only: true,
            ..kept.unwrap_or_default()
        };
        self.with_role_options(role, options)
    }

    /// Gives `observer` every command event (started, succeeded, failed) of every client, after
    /// the manager's own counting ([`ConnectionManager::commands_started`](crate::ConnectionManager::commands_started)).
    /// For tests and diagnostics that must see what the driver sends (a command's
    /// `writeConcern`, `readConcern`, `$readPreference`); events carry command bodies, so keep
    /// the observer cheap and do not log them. Without one, nothing but the counts is kept.
    pub fn with_command_event_handler(
        mut self,
        observer: impl Fn(&mongodb::event::command::CommandEvent) + Send + Sync + 'static,
    ) -> Self {
        self.command_observer = Some(std::sync::Arc::new(observer));
        self
    }

    /// The observer given to [`Self::with_command_event_handler`], if any.
    pub(crate) fn command_observer(&self) -> Option<CommandObserver> {
        self.command_observer.clone()
    }

    /// Has every client watch its commands: counted for
    /// [`ConnectionManager::commands_started`](crate::ConnectionManager::commands_started) and
    /// recorded as `mongodb_commands_*` metrics. Off by default, because the driver then turns
    /// every command and every reply into a document for the handler (about 5 % of a simple
    /// read's CPU): the service turns it on when it serves metrics, tests and tools when they
    /// count commands. Debug logging of `adapters_mongo::events`, or an observer
    /// ([`Self::with_command_event_handler`]), turns it on as well.
    pub fn with_command_monitoring(mut self, on: bool) -> Self {
        self.command_monitoring = on;
        self
    }

    /// Whether [`Self::with_command_monitoring`] asked for command monitoring.
    pub fn command_monitoring(&self) -> bool {
        self.command_monitoring
    }

    /// Every client's pool may be opening at most `count` connections at once (default: the
    /// URI's `maxConnecting`, else the driver's 2).
    pub fn with_max_connecting(self, count: u32) -> Self {
        self.with_options(|o| o.max_connecting = Some(count))
    }

    /// Every client closes connections idle for longer than `time` (default: the URI's
    /// `maxIdleTimeMS`, else never).
    pub fn with_max_idle_time(self, time: Duration) -> Self {
        self.with_options(|o| o.max_idle_time = Some(time))
    }

    /// The largest number of connections of each client (default: the URI's `maxPoolSize`,
    /// else [`DEFAULT_MAX_POOL_SIZE`]).
    pub fn with_max_pool_size(self, size: u32) -> Self {
        self.with_options(|o| o.max_pool_size = Some(size))
    }

    /// The number of connections each client keeps open even when idle (default: the URI's
    /// `minPoolSize`, else 0). The driver rejects a minimum above the maximum at first use.
    pub fn with_min_pool_size(self, size: u32) -> Self {
        self.with_options(|o| o.min_pool_size = Some(size))
    }

    /// How long an operation waits for a usable server before failing as unavailable
    /// (default: the URI's `serverSelectionTimeoutMS`, else 30 s).
    pub fn with_server_selection_timeout(self, timeout: Duration) -> Self {
        self.with_options(|o| o.server_selection_timeout = Some(timeout))
    }

    /// How long opening one connection may take (default: the URI's `connectTimeoutMS`,
    /// else 10 s).
    pub fn with_connect_timeout(self, timeout: Duration) -> Self {
        self.with_options(|o| o.connect_timeout = Some(timeout))
    }

    /// The application name the server logs for each connection (default: the URI's
    /// `appName`).
    pub fn with_app_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.with_options(|o| o.app_name = Some(name.clone()))
    }

    /// How long a health-check ping may take (default [`DEFAULT_PING_TIMEOUT`]).
    pub fn with_ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// Whether repositories create the model's declared indexes themselves, once, before their
    /// first write (default `true`, [`MONGO_AUTO_INDEX`]). Production turns it off so that no
    /// request ever sends `createIndexes` (an index build on a large collection is an operator's
    /// decision): indexes are then made by `app indexes --sync`, and writes rely on them
    /// without checking unique values by reading first, unless
    /// [`MongoRepository::ensure_indexes`](crate::MongoRepository::ensure_indexes) was called
    /// and found them refused.
    pub fn with_auto_index(mut self, on: bool) -> Self {
        self.auto_index = on;
        self
    }

    /// Whether repositories create the declared indexes before their first write.
    pub fn auto_index(&self) -> bool {
        self.auto_index
    }

    /// The settings of `role`, if it is declared.
    pub fn role(&self, role: Role) -> Option<&RoleSettings> {
        self.declared(role).map(|d| &d.settings)
    }

    /// Every declared role, `main` first, in declaration order.
    pub fn roles(&self) -> impl Iterator<Item = Role> + '_ {
        self.roles.iter().map(|d| d.role)
    }

    /// The role whose URI `role` uses because it was given none of its own (`main`, for a
    /// `masteradmin` without [`MASTER_ADMIN_MONGO_URI`]).
    pub fn fallback_of(&self, role: Role) -> Option<Role> {
        self.declared(role).and_then(|d| d.fallback_of)
    }

    /// How long a health-check ping may take.
    pub fn ping_timeout(&self) -> Duration {
        self.ping_timeout
    }

    /// Every option `options` sets, for every role.
    fn with_global_options(mut self, options: &GlobalOptions) -> Self {
        if let Some(size) = options.max_pool_size {
            self = self.with_max_pool_size(size);
        }
        if let Some(size) = options.min_pool_size {
            self = self.with_min_pool_size(size);
        }
        if let Some(count) = options.max_connecting {
            self = self.with_max_connecting(count);
        }
        if let Some(time) = options.max_idle_time {
            self = self.with_max_idle_time(time);
        }
        if let Some(timeout) = options.server_selection_timeout {
            self = self.with_server_selection_timeout(timeout);
        }
        if let Some(on) = options.auto_index {
            self = self.with_auto_index(on);
        }
        self
    }

    fn declared(&self, role: Role) -> Option<&DeclaredRole> {
        self.roles.iter().find(|d| d.role == role)
    }

    fn with_options(mut self, change: impl Fn(&mut ClientSettings)) -> Self {
        for declared in &mut self.roles {
            change(&mut declared.settings.options);
        }
        self
    }
}

impl fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = f.debug_struct("MongoSettings");
        for declared in &self.roles {
            shown.field(declared.role.as_str(), &declared.settings);
        }
        shown
            .field("ping_timeout", &self.ping_timeout)
            .field("auto_index", &self.auto_index)
            .field("command_observer", &self.command_observer.is_some())
            .field("command_monitoring", &self.command_monitoring)
            .finish()
    }
}
