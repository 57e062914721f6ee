//! The fixed-name MongoDB settings as flags, each also read from its environment variable, so
//! that `app --help` lists them. Each value is parsed once, by clap with the adapter's own
//! rules ([`parse_setting`]), and handed to the adapter typed ([`GlobalOptions`]); the per-role
//! variables stay environment-only, and `--help` shows their patterns ([`PER_ROLE_HELP`]).

use std::time::Duration;

use adapters_mongo::{
    parse_setting, GlobalOptions, MONGO_AUTO_INDEX, MONGO_MAX_CONNECTING, MONGO_MAX_IDLE_TIME_MS,
    MONGO_MAX_POOL_SIZE, MONGO_MIN_POOL_SIZE, MONGO_ROLES, MONGO_SERVER_SELECTION_TIMEOUT_MS,
};
use clap::Args;
use ports::Role;

/// The MongoDB settings with a fixed name; each applies to every role unless a per-role
/// variable says otherwise (per-role over these over the URI's own options).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "MongoDB")]
pub struct MongoOptions {
    /// Further connection roles by name, separated by commas (`billing,analytics`); each needs
    /// its `MONGO_URI_<NAME>`.
    #[arg(long, env = MONGO_ROLES, value_delimiter = ',', value_parser = Role::new, global = true)]
    pub mongo_roles: Vec<Role>,
    /// Connections per client (default 50, or the URI's `maxPoolSize`).
    #[arg(long, env = MONGO_MAX_POOL_SIZE, value_parser = parse_setting::connections, global = true)]
    pub mongo_max_pool_size: Option<u32>,
    /// Connections each client keeps open even when idle (the URI's `minPoolSize`, else 0).
    #[arg(long, env = MONGO_MIN_POOL_SIZE, value_parser = parse_setting::connections_or_none, global = true)]
    pub mongo_min_pool_size: Option<u32>,
    /// Connections a pool may be opening at once (the URI's `maxConnecting`, else 2).
    #[arg(long, env = MONGO_MAX_CONNECTING, value_parser = parse_setting::connections, global = true)]
    pub mongo_max_connecting: Option<u32>,
    /// Milliseconds a pooled connection may stay idle before it is closed (the URI's
    /// `maxIdleTimeMS`, else never).
    #[arg(long, env = MONGO_MAX_IDLE_TIME_MS, value_parser = parse_setting::millis, global = true)]
    pub mongo_max_idle_time_ms: Option<Duration>,
    /// Milliseconds an operation waits for a usable server (the driver's 30 s when unset).
    #[arg(long, env = MONGO_SERVER_SELECTION_TIMEOUT_MS, value_parser = parse_setting::millis, global = true)]
    pub mongo_server_selection_timeout_ms: Option<Duration>,
    /// `false` in production: writes never create indexes, `app indexes sync` does on deploy;
    /// `true` (the default) creates each model's declared indexes before its first write.
    #[arg(long, env = MONGO_AUTO_INDEX, value_parser = parse_setting::on_off, global = true)]
    pub mongo_auto_index: Option<bool>,
}

impl MongoOptions {
    /// The options, as the adapter takes them.
    pub(crate) fn global(&self) -> GlobalOptions {
        GlobalOptions {
            roles: self.mongo_roles.clone(),
            max_pool_size: self.mongo_max_pool_size,
            min_pool_size: self.mongo_min_pool_size,
            max_connecting: self.mongo_max_connecting,
            max_idle_time: self.mongo_max_idle_time_ms,
            server_selection_timeout: self.mongo_server_selection_timeout_ms,
            auto_index: self.mongo_auto_index,
        }
    }
}

/// Removes the `MONGO_*` variables that are set but blank, before the command line is read: a
/// blank one has always counted as unset (deployment templates write `MONGO_MAX_POOL_SIZE=`),
/// where clap would read an empty value. Call it first thing in `main`, before any thread.
pub fn forget_blank_variables() {
    let blank: Vec<_> = std::env::vars_os()
        .filter(|(name, value)| {
            name.to_str().is_some_and(|name| name.starts_with("MONGO_"))
                && value.to_str().is_some_and(|value| value.trim().is_empty())
        })
        .map(|(name, _)| name)
        .collect();
    for name in blank {
        std::env::remove_var(name);
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
