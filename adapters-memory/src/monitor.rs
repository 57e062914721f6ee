use std::time::Duration;

use async_trait::async_trait;
use ports::{ConnectionMonitor, ConnectionState, RepositoryError, Role};

/// Health of the in-memory backend: always connected, since there is nothing to reach.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryMonitor;

#[async_trait]
impl ConnectionMonitor for MemoryMonitor {
    fn state(&self, _role: Role) -> ConnectionState {
        ConnectionState::Connected
    }

    async fn ping(&self, _role: Role) -> Result<Duration, RepositoryError> {
        Ok(Duration::ZERO)
    }
}
