use ports::{RepositoryError, Role, UnknownRole};

/// A binding or lookup the registry cannot serve. Each message lists what is registered, as
/// `models@role` pairs, so that a typo is found at a glance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No registered model has this name.
    #[error("unknown model '{name}'; registered: {registered}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// What is registered.
        registered: String,
    },
    /// The model is registered, but not on this role.
    #[error("{model} is not bound on the {role} role; registered: {registered}")]
    NotBound {
        /// The model asked for, by its plural name.
        model: String,
        /// The role asked for.
        role: Role,
        /// What is registered.
        registered: String,
    },
    /// A binding names a role that is not configured.
    #[error(transparent)]
    UnknownRole(#[from] UnknownRole),
    /// A binding in the configuration is not `models@role`.
    #[error("invalid binding '{0}': expected models@role, such as admins@main")]
    InvalidBinding(String),
}

/// Why an operation by name failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ByNameError {
    /// The name or binding is wrong.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The id is not an id.
    #[error(transparent)]
    Id(#[from] domain::IdError),
    /// The repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}
