//! Where each role's database is and how to reach it: from the environment or built in code,
//! validated without I/O.

use std::fmt;
use std::time::Duration;

use mongodb::options::{Acknowledgment, ReadConcern, ReadPreference, WriteConcern};
use ports::Role;

use crate::commands::CommandObserver;
use crate::uri::{MongoUri, UriProblem};

/// The environment variable with the `main` connection string (required).
pub const MONGO_URI: &str = "MONGO_URI";
/// The environment variable with the `masteradmin` connection string; [`MONGO_URI`] when unset.
pub const MASTER_ADMIN_MONGO_URI: &str = "MASTER_ADMIN_MONGO_URI";
/// The environment variable that declares further roles, by name separated by commas
/// (`billing,analytics`); each needs its own `MONGO_URI_<NAME>` ([`Role::uri_variable`]).
pub const MONGO_ROLES: &str = "MONGO_ROLES";
/// The environment variable with the largest number of connections per client.
pub const MONGO_MAX_POOL_SIZE: &str = "MONGO_MAX_POOL_SIZE";
/// The environment variable with how long an operation waits for a usable server, in ms.
pub const MONGO_SERVER_SELECTION_TIMEOUT_MS: &str = "MONGO_SERVER_SELECTION_TIMEOUT_MS";
/// The environment variable that says whether a repository creates the model's declared
/// indexes before its first write (`true`, the default) or leaves that to an operator
/// (`false`: `app indexes --sync`), see [`MongoSettings::with_auto_index`].
pub const MONGO_AUTO_INDEX: &str = "MONGO_AUTO_INDEX";

/// The environment variable with the number of connections each client keeps open even when
/// idle (the URI's `minPoolSize`, set for every role).
pub const MONGO_MIN_POOL_SIZE: &str = "MONGO_MIN_POOL_SIZE";
/// The environment variable with how many connections a pool may be opening at once (the URI's
/// `maxConnecting`, set for every role).
pub const MONGO_MAX_CONNECTING: &str = "MONGO_MAX_CONNECTING";
/// The environment variable with how long, in ms, a connection may stay idle in the pool before
/// it is closed (the URI's `maxIdleTimeMS`, set for every role): short-lived hosts such as
/// Lambda close idle connections before the server or a NAT drops them.
pub const MONGO_MAX_IDLE_TIME_MS: &str = "MONGO_MAX_IDLE_TIME_MS";
/// The prefix of `MONGO_READ_PREFERENCE_<ROLE>`: where the role's reads go (`primary`,
/// `primaryPreferred`, `secondary`, `secondaryPreferred`, `nearest`). See [`role_variable`].
pub const MONGO_READ_PREFERENCE: &str = "MONGO_READ_PREFERENCE";
/// The prefix of `MONGO_READ_CONCERN_<ROLE>`: the role's read concern (`local`, `majority`,
/// `linearizable`, `available`, `snapshot`).
pub const MONGO_READ_CONCERN: &str = "MONGO_READ_CONCERN";
/// The prefix of `MONGO_WRITE_CONCERN_<ROLE>`: the role's write concern, `majority` or a number
/// of nodes, optionally followed by `:journal` (`majority:journal`, `1`).
pub const MONGO_WRITE_CONCERN: &str = "MONGO_WRITE_CONCERN";
/// The prefix of `MONGO_READ_ONLY_<ROLE>`: `true` makes every write through the role fail as
/// [`RepositoryError::ReadOnly`](ports::RepositoryError::ReadOnly) before it reaches the server.
pub const MONGO_READ_ONLY: &str = "MONGO_READ_ONLY";

/// The pool size when neither the settings nor the URI's `maxPoolSize` give one.
pub const DEFAULT_MAX_POOL_SIZE: u32 = 50;
/// How long [`ConnectionMonitor::ping`](ports::ConnectionMonitor::ping) waits by default.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(5);

