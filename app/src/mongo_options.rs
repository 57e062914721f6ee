//! The fixed-name MongoDB settings as flags, each also read from its environment variable, so
//! that `app --help` lists them. The adapter parses every value into the driver's types
//! ([`MongoSettings::from_lookup`](adapters_mongo::MongoSettings::from_lookup)); the per-role
//! variables stay environment-only, and `--help` shows their patterns ([`PER_ROLE_HELP`]).

use adapters_mongo::{
    MONGO_AUTO_INDEX, MONGO_MAX_CONNECTING, MONGO_MAX_IDLE_TIME_MS, MONGO_MAX_POOL_SIZE,
    MONGO_MIN_POOL_SIZE, MONGO_ROLES, MONGO_SERVER_SELECTION_TIMEOUT_MS,
};
use clap::Args;

/// The MongoDB settings with a fixed name; each applies to every role unless a per-role
/// variable says otherwise (per-role over these over the URI's own options).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "MongoDB")]
pub struct MongoOptions {
    /// Further connection roles by name, separated by commas (`billing,analytics`); each needs
    /// its `MONGO_URI_<NAME>`.
    #[arg(long, env = MONGO_ROLES, global = true)]
    pub mongo_roles: Option<String>,
    /// Connections per client (default 50, or the URI's `maxPoolSize`).
    #[arg(long, env = MONGO_MAX_POOL_SIZE, global = true)]
    pub mongo_max_pool_size: Option<String>,
    /// Connections each client keeps open even when idle (the URI's `minPoolSize`, else 0).
    #[arg(long, env = MONGO_MIN_POOL_SIZE, global = true)]
    pub mongo_min_pool_size: Option<String>,
    /// Connections a pool may be opening at once (the URI's `maxConnecting`, else 2).
    #[arg(long, env = MONGO_MAX_CONNECTING, global = true)]
    pub mongo_max_connecting: Option<String>,
    /// Milliseconds a pooled connection may stay idle before it is closed (the URI's
    /// `maxIdleTimeMS`, else never).
    #[arg(long, env = MONGO_MAX_IDLE_TIME_MS, global = true)]
    pub mongo_max_idle_time_ms: Option<String>,
    /// Milliseconds an operation waits for a usable server (the driver's 30 s when unset).
    #[arg(long, env = MONGO_SERVER_SELECTION_TIMEOUT_MS, global = true)]
    pub mongo_server_selection_timeout_ms: Option<String>,
    /// `false` in production: writes never create indexes, `app indexes sync` does on deploy;
    /// `true` (the default) creates each model's declared indexes before its first write.
    #[arg(long, env = MONGO_AUTO_INDEX, global = true)]
    pub mongo_auto_index: Option<String>,
}

impl MongoOptions {
    /// The value of the fixed-name setting `name`, or `None` when `name` is not one of them
    /// (a per-role variable, read from the environment).
    pub(crate) fn get(&self, name: &str) -> Option<Option<String>> {
        let value = match name {
            MONGO_ROLES => &self.mongo_roles,
            MONGO_MAX_POOL_SIZE => &self.mongo_max_pool_size,
            MONGO_MIN_POOL_SIZE => &self.mongo_min_pool_size,
            MONGO_MAX_CONNECTING => &self.mongo_max_connecting,
            MONGO_MAX_IDLE_TIME_MS => &self.mongo_max_idle_time_ms,
            MONGO_SERVER_SELECTION_TIMEOUT_MS => &self.mongo_server_selection_timeout_ms,
            MONGO_AUTO_INDEX => &self.mongo_auto_index,
            _ => return None,
        };
        Some(value.clone())
    }
}

/// The per-role variables, which only the environment sets: `<ROLE>` is a role's name in
/// capitals (`MAIN`, `MASTERADMIN`, `BILLING`).
pub const PER_ROLE_HELP: &str = "\
MongoDB, per role (environment only; <ROLE> is the role's name in capitals):
  MONGO_URI_<NAME>                    URI of a role named in MONGO_ROLES
  MONGO_READ_PREFERENCE_<ROLE>        primary, primaryPreferred, secondary, secondaryPreferred, nearest
  MONGO_READ_CONCERN_<ROLE>           local, majority, linearizable, available, snapshot
  MONGO_WRITE_CONCERN_<ROLE>          majority or a number of nodes, optionally :journal
  MONGO_READ_ONLY_<ROLE>              true: every write through the role is refused
  MONGO_MAX_POOL_SIZE_<ROLE>, MONGO_MIN_POOL_SIZE_<ROLE>, MONGO_MAX_CONNECTING_<ROLE>,
  MONGO_MAX_IDLE_TIME_MS_<ROLE>       the pool settings above, for one role

Logging (environment only):
  RUST_LOG                            the log filter, info unless set";
