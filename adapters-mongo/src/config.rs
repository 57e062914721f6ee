//! Where each role's database is and how to reach it: from the environment or built in code,
//! validated without I/O.

use std::fmt;
use std::time::Duration;

use ports::Role;

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
}

/// How to reach the database of one role. Read through [`MongoSettings::role`].
#[derive(Clone)]
pub struct RoleSettings {
    pub(crate) uri: MongoUri,
    pub(crate) options: ClientSettings,
}

/// The client options the settings may set over the URI's. `None` leaves the URI's value, or
/// the driver's default (the crate's, for the pool size).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientSettings {
    pub(crate) max_pool_size: Option<u32>,
    pub(crate) min_pool_size: Option<u32>,
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
        })
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
    /// [`DEFAULT_MAX_POOL_SIZE`]).
    pub fn max_pool_size(&self) -> Option<u32> {
        self.options.max_pool_size
    }

    /// The smallest pool size, when set over the URI's `minPoolSize`.
    pub fn min_pool_size(&self) -> Option<u32> {
        self.options.min_pool_size
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
    /// and the options are the same.
    pub(crate) fn shares_client_with(&self, other: &Self) -> bool {
        self.uri.same_client_as(&other.uri) && self.options == other.options
    }
}

impl fmt::Debug for RoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSettings")
            .field("uri", &self.uri.shown())
            .field("database", &self.uri.database())
            .field("options", &self.options)
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
/// `authSource`, `mongodb+srv://`, …) reaches the driver untouched. `Debug` shows the URIs
/// redacted.
#[derive(Clone)]
pub struct MongoSettings {
    /// In declaration order, `main` first.
    roles: Vec<DeclaredRole>,
    ping_timeout: Duration,
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
    /// and optionally [`MONGO_MAX_POOL_SIZE`] and [`MONGO_SERVER_SELECTION_TIMEOUT_MS`]. Empty
    /// variables count as unset.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable when a URI is missing, malformed or names no
    /// database, a role name is invalid, or a number is not a positive integer.
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
        let declared = DeclaredRole {
            role,
            settings,
            fallback_of: None,
        };
        match self.roles.iter_mut().find(|d| d.role == role) {
            Some(existing) => *existing = declared,
            None => self.roles.push(declared),
        }
        Ok(self)
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
        shown.field("ping_timeout", &self.ping_timeout).finish()
    }
}

fn positive(variable: &str, value: &str, expected: &'static str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid_number(variable, value, expected)),
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
