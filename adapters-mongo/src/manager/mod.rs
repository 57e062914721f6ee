//! One lazy, cached client per connection identity, and the role-scoped handles that reach it.
//!
//! This file holds [`ConnectionManager`], what a process builds once and asks for roles, pool
//! counts, state and pings; the client cache behind it is `clients.rs`, the handle one role's
//! code holds is `connection.rs`.

mod clients;
mod connection;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mongodb::bson::doc;
use ports::{ConnectionMonitor, ConnectionState, RepositoryError, Role, UnknownRole};

use crate::config::MongoSettings;
use crate::pool::PoolStats;

use clients::Inner;
pub use connection::RoleConnection;

/// The clients of every configured role: created on first use, one per connection identity,
/// kept until [`Self::shutdown`].
///
/// Roles whose URIs differ at most in the database path, with the same options, share one
/// client and one pool, each bound to its own database (as Mongoose's `useDb`). Anything else
/// (another host, credentials, authentication database or option) gets its own client.
/// A role's own pool options ([`RoleOptions`](crate::RoleOptions)) count as options; its read
/// preference, concerns and read-only flag apply to its database only and never split a
/// client.
///
/// The state a role reports (see [`ConnectionMonitor`]) is that of its client, so roles that
/// share a client share its state: a role that was never used itself reads `connected` once the
/// other role's use has connected their common client.
///
/// Cloning is cheap and every clone is the same manager. Build it inside the Tokio runtime
/// that will use it: a driver client belongs to the runtime that created it.
#[derive(Clone)]
pub struct ConnectionManager {
    inner: Arc<Inner>,
}

impl ConnectionManager {
    /// A manager for `settings`. Does no I/O: nothing connects until a role is first used.
    pub fn new(settings: MongoSettings) -> Self {
        Self {
            inner: Arc::new(Inner::new(&settings)),
        }
    }

    /// The handle through which code bound to `role` reaches its database, and only it.
    ///
    /// # Errors
    /// [`UnknownRole`] listing the configured roles when `role` is not one of them.
    pub fn role(&self, role: Role) -> Result<RoleConnection, UnknownRole> {
        let binding = self.inner.binding_index(role)?;
        Ok(RoleConnection::new(Arc::clone(&self.inner), role, binding))
    }

    /// The configured roles, in configuration order.
    pub fn roles(&self) -> Vec<Role> {
        self.inner.bindings.iter().map(|b| b.role).collect()
    }

    /// The database `role` works in, if it is configured.
    pub fn database_name(&self, role: Role) -> Option<&str> {
        let index = self.inner.binding_index(role).ok()?;
        Some(&self.inner.bindings[index].database)
    }

    /// How many clients have been created so far: at most one per connection identity.
    pub fn client_count(&self) -> usize {
        self.inner.clients_created.load(Ordering::Acquire)
    }

    /// The connection counts of the pool that serves `role`, kept from the driver's
    /// connection-pool events; roles that share a client report the same pool. All zero before
    /// the role's client is created; `None` for a role that is not configured. Does no I/O.
    pub fn pool_stats(&self, role: Role) -> Option<PoolStats> {
        let slot = self.inner.slot(role)?;
        Some(slot.pool.stats(slot.max_pool_size))
    }

    /// How many commands named `name` (`ping`, `createIndexes`, …) the client that serves `role`
    /// has sent, as the driver's command monitoring reports them; roles that share a client
    /// report the same figures. `None` for a role that is not configured, or without command
    /// monitoring ([`MongoSettings::with_command_monitoring`]): counts are opt-in. Does no I/O.
    pub fn commands_started(&self, role: Role, name: &str) -> Option<u64> {
        if !self.inner.command_monitoring {
            return None;
        }
        Some(self.inner.slot(role)?.commands.started(name))
    }

    /// Closes every client: states go to disconnecting, then disconnected, and any later use
    /// fails as [`RepositoryError::Unavailable`]. Waits up to 10 s for open cursors and
    /// sessions to be dropped, then closes regardless. Calling it again waits for the first
    /// call to finish.
    pub async fn shutdown(&self) {
        self.inner
            .shutdown
            .get_or_init(|| self.inner.close_all())
            .await;
    }
}

impl fmt::Debug for ConnectionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut roles = f.debug_map();
        for binding in &self.inner.bindings {
            let slot = &self.inner.slots[binding.slot];
            roles.entry(
                &binding.role.as_str(),
                &format_args!(
                    "{} ({}, {})",
                    binding.database,
                    slot.settings.redacted_uri(),
                    slot.state.get()
                ),
            );
        }
        roles.finish()
    }
}

#[async_trait]
impl ConnectionMonitor for ConnectionManager {
    fn roles(&self) -> Vec<Role> {
        ConnectionManager::roles(self)
    }

    fn state(&self, role: Role) -> ConnectionState {
        self.inner
            .slot(role)
            .map_or(ConnectionState::Disconnected, |slot| slot.state.get())
    }

    fn shares_connection(&self, role: Role, other: Role) -> bool {
        let client = |role| {
            let index = self.inner.binding_index(role).ok()?;
            Some(self.inner.bindings[index].slot)
        };
        client(role).is_some_and(|client_of_role| client(other) == Some(client_of_role))
    }

    async fn ping(&self, role: Role) -> Result<Duration, RepositoryError> {
        let connection = self
            .role(role)
            .map_err(|unknown| RepositoryError::Unavailable {
                role,
                reason: unknown.to_string(),
            })?;
        let timeout = self.inner.ping_timeout;
        let round_trip = async {
            let database = connection.database().await?;
            let started = Instant::now();
            database
                .run_command(doc! { "ping": 1 })
                .await
                .map_err(|err| connection.map_error(&err, None))?;
            let latency = started.elapsed();
            connection.answered();
            Ok(latency)
        };
        tokio::time::timeout(timeout, round_trip)
            .await
            .unwrap_or_else(|_| {
                Err(RepositoryError::Unavailable {
                    role,
                    reason: format!("no answer to ping within {} ms", timeout.as_millis()),
                })
            })
    }
}