/// A configuration that cannot work, found at start-up. The message names the environment
/// variable that carries the setting and shows URIs with their password replaced by `****`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{variable} is not set: give the connection string of the {role} database, such as mongodb://host:27017/{role}")]
    Missing {
        /// The variable.
        variable: String,
        /// The role it configures.
        role: Role,
    },

    /// The URI has no database path.
    #[error("{variable} names no database: add it as the path, as in mongodb://host:27017/name (got {uri})")]
    NoDatabase {
        /// The variable.
        variable: String,
        /// What may be shown of the URI: scheme, hosts and option names.
        uri: String,
    },

    /// The driver cannot parse the URI. Its message may quote the text, secrets included, so
    /// only the scheme and the kind of error are kept.
    #[error("{variable} is not a valid MongoDB connection string: the driver reads {kind} in a {scheme} URI; check the hosts, the option names and that the user name and password are percent-encoded")]
    InvalidUri {
        /// The variable.
        variable: String,
        /// `mongodb`, `mongodb+srv`, or a note that the scheme is neither.
        scheme: &'static str,
        /// The kind of the driver's error.
        kind: &'static str,
    },

    /// A name in [`MONGO_ROLES`] is not a valid role name.
    #[error("{MONGO_ROLES}: {0}")]
    InvalidRole(#[from] ports::InvalidRoleName),

    /// A numeric setting is not a number in range.
    #[error("{variable} must be {expected} (got '{value}')")]
    InvalidNumber {
        /// The variable.
        variable: String,
        /// The value given, cut to 32 characters.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },

    /// A per-role option ([`RoleOptions`]) has a value the driver has no meaning for.
    #[error("{variable} must be {expected} (got '{value}')")]
    InvalidOption {
        /// The variable.
        variable: String,
        /// The value given, cut to 32 characters.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },

    /// Options were given for a role that has not been declared: declare its URI first, so a
    /// misspelt role cannot pass unnoticed.
    #[error("options are given for the {role} role, which is not declared: give its URI first")]
    UndeclaredRole {
        /// The role.
        role: Role,
    },

    /// A switch is neither true nor false.
    #[error("{variable} must be true or false (got '{value}')")]
    InvalidSwitch {
        /// The variable.
        variable: String,
        /// The value given, cut to 32 characters.
        value: String,
    },
}

/// How to reach the database of one role. Read through [`MongoSettings::role`].
#[derive(Clone)]
pub struct RoleSettings {
    pub(crate) uri: MongoUri,
    /// The options set for every role.
    pub(crate) options: ClientSettings,
    /// This role's own options, over [`Self::options`] where both set one.
    pub(crate) role_options: RoleOptions,
}

/// The options of one role, set with [`MongoSettings::with_role_options`] or the
/// `MONGO_*_<ROLE>` variables. `None` leaves the settings-wide value, then the URI's, then the
/// driver's default.
///
/// Read preference and read and write concerns are *database* options
/// (`Client::database_with_options`): roles on one deployment that differ only in them still
/// share one client and one pool. Pool options are *client* options: roles whose pools differ
/// get a client each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleOptions {
    /// Where the role's reads go (the driver's own server selection). Default: the URI's
    /// `readPreference`, else primary.
    pub read_preference: Option<ReadPreference>,
    /// How recent and durable what the role reads must be. Default: the URI's, else the
    /// server's.
    pub read_concern: Option<ReadConcern>,
    /// How many nodes must acknowledge the role's writes. Default: the URI's `w`, else the
    /// server's.
    pub write_concern: Option<WriteConcern>,
    /// Refuse every write through the role ([`RepositoryError::ReadOnly`](ports::RepositoryError::ReadOnly))
    /// before anything is sent, as Rails' `prevent_writes`: for a reporting role, or a replica
    /// this service must never write to.
    pub read_only: bool,
    /// The largest number of connections of the role's client.
    pub max_pool_size: Option<u32>,
    /// The number of connections the role's client keeps open even when idle.
    pub min_pool_size: Option<u32>,
    /// How many connections the role's pool may be opening at once.
    pub max_connecting: Option<u32>,
    /// How long a connection may stay idle in the role's pool before it is closed.
    pub max_idle_time: Option<Duration>,
}

impl RoleOptions {
    /// The options the `MONGO_*_<ROLE>` variables give `role`, read through `get` (which
    /// treats empty values as unset).
    fn from_lookup(role: Role, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut options = RoleOptions::default();
        let variable = |prefix| role_variable(prefix, role);
        let var = variable(MONGO_READ_PREFERENCE);
        if let Some(value) = get(&var) {
            options.read_preference = Some(parse_read_preference(&var, &value)?);
        }
        let var = variable(MONGO_READ_CONCERN);
        if let Some(value) = get(&var) {
            options.read_concern = Some(parse_read_concern(&var, &value)?);
        }
        let var = variable(MONGO_WRITE_CONCERN);
        if let Some(value) = get(&var) {
            options.write_concern = Some(parse_write_concern(&var, &value)?);
        }
        let var = variable(MONGO_READ_ONLY);
        if let Some(value) = get(&var) {
            options.read_only = switch(&var, &value)?;
        }
        let var = variable(MONGO_MAX_POOL_SIZE);
        if let Some(value) = get(&var) {
            options.max_pool_size = Some(pool_number(&var, &value, 1)?);
        }
        let var = variable(MONGO_MIN_POOL_SIZE);
        if let Some(value) = get(&var) {
            options.min_pool_size = Some(pool_number(&var, &value, 0)?);
        }
        let var = variable(MONGO_MAX_CONNECTING);
        if let Some(value) = get(&var) {
            options.max_connecting = Some(pool_number(&var, &value, 1)?);
        }
        let var = variable(MONGO_MAX_IDLE_TIME_MS);
        if let Some(value) = get(&var) {
            let millis = positive(&var, &value, "a whole number of milliseconds above 0")?;
            options.max_idle_time = Some(Duration::from_millis(millis));
        }
        Ok(options)
    }
}

/// The variable that sets the option `prefix` for `role`: `<PREFIX>_<ROLE>`, the role's name in
/// capitals as in [`Role::uri_variable`] (`MONGO_READ_ONLY_MAIN`, `MONGO_WRITE_CONCERN_BILLING`).
pub fn role_variable(prefix: &str, role: Role) -> String {
    format!("{prefix}_{}", role.as_str().to_ascii_uppercase())
}

/// The client options the settings may set over the URI's. `None` leaves the URI's value, or
/// the driver's default (the crate's, for the pool size).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientSettings {
    pub(crate) max_pool_size: Option<u32>,
    pub(crate) min_pool_size: Option<u32>,
    pub(crate) max_connecting: Option<u32>,
    pub(crate) max_idle_time: Option<Duration>,
    pub(crate) server_selection_timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) app_name: Option<String>,
}

