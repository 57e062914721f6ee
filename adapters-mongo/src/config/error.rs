//! Why a configuration cannot work: the one error type of start-up settings.

use ports::Role;

use super::names::MONGO_ROLES;

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

    /// A per-role option ([`RoleOptions`](super::RoleOptions)) has a value the driver has no
    /// meaning for.
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
