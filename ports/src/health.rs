use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::RepositoryError;
use crate::role::Role;

/// The state of a role's connection, as operators know it from Mongoose's `readyState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Not connected: never used yet, closed, or the server was lost.
    Disconnected,
    /// A client exists and is reaching for the server.
    Connecting,
    /// The server answers.
    Connected,
    /// Shutting down.
    Disconnecting,
}

impl ConnectionState {
    /// The lower-case name used in health reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Disconnecting => "disconnecting",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Observes the database behind each role.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ConnectionMonitor: Send + Sync {
    /// The roles observed, in the order they were configured.
    fn roles(&self) -> Vec<Role>;

    /// The role's connection state now, without any I/O.
    fn state(&self, role: Role) -> ConnectionState;

    /// Whether `role` and `other` reach their databases through one connection (the same
    /// deployment, with the same credentials and options), so that one ping tells about both.
    /// `false` for a role that is not observed. No I/O.
    fn shares_connection(&self, role: Role, other: Role) -> bool;

    /// Round-trips a ping to the role's database (connecting first if need be) and returns
    /// its latency.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when no answer comes within the backend's timeout.
    async fn ping(&self, role: Role) -> Result<Duration, RepositoryError>;
}