impl RoleSettings {
    fn parse(variable: String, text: &str) -> Result<Self, ConfigError> {
        let uri = MongoUri::parse(text).map_err(|problem| match problem {
            UriProblem::NoDatabase { shown } => ConfigError::NoDatabase {
                variable,
                uri: shown,
            },
            UriProblem::Unparsable { scheme, kind } => ConfigError::InvalidUri {
                variable,
                scheme,
                kind,
            },
        })?;
        Ok(Self {
            uri,
            options: ClientSettings::default(),
            role_options: RoleOptions::default(),
        })
    }

    /// The client options of this role: its own pool options over the settings-wide ones.
    pub(crate) fn client_settings(&self) -> ClientSettings {
        let own = &self.role_options;
        let mut options = self.options.clone();
        options.max_pool_size = own.max_pool_size.or(options.max_pool_size);
        options.min_pool_size = own.min_pool_size.or(options.min_pool_size);
        options.max_connecting = own.max_connecting.or(options.max_connecting);
        options.max_idle_time = own.max_idle_time.or(options.max_idle_time);
        options
    }

    /// The role's own options (read preference, concerns, read-only, pool).
    pub fn role_options(&self) -> &RoleOptions {
        &self.role_options
    }

    /// Whether writes through the role are refused ([`RoleOptions::read_only`]).
    pub fn read_only(&self) -> bool {
        self.role_options.read_only
    }

    /// The database the role works in: the path of its URI.
    pub fn database(&self) -> &str {
        self.uri.database()
    }

    /// What may be shown of the URI, for logs and health reports: scheme, hosts, database and
    /// option names, built from the driver's parsed form; credentials and option values are
    /// `****`.
    pub fn redacted_uri(&self) -> &str {
        self.uri.shown()
    }

    /// The largest pool size, when set over the URI's `maxPoolSize` (default
    /// [`DEFAULT_MAX_POOL_SIZE`]): the role's own, else the settings-wide one.
    pub fn max_pool_size(&self) -> Option<u32> {
        self.client_settings().max_pool_size
    }

