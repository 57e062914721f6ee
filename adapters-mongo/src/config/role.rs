//! One role's settings: its URI, its own options from code or the `MONGO_*_<ROLE>` variables,
//! and how they stand over the settings-wide ones.

use std::fmt;
use std::time::Duration;

use mongodb::options::{
    ClientOptions, ConnectionString, ReadConcern, ReadPreference, WriteConcern,
};
use ports::Role;

use super::error::ConfigError;
use super::names::{
    role_variable, MONGO_MAX_CONNECTING, MONGO_MAX_IDLE_TIME_MS, MONGO_MAX_POOL_SIZE,
    MONGO_MIN_POOL_SIZE, MONGO_READ_CONCERN, MONGO_READ_ONLY, MONGO_READ_PREFERENCE,
    MONGO_WRITE_CONCERN,
};
use super::values::{
    parse_read_concern, parse_read_preference, parse_write_concern, pool_number, positive, switch,
};
use crate::uri::{MongoUri, UriProblem};

/// How to reach the database of one role. Read through
/// [`MongoSettings::role`](super::MongoSettings::role).
#[derive(Clone)]
pub struct RoleSettings {
    pub(crate) uri: MongoUri,
    /// The options set for every role.
    pub(crate) options: ClientSettings,
    /// This role's own options, over [`Self::options`] where both set one.
    pub(crate) role_options: RoleOptions,
}

/// The options of one role, set with
/// [`MongoSettings::with_role_options`](super::MongoSettings::with_role_options) or the
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
    pub(super) fn from_lookup(
        role: Role,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
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

/// Role over global over URI: the one place that decides which value each client option
/// takes. A role's own pool option ([`RoleOptions`]) wins; else the settings-wide one
/// (`MongoSettings::with_*`, `MONGO_*`); else the URI's. Timeouts and the application name are
/// not per role, so only the last two layers count for them. `None` leaves the driver's
/// default (the crate's, for the pool size).
///
/// `uri` is the URI's layer as the caller has it: the parsed connection string when no I/O
/// is allowed (client sharing, the pool limit), the driver's options once a client is made;
/// empty for the settings' own view.
pub(crate) fn role_over_global_over_uri(
    role: &RoleOptions,
    global: &ClientSettings,
    uri: ClientSettings,
) -> ClientSettings {
    ClientSettings {
        max_pool_size: role
            .max_pool_size
            .or(global.max_pool_size)
            .or(uri.max_pool_size),
        min_pool_size: role
            .min_pool_size
            .or(global.min_pool_size)
            .or(uri.min_pool_size),
        max_connecting: role
            .max_connecting
            .or(global.max_connecting)
            .or(uri.max_connecting),
        max_idle_time: role
            .max_idle_time
            .or(global.max_idle_time)
            .or(uri.max_idle_time),
        server_selection_timeout: global
            .server_selection_timeout
            .or(uri.server_selection_timeout),
        connect_timeout: global.connect_timeout.or(uri.connect_timeout),
        app_name: global.app_name.clone().or(uri.app_name),
    }
}

impl From<&ConnectionString> for ClientSettings {
    /// The options the connection string sets, read without I/O.
    fn from(uri: &ConnectionString) -> Self {
        Self {
            max_pool_size: uri.max_pool_size,
            min_pool_size: uri.min_pool_size,
            max_connecting: uri.max_connecting,
            max_idle_time: uri.max_idle_time,
            server_selection_timeout: uri.server_selection_timeout,
            connect_timeout: uri.connect_timeout,
            app_name: uri.app_name.clone(),
        }
    }
}

impl From<&ClientOptions> for ClientSettings {
    /// The same options as the driver parsed them for a client (after any SRV lookup).
    fn from(options: &ClientOptions) -> Self {
        Self {
            max_pool_size: options.max_pool_size,
            min_pool_size: options.min_pool_size,
            max_connecting: options.max_connecting,
            max_idle_time: options.max_idle_time,
            server_selection_timeout: options.server_selection_timeout,
            connect_timeout: options.connect_timeout,
            app_name: options.app_name.clone(),
        }
    }
}

impl RoleSettings {
    pub(super) fn parse(variable: String, text: &str) -> Result<Self, ConfigError> {
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

    /// The client options of this role: its own pool options over the settings-wide ones,
    /// the URI's left out.
    fn client_settings(&self) -> ClientSettings {
        role_over_global_over_uri(&self.role_options, &self.options, ClientSettings::default())
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
    /// [`DEFAULT_MAX_POOL_SIZE`](super::DEFAULT_MAX_POOL_SIZE)): the role's own, else the
    /// settings-wide one.
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

    /// The client options as the driver would get them, before its own defaults: the role's
    /// own value, else the settings-wide one, else the URI's ([`role_over_global_over_uri`]).
    /// Two roles whose URIs have the same identity differ here exactly when their clients
    /// would.
    pub(crate) fn effective_client(&self) -> ClientSettings {
        let uri = ClientSettings::from(self.uri.parsed());
        role_over_global_over_uri(&self.role_options, &self.options, uri)
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
