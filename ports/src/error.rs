use crate::role::Role;

/// How a repository operation fails. Every backend maps its own failures into these, so
/// callers handle one set of cases whatever the storage.
///
/// Messages name entities, ids, keys and roles; they never contain connection strings or
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// No entity of this kind has this id.
    #[error("no {model} has id {id}")]
    NotFound {
        /// The model looked up, by name (`Branch`).
        model: &'static str,
        /// The id, as text.
        id: String,
    },

    /// The write would break a uniqueness rule or lose a concurrent change.
    #[error(transparent)]
    Conflict(#[from] Conflict),

    /// The database could not be reached or did not answer in time. Retrying later may succeed.
    #[error("the {role} database is unavailable: {reason}")]
    Unavailable {
        /// The role whose database failed.
        role: Role,
        /// What happened, without credentials.
        reason: String,
    },

    /// The role is read-only in this service (`MONGO_READ_ONLY_<ROLE>`): the write was refused
    /// before anything reached the database. Retrying will not help; nothing was changed.
    #[error("the {role} database is read-only in this service: writes through it are refused")]
    ReadOnly {
        /// The read-only role.
        role: Role,
    },

    /// A `checked` reference names a record that does not exist: the write was refused, and
    /// nothing was changed.
    #[error("{field}: no {model} has id {id}")]
    MissingReference {
        /// The referencing field, as the API names it (`customerId`).
        field: &'static str,
        /// The referenced model, by name (`Customer`).
        model: &'static str,
        /// The id the field holds.
        id: String,
    },

    /// The request cannot be carried out as asked (for example, a page beyond what the
    /// backend can skip).
    #[error("invalid request: {0}")]
    Invalid(String),

    /// A fault that is nobody's input: stored data that no longer reads, a driver bug.
    #[error("internal repository error: {0}")]
    Internal(String),
}

/// Why a write conflicts with what is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another entity of the kind already has this value of the unique key.
    #[error("another {model} already has this {key}")]
    Duplicate {
        /// The model written, by name.
        model: &'static str,
        /// The unique key, as named in the API and the storage (`serialNumber`); fields of a
        /// compound key are joined by `+`.
        key: &'static str,
    },

    /// The entity changed since it was read; read it again and reapply the change.
    #[error("{model} {id} was changed by someone else since it was read")]
    StaleVersion {
        /// The model written, by name.
        model: &'static str,
        /// The id, as text.
        id: String,
    },
}

impl RepositoryError {
    /// Whether the same call may succeed later without any change by the caller.
    pub fn is_retryable(&self) -> bool {
        matches!(self, RepositoryError::Unavailable { .. })
    }
}