    /// The smallest pool size, when set over the URI's `minPoolSize`: the role's own, else
    /// the settings-wide one.
    pub fn min_pool_size(&self) -> Option<u32> {
        self.client_settings().min_pool_size
    }

    /// How many connections the pool may be opening at once, when set over the URI's
    /// `maxConnecting`: the role's own, else the settings-wide one.
    pub fn max_connecting(&self) -> Option<u32> {
        self.client_settings().max_connecting
    }

    /// How long a connection may stay idle, when set over the URI's `maxIdleTimeMS`: the
    /// role's own, else the settings-wide one.
    pub fn max_idle_time(&self) -> Option<Duration> {
        self.client_settings().max_idle_time
    }

    /// The server-selection timeout, when set over the URI's `serverSelectionTimeoutMS`.
    pub fn server_selection_timeout(&self) -> Option<Duration> {
        self.options.server_selection_timeout
    }

    /// The connect timeout, when set over the URI's `connectTimeoutMS`.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.options.connect_timeout
    }

    /// The application name shown in server logs, when set over the URI's `appName`.
    pub fn app_name(&self) -> Option<&str> {
        self.options.app_name.as_deref()
    }

    /// Whether one client (one pool) can serve both: the URIs differ at most in the database
    /// and the client options each would get (the settings', else the URI's, role overrides
    /// included) are the same. Read preference, concerns and read-only are per database and
    /// never split a client.
    pub(crate) fn shares_client_with(&self, other: &Self) -> bool {
        self.uri.same_client_as(&other.uri) && self.effective_client() == other.effective_client()
    }

    /// The client options as the driver would get them, before its own defaults: the
    /// settings' value where there is one, else the URI's. Two roles whose URIs have the same
    /// identity differ here exactly when their clients would.
    fn effective_client(&self) -> ClientSettings {
        let uri = self.uri.parsed();
        let chosen = self.client_settings();
        ClientSettings {
            max_pool_size: chosen.max_pool_size.or(uri.max_pool_size),
            min_pool_size: chosen.min_pool_size.or(uri.min_pool_size),
            max_connecting: chosen.max_connecting.or(uri.max_connecting),
            max_idle_time: chosen.max_idle_time.or(uri.max_idle_time),
            server_selection_timeout: chosen
                .server_selection_timeout
                .or(uri.server_selection_timeout),
            connect_timeout: chosen.connect_timeout.or(uri.connect_timeout),
            app_name: chosen.app_name.or_else(|| uri.app_name.clone()),
        }
    }
}

