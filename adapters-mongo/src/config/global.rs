//! The settings with a fixed name, typed: what the `MONGO_*` variables say for every role, or
//! what a command line gives in their place. Per-role variables override them, and they
//! override the URI's own options ([`role_over_global_over_uri`](super::role_over_global_over_uri)).

use std::time::Duration;

use ports::Role;

use super::error::ConfigError;
use super::names::{
    MONGO_AUTO_INDEX, MONGO_MAX_CONNECTING, MONGO_MAX_IDLE_TIME_MS, MONGO_MAX_POOL_SIZE,
    MONGO_MIN_POOL_SIZE, MONGO_ROLES, MONGO_SERVER_SELECTION_TIMEOUT_MS,
};
use super::values::{pool_number, positive, switch};

/// Every role's options, and the further roles: unset fields leave the URI's options (or the
/// driver's defaults) in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    /// Roles besides `main` and `masteradmin` ([`MONGO_ROLES`]); each needs its
    /// `MONGO_URI_<NAME>` ([`Role::uri_variable`]).
    pub roles: Vec<Role>,
    /// Connections per client ([`MONGO_MAX_POOL_SIZE`]).
    pub max_pool_size: Option<u32>,
    /// Connections each client keeps open even when idle ([`MONGO_MIN_POOL_SIZE`]).
    pub min_pool_size: Option<u32>,
    /// Connections a pool may be opening at once ([`MONGO_MAX_CONNECTING`]).
    pub max_connecting: Option<u32>,
    /// How long a pooled connection may stay idle ([`MONGO_MAX_IDLE_TIME_MS`]).
    pub max_idle_time: Option<Duration>,
    /// How long an operation waits for a usable server
    /// ([`MONGO_SERVER_SELECTION_TIMEOUT_MS`]).
    pub server_selection_timeout: Option<Duration>,
    /// Whether repositories create their declared indexes before their first write
    /// ([`MONGO_AUTO_INDEX`]; `true` when unset).
    pub auto_index: Option<bool>,
}

impl GlobalOptions {
    /// The options the process environment's `MONGO_*` variables say: what a service that
    /// adds to them (a role of its own) starts from, before
    /// [`MongoSettings::configured`](super::MongoSettings::configured).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable whose value is not accepted.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The options the variables `get` reads say; blank ones count as unset.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable whose value is not accepted.
    pub(super) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let millis = |variable| -> Result<Option<Duration>, ConfigError> {
            get(variable)
                .map(|value| {
                    positive(variable, &value, parse_setting::MILLIS).map(Duration::from_millis)
                })
                .transpose()
        };
        let count = |variable, minimum| -> Result<Option<u32>, ConfigError> {
            get(variable)
                .map(|value| pool_number(variable, &value, minimum))
                .transpose()
        };
        let roles = get(MONGO_ROLES)
            .iter()
            .flat_map(|names| names.split(','))
            .map(|name| Role::new(name.trim()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            roles,
            max_pool_size: count(MONGO_MAX_POOL_SIZE, 1)?,
            min_pool_size: count(MONGO_MIN_POOL_SIZE, 0)?,
            max_connecting: count(MONGO_MAX_CONNECTING, 1)?,
            max_idle_time: millis(MONGO_MAX_IDLE_TIME_MS)?,
            server_selection_timeout: millis(MONGO_SERVER_SELECTION_TIMEOUT_MS)?,
            auto_index: get(MONGO_AUTO_INDEX)
                .map(|value| switch(MONGO_AUTO_INDEX, &value))
                .transpose()?,
        })
    }
}

/// The same rules as the variables', for a command line's parser (clap's `value_parser`):
/// each returns the typed value, or what is accepted.
pub mod parse_setting {
    use std::time::Duration;

    use super::super::values::switch;

    /// What a duration in milliseconds must be.
    pub(super) const MILLIS: &str = "a whole number of milliseconds above 0";

    /// A number of connections from 1 (a pool's size, how many it opens at once).
    ///
    /// # Errors
    /// The text is not a whole number from 1 to 4294967295.
    pub fn connections(text: &str) -> Result<u32, String> {
        match text.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err("a whole number from 1 to 4294967295".to_owned()),
        }
    }

    /// A number of connections from 0 (the idle minimum).
    ///
    /// # Errors
    /// The text is not a whole number from 0 to 4294967295.
    pub fn connections_or_none(text: &str) -> Result<u32, String> {
        text.trim()
            .parse::<u32>()
            .map_err(|_| "a whole number from 0 to 4294967295".to_owned())
    }

    /// A duration in whole milliseconds above 0.
    ///
    /// # Errors
    /// The text is not a whole number above 0.
    pub fn millis(text: &str) -> Result<Duration, String> {
        match text.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(Duration::from_millis(n)),
            _ => Err(MILLIS.to_owned()),
        }
    }

    /// `true`, `1`, `yes`, `on`, or `false`, `0`, `no`, `off`, in any case.
    ///
    /// # Errors
    /// Any other text.
    pub fn on_off(text: &str) -> Result<bool, String> {
        switch("", text).map_err(|_| "true or false".to_owned())
    }
}
