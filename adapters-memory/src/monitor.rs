use std::time::Duration;

use async_trait::async_trait;
use ports::{ConnectionMonitor, ConnectionState, RepositoryError, Role, UnknownRole};

/// Health of the in-memory backend: every configured role is connected, since there is
/// nothing to reach.
#[derive(Debug, Clone)]
pub struct MemoryMonitor {
    roles: Vec<Role>,
}

impl MemoryMonitor {
    /// A monitor of `roles`.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        Self {
            roles: roles.into_iter().collect(),
        }
    }
}

impl Default for MemoryMonitor {
    /// The two default roles, `main` and `masteradmin`.
    fn default() -> Self {
        Self::new(Role::DEFAULTS)
    }
}

#[async_trait]
impl ConnectionMonitor for MemoryMonitor {
    fn roles(&self) -> Vec<Role> {
        self.roles.clone()
    }

    fn state(&self, role: Role) -> ConnectionState {
        if self.roles.contains(&role) {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        }
    }

    /// Each role is a store of its own.
    /// Each role is a store of its own.
    fn shares_connection(&self, role: Role, other: Role) -> bool {
        role == other && self.roles.contains(&role)
    }

    async fn ping(&self, role: Role) -> Result<Duration, RepositoryError> {
        if self.roles.contains(&role) {
            Ok(Duration::ZERO)
        } else {
            Err(RepositoryError::Unavailable {
                role,
                reason: UnknownRole::new(role, self.roles.iter().copied()).to_string(),
            })
        }
    }
}