impl fmt::Debug for RoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSettings")
            .field("uri", &self.uri.shown())
            .field("database", &self.uri.database())
            .field("options", &self.options)
            .field("role_options", &self.role_options)
            .finish()
    }
}

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
        let mut settings = Self::new(main_uri)?;
        if let Some(uri) = get(MASTER_ADMIN_MONGO_URI) {
            settings = settings.with_masteradmin_uri(uri)?;
        }
        for name in get(MONGO_ROLES).iter().flat_map(|names| names.split(',')) {
            let role = Role::new(name.trim())?;
            let variable = role.uri_variable();
            let uri = get(&variable).ok_or(ConfigError::Missing { variable, role })?;
            settings = settings.with_role_uri(role, uri)?;
        }
        if let Some(value) = get(MONGO_MAX_POOL_SIZE) {
            let expected = "a whole number from 1 to 4294967295";
            let size = positive(MONGO_MAX_POOL_SIZE, &value, expected)?;
            let size = u32::try_from(size)
                .map_err(|_| invalid_number(MONGO_MAX_POOL_SIZE, &value, expected))?;
            settings = settings.with_max_pool_size(size);
        }
        if let Some(value) = get(MONGO_SERVER_SELECTION_TIMEOUT_MS) {
            let millis = positive(
                MONGO_SERVER_SELECTION_TIMEOUT_MS,
                &value,
                "a whole number of milliseconds above 0",
            )?;
            settings = settings.with_server_selection_timeout(Duration::from_millis(millis));
        }
        if let Some(value) = get(MONGO_AUTO_INDEX) {
            settings = settings.with_auto_index(switch(MONGO_AUTO_INDEX, &value)?);
        }
        settings = settings.with_pool_options_from(get)?;
        for role in settings.roles().collect::<Vec<_>>() {
            let options = RoleOptions::from_lookup(role, get)?;
            if options != RoleOptions::default() {
                settings = settings.with_role_options(role, options)?;
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

    /// [`MONGO_MIN_POOL_SIZE`], [`MONGO_MAX_CONNECTING`] and [`MONGO_MAX_IDLE_TIME_MS`].
    fn with_pool_options_from(
        mut self,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        if let Some(value) = get(MONGO_MIN_POOL_SIZE) {
            self = self.with_min_pool_size(pool_number(MONGO_MIN_POOL_SIZE, &value, 0)?);
        }
        if let Some(value) = get(MONGO_MAX_CONNECTING) {
            self = self.with_max_connecting(pool_number(MONGO_MAX_CONNECTING, &value, 1)?);
        }
        if let Some(value) = get(MONGO_MAX_IDLE_TIME_MS) {
            let expected = "a whole number of milliseconds above 0";
            let millis = positive(MONGO_MAX_IDLE_TIME_MS, &value, expected)?;
            self = self.with_max_idle_time(Duration::from_millis(millis));
        }
        Ok(self)
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

/// The variable that configures `role`'s URI.
fn variable_of(role: Role) -> String {
    match role {
        Role::MAIN => MONGO_URI.to_owned(),
        Role::MASTERADMIN => MASTER_ADMIN_MONGO_URI.to_owned(),
        other => other.uri_variable(),
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

fn positive(variable: &str, value: &str, expected: &'static str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid_number(variable, value, expected)),
    }
}

/// A pool count from `minimum` to `u32::MAX`.
fn pool_number(variable: &str, value: &str, minimum: u32) -> Result<u32, ConfigError> {
    let expected = if minimum == 0 {
        "a whole number from 0 to 4294967295"
    } else {
        "a whole number from 1 to 4294967295"
    };
    match value.trim().parse::<u32>() {
        Ok(n) if n >= minimum => Ok(n),
        _ => Err(invalid_number(variable, value, expected)),
    }
}

fn invalid_option(variable: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::InvalidOption {
        variable: variable.to_owned(),
        value: value.chars().take(32).collect(),
        expected,
    }
}

/// A read preference mode by its connection-string name, in any case.
fn parse_read_preference(variable: &str, value: &str) -> Result<ReadPreference, ConfigError> {
    let mode = value.trim().to_ascii_lowercase();
    Ok(match mode.as_str() {
        "primary" => ReadPreference::Primary,
        "primarypreferred" => ReadPreference::PrimaryPreferred { options: None },
        "secondary" => ReadPreference::Secondary { options: None },
        "secondarypreferred" => ReadPreference::SecondaryPreferred { options: None },
        "nearest" => ReadPreference::Nearest { options: None },
        _ => {
            return Err(invalid_option(
                variable,
                value,
                "primary, primaryPreferred, secondary, secondaryPreferred or nearest",
            ))
        }
    })
}

/// A read concern level the server knows, in any case.
fn parse_read_concern(variable: &str, value: &str) -> Result<ReadConcern, ConfigError> {
    Ok(match value.trim().to_ascii_lowercase().as_str() {
        "local" => ReadConcern::local(),
        "majority" => ReadConcern::majority(),
        "linearizable" => ReadConcern::linearizable(),
        "available" => ReadConcern::available(),
        "snapshot" => ReadConcern::snapshot(),
        _ => {
            return Err(invalid_option(
                variable,
                value,
                "local, majority, linearizable, available or snapshot",
            ))
        }
    })
}

/// `majority` or a number of nodes, optionally followed by `:journal`.
fn parse_write_concern(variable: &str, value: &str) -> Result<WriteConcern, ConfigError> {
    const EXPECTED: &str =
        "majority or a number of nodes, optionally followed by :journal (majority:journal)";
    let text = value.trim();
    let (w, journal) = match text.split_once(':') {
        Some((w, "journal")) => (w, true),
        Some(_) => return Err(invalid_option(variable, value, EXPECTED)),
        None => (text, false),
    };
    let w = if w.eq_ignore_ascii_case("majority") {
        Acknowledgment::Majority
    } else {
        match w.parse::<u32>() {
            // An unacknowledged write cannot wait for the journal.
            Ok(0) if journal => return Err(invalid_option(variable, value, EXPECTED)),
            Ok(nodes) => Acknowledgment::Nodes(nodes),
            Err(_) => return Err(invalid_option(variable, value, EXPECTED)),
        }
    };
    let mut concern = WriteConcern::from(w);
    if journal {
        concern.journal = Some(true);
    }
    Ok(concern)
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), in any case.
fn switch(variable: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::InvalidSwitch {
            variable: variable.to_owned(),
            value: value.chars().take(32).collect(),
        }),
    }
}

fn invalid_number(variable: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::InvalidNumber {
        variable: variable.to_owned(),
        value: value.chars().take(32).collect(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn the_masteradmin_uri_falls_back_to_the_main_one() {
        let settings =
            MongoSettings::from_lookup(lookup(&[(MONGO_URI, "mongodb://h/app")])).unwrap();
        assert_eq!(settings.role(Role::MASTERADMIN).unwrap().database(), "app");
        assert!(settings
            .role(Role::MAIN)
            .unwrap()
            .shares_client_with(settings.role(Role::MASTERADMIN).unwrap()));
    }

    #[test]
    fn numbers_from_the_environment_apply_to_both_roles() {
        let settings = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (MASTER_ADMIN_MONGO_URI, "mongodb://h/masteradmin"),
            (MONGO_MAX_POOL_SIZE, "7"),
            (MONGO_SERVER_SELECTION_TIMEOUT_MS, " 1500 "),
        ]))
        .unwrap();
        for role in Role::DEFAULTS {
            assert_eq!(settings.role(role).unwrap().max_pool_size(), Some(7));
            assert_eq!(
                settings.role(role).unwrap().server_selection_timeout(),
                Some(Duration::from_millis(1500))
            );
        }
        assert_eq!(
            settings.role(Role::MASTERADMIN).unwrap().database(),
            "masteradmin"
        );
    }

    #[test]
    fn bad_numbers_are_rejected_naming_the_variable() {
        for (variable, value) in [
            (MONGO_MAX_POOL_SIZE, "0"),
            (MONGO_MAX_POOL_SIZE, "lots"),
            (MONGO_MAX_POOL_SIZE, "99999999999"),
            (MONGO_SERVER_SELECTION_TIMEOUT_MS, "-1"),
        ] {
            let err = MongoSettings::from_lookup(lookup(&[
                (MONGO_URI, "mongodb://h/main"),
                (variable, value),
            ]))
            .unwrap_err();
            assert!(err.to_string().starts_with(variable), "{err}");
        }
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let err = MongoSettings::from_lookup(lookup(&[(MONGO_URI, "  ")])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                variable: MONGO_URI.to_owned(),
                role: Role::MAIN
            }
        );
        let settings = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (MASTER_ADMIN_MONGO_URI, ""),
        ]))
        .unwrap();
        assert_eq!(settings.role(Role::MASTERADMIN).unwrap().database(), "main");
    }

    #[test]
    fn debug_output_shows_no_password() {
        let settings = MongoSettings::new("mongodb://alice:s3cret@h/main")
            .unwrap()
            .with_masteradmin_uri("mongodb://root:t0psecret@h/masteradmin")
            .unwrap();
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0psecret"),
            "{shown}"
        );
        assert!(shown.contains("mongodb://****@h:27017/main"), "{shown}");
    }

    #[test]
    fn further_roles_come_from_mongo_roles_each_with_its_own_required_uri() {
        let settings = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (MONGO_ROLES, "billing, analytics"),
            ("MONGO_URI_BILLING", "mongodb://h/billing"),
            ("MONGO_URI_ANALYTICS", "mongodb://other/analytics"),
            (MONGO_MAX_POOL_SIZE, "9"),
        ]))
        .unwrap();
        let names: Vec<&str> = settings.roles().map(Role::as_str).collect();
        assert_eq!(names, ["main", "masteradmin", "billing", "analytics"]);
        let billing = settings.role(Role::new("billing").unwrap()).unwrap();
        assert_eq!(billing.database(), "billing");
        assert_eq!(billing.max_pool_size(), Some(9));
        assert!(billing.shares_client_with(settings.role(Role::MAIN).unwrap()));
        assert_eq!(settings.fallback_of(Role::MASTERADMIN), Some(Role::MAIN));
        assert_eq!(settings.fallback_of(Role::new("billing").unwrap()), None);
    }

    #[test]
    fn a_declared_role_without_its_uri_is_an_error_naming_the_variable_not_a_fallback() {
        let err = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (MONGO_ROLES, "billing"),
            ("MONGO_URI_BILING", "mongodb://h/billing"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().starts_with("MONGO_URI_BILLING is not set"),
            "{err}"
        );
        let err = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (MONGO_ROLES, "Billing-EU"),
        ]))
        .unwrap_err();
        assert!(err.to_string().starts_with(MONGO_ROLES), "{err}");
    }

    #[test]
    fn auto_index_is_on_unless_mongo_auto_index_turns_it_off() {
        let with = |value: Option<&str>| {
            let mut vars = vec![(MONGO_URI, "mongodb://h/main")];
            vars.extend(value.map(|v| (MONGO_AUTO_INDEX, v)));
            MongoSettings::from_lookup(lookup(&vars))
        };
        assert!(with(None).unwrap().auto_index());
        assert!(with(Some("")).unwrap().auto_index());
        assert!(with(Some("TRUE")).unwrap().auto_index());
        assert!(!with(Some("false")).unwrap().auto_index());
        assert!(!with(Some(" 0 ")).unwrap().auto_index());
        let err = with(Some("maybe")).unwrap_err();
        assert!(err.to_string().starts_with(MONGO_AUTO_INDEX), "{err}");
        let settings = MongoSettings::new("mongodb://h/main").unwrap();
        assert!(!settings.with_auto_index(false).auto_index());
    }

    #[test]
    fn per_role_options_come_from_variables_named_after_the_role() {
        let settings = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (MONGO_ROLES, "billing"),
            ("MONGO_URI_BILLING", "mongodb://h/billing"),
            ("MONGO_READ_PREFERENCE_MAIN", "secondaryPreferred"),
            ("MONGO_READ_CONCERN_MAIN", "majority"),
            ("MONGO_WRITE_CONCERN_MAIN", "majority:journal"),
            ("MONGO_WRITE_CONCERN_BILLING", " 2 "),
            ("MONGO_READ_ONLY_MASTERADMIN", "true"),
            ("MONGO_MAX_POOL_SIZE_BILLING", "3"),
            ("MONGO_MIN_POOL_SIZE_BILLING", "0"),
            ("MONGO_MAX_CONNECTING_BILLING", "1"),
            ("MONGO_MAX_IDLE_TIME_MS_BILLING", "60000"),
            (MONGO_MAX_POOL_SIZE, "7"),
            (MONGO_MAX_IDLE_TIME_MS, "30000"),
        ]))
        .unwrap();
        let main = settings.role(Role::MAIN).unwrap();
        let own = main.role_options();
        assert_eq!(
            own.read_preference,
            Some(ReadPreference::SecondaryPreferred { options: None })
        );
        assert_eq!(own.read_concern, Some(ReadConcern::majority()));
        let mut majority = WriteConcern::majority();
        majority.journal = Some(true);
        assert_eq!(own.write_concern, Some(majority));
        assert!(!main.read_only());
        assert_eq!(main.max_pool_size(), Some(7));
        assert_eq!(main.max_idle_time(), Some(Duration::from_millis(30_000)));

        let admin = settings.role(Role::MASTERADMIN).unwrap();
        assert!(
            admin.read_only(),
            "falls back to main's URI, keeps its own options"
        );
        assert_eq!(admin.role_options().write_concern, None);
        assert!(
            main.shares_client_with(admin),
            "database options never split a client"
        );

        let billing = settings.role(Role::new("billing").unwrap()).unwrap();
        assert_eq!(
            billing.role_options().write_concern,
            Some(WriteConcern::nodes(2))
        );
        assert_eq!(billing.max_pool_size(), Some(3));
        assert_eq!(billing.min_pool_size(), Some(0));
        assert_eq!(billing.max_connecting(), Some(1));
        assert_eq!(billing.max_idle_time(), Some(Duration::from_millis(60_000)));
        assert!(
            !billing.shares_client_with(main),
            "another pool is another client"
        );
    }

    #[test]
    fn a_bad_per_role_value_is_rejected_naming_its_variable() {
        for (variable, value) in [
            ("MONGO_READ_PREFERENCE_MAIN", "secondaries"),
            ("MONGO_READ_CONCERN_MAIN", "strong"),
            ("MONGO_WRITE_CONCERN_MAIN", "all"),
            ("MONGO_WRITE_CONCERN_MAIN", "majority:fsync"),
            ("MONGO_WRITE_CONCERN_MASTERADMIN", "0:journal"),
            ("MONGO_WRITE_CONCERN_MAIN", "-1"),
            ("MONGO_READ_ONLY_MASTERADMIN", "sometimes"),
            ("MONGO_MAX_POOL_SIZE_MAIN", "0"),
            ("MONGO_MIN_POOL_SIZE_MAIN", "-1"),
            ("MONGO_MAX_CONNECTING_MAIN", "0"),
            ("MONGO_MAX_IDLE_TIME_MS_MAIN", "soon"),
            (MONGO_MIN_POOL_SIZE, "few"),
            (MONGO_MAX_CONNECTING, "0"),
            (MONGO_MAX_IDLE_TIME_MS, "0"),
        ] {
            let err = MongoSettings::from_lookup(lookup(&[
                (MONGO_URI, "mongodb://h/main"),
                (variable, value),
            ]))
            .unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{variable} must be")),
                "{variable}={value}: {err}"
            );
        }
    }

    #[test]
    fn role_options_in_code_apply_to_their_role_only_whatever_the_order() {
        let billing = Role::new("billing").unwrap();
        let err = MongoSettings::new("mongodb://h/main")
            .unwrap()
            .with_role_options(billing, RoleOptions::default())
            .err();
        assert_eq!(err, Some(ConfigError::UndeclaredRole { role: billing }));

        let settings = MongoSettings::new("mongodb://h/main")
            .unwrap()
            .with_role_options(
                Role::MASTERADMIN,
                RoleOptions {
                    read_only: true,
                    max_pool_size: Some(2),
                    ..RoleOptions::default()
                },
            )
            .unwrap()
            .with_max_pool_size(9)
            .with_masteradmin_uri("mongodb://h/masteradmin")
            .unwrap()
            .with_role_uri(billing, "mongodb://h/billing")
            .unwrap();
        let admin = settings.role(Role::MASTERADMIN).unwrap();
        assert!(admin.read_only(), "kept across a new URI");
        assert_eq!(admin.max_pool_size(), Some(2), "the role's own wins");
        let billing = settings.role(billing).unwrap();
        assert!(!billing.read_only(), "not copied to other roles");
        assert_eq!(billing.max_pool_size(), Some(9));
        assert_eq!(
            role_variable(MONGO_READ_ONLY, Role::MASTERADMIN),
            "MONGO_READ_ONLY_MASTERADMIN"
        );
    }

    #[test]
    fn pool_options_decide_sharing_by_the_value_the_client_would_get() {
        let settings = MongoSettings::new("mongodb://h/main?maxPoolSize=5")
            .unwrap()
            .with_masteradmin_uri("mongodb://h/masteradmin?maxPoolSize=5")
            .unwrap()
            .with_role_options(
                Role::MASTERADMIN,
                RoleOptions {
                    max_pool_size: Some(5),
                    ..RoleOptions::default()
                },
            )
            .unwrap();
        let main = settings.role(Role::MAIN).unwrap();
        let admin = settings.role(Role::MASTERADMIN).unwrap();
        assert!(
            main.shares_client_with(admin),
            "5 from the URI is 5 from the role"
        );
        for options in [
            RoleOptions {
                min_pool_size: Some(1),
                ..RoleOptions::default()
            },
            RoleOptions {
                max_connecting: Some(1),
                ..RoleOptions::default()
            },
            RoleOptions {
                max_idle_time: Some(Duration::from_secs(60)),
                ..RoleOptions::default()
            },
        ] {
            let split = settings
                .clone()
                .with_role_options(Role::MASTERADMIN, options.clone())
                .unwrap();
            let admin = split.role(Role::MASTERADMIN).unwrap();
            assert!(!main.shares_client_with(admin), "{options:?}");
        }
    }

    #[test]
    fn a_bad_masteradmin_uri_names_its_own_variable() {
        let err = MongoSettings::new("mongodb://h/main")
            .unwrap()
            .with_masteradmin_uri("mongodb://root:t0psecret@h")
            .unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(MASTER_ADMIN_MONGO_URI) && !shown.contains("t0psecret"),
            "{shown}"
        );
    }
}
