//! The handle that code bound to one role holds: it reaches that role's database only.

use std::fmt;
use std::sync::Arc;

use mongodb::Database;
use ports::{ConnectionState, RepositoryError, Role};

use super::clients::{Inner, SharedClient};
use crate::errors::{repository_error, Operation};

/// The way to one role's database. It offers no way to name another database: code that is
/// given the `main` handle cannot reach `masteradmin` through it. (Isolation against code
/// that digs into the driver's `Database::client()` comes from giving each role its own
/// credentials in its URI.)
#[derive(Clone)]
pub struct RoleConnection {
    inner: Arc<Inner>,
    role: Role,
    /// Index of the role's binding: checked to exist when the handle was made.
    binding: usize,
}

impl RoleConnection {
    /// The handle of the binding at `binding`, which the caller has checked to exist.
    pub(super) fn new(inner: Arc<Inner>, role: Role, binding: usize) -> Self {
        Self {
            inner,
            role,
            binding,
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The name of the role's database.
    pub fn database_name(&self) -> &str {
        &self.inner.bindings[self.binding].database
    }

    /// The role's database for reading, creating the client on first use (once, however many
    /// callers race), with the role's read preference and read and write concerns
    /// ([`RoleOptions`](crate::RoleOptions)). No server is contacted here; the first operation
    /// waits for one. Writes go through [`Self::database_for_writes`], which a read-only role
    /// refuses.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when an `mongodb+srv://` lookup fails or the manager
    /// has been shut down; [`RepositoryError::Internal`] when the driver refuses the options.
    pub async fn database(&self) -> Result<Database, RepositoryError> {
        // Asked for first on every call: it checks that the manager is not shut down.
        let client = self.inner.client(self.binding).await?;
        let binding = &self.inner.bindings[self.binding];
        let database = binding.handle.get_or_init(|| {
            client.database_with_options(&binding.database, binding.database_options.clone())
        });
        Ok(database.clone())
    }

    /// The role's database for writing (inserts, replaces, deletes, index builds): the one
    /// place where a read-only role ([`RoleOptions::read_only`](crate::RoleOptions::read_only))
    /// is enforced, before any client is created or anything is sent.
    ///
    /// # Errors
    /// [`RepositoryError::ReadOnly`] for a read-only role; otherwise as [`Self::database`].
    pub async fn database_for_writes(&self) -> Result<Database, RepositoryError> {
        if self.read_only() {
            return Err(RepositoryError::ReadOnly { role: self.role });
        }
        self.database().await
    }

    /// Whether writes through this role are refused.
    pub fn read_only(&self) -> bool {
        self.inner.bindings[self.binding].read_only
    }

    /// Whether repositories on this connection create the model's declared indexes before
    /// their first write
    /// ([`MongoSettings::with_auto_index`](crate::MongoSettings::with_auto_index)).
    pub fn auto_index(&self) -> bool {
        self.inner.auto_index
    }

    /// The role's connection state.
    pub fn state(&self) -> ConnectionState {
        self.slot().state.get()
    }

    fn slot(&self) -> &SharedClient {
        self.inner.bound_slot(self.binding)
    }

    /// Maps a driver error of an operation through this role; `unique` names the kind and key
    /// reported for a duplicate.
    pub(crate) fn map_error(
        &self,
        err: &mongodb::error::Error,
        unique: Option<(&'static str, &'static str)>,
    ) -> RepositoryError {
        let slot = self.slot();
        let operation = Operation {
            role: self.role,
            unique,
        };
        repository_error(err, operation, |m| slot.settings.uri.scrub(m))
    }

    /// An operation got an answer from the server.
    pub(crate) fn answered(&self) {
        self.slot().state.answered();
    }
}

impl fmt::Debug for RoleConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleConnection")
            .field("role", &self.role)
            .field("database", &self.database_name())
            .field("read_only", &self.read_only())
            .field("state", &self.state())
            .finish()
    }
}
