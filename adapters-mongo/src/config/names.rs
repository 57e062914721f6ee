//! The names of the environment variables the settings read, and of the per-role ones built
//! from them.

use ports::Role;

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
/// (`false`: `app indexes --sync`), see
/// [`MongoSettings::with_auto_index`](super::MongoSettings::with_auto_index).
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

/// The variable that sets the option `prefix` for `role`: `<PREFIX>_<ROLE>`, the role's name in
/// capitals as in [`Role::uri_variable`] (`MONGO_READ_ONLY_MAIN`, `MONGO_WRITE_CONCERN_BILLING`).
pub fn role_variable(prefix: &str, role: Role) -> String {
    format!("{prefix}_{}", role.as_str().to_ascii_uppercase())
}

/// The variable that configures `role`'s URI.
pub(super) fn variable_of(role: Role) -> String {
    match role {
        Role::MAIN => MONGO_URI.to_owned(),
        Role::MASTERADMIN => MASTER_ADMIN_MONGO_URI.to_owned(),
        other => other.uri_variable(),
    }
}
