//! What the tools over stored data share (`app check`, `app indexes`): one error type, one
//! walk over the collections bound on the roles asked for, one way to print a stored text.

use std::io::{self, Write};

use ports::{RepositoryError, Role, UnknownRole};
use registry::{Backend, Registry, RegistryError, StoredCollection};

/// Why a tool over stored data could not look at every collection.
#[derive(Debug, thiserror::Error)]
pub enum StoredDataError {
    /// The service runs in memory: nothing is stored to look at. Named by the tool (`check`).
    #[error(
        "app {0} reads the collections stored in MongoDB, and the service runs in memory: set \
         MONGO_URI (and MASTER_ADMIN_MONGO_URI, AUTH_JWT_SECRET) as for `app serve`"
    )]
    InMemory(&'static str),
    /// `--role` names a role that is not configured.
    #[error(transparent)]
    UnknownRole(#[from] UnknownRole),
    /// A binding listed by the registry could not be looked up.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A collection could not be read to the end, or its indexes read or changed: the
    /// database is unreachable, or refused. What was done before stays done.
    #[error("{model} on the {role} role could not be read: {error}")]
    Database {
        /// What the collection holds: a model, by its plural name, or `idempotencyRecords`.
        model: String,
        /// The role.
        role: Role,
        /// What the database answered.
        error: RepositoryError,
    },
    /// The report could not be written.
    #[error("could not write the report: {0}")]
    Output(#[from] io::Error),
}

impl StoredDataError {
    /// The failure of `model` on `role`, for `map_err`.
    pub(crate) fn database(model: &str, role: Role) -> impl Fn(RepositoryError) -> Self + '_ {
        move |error| StoredDataError::Database {
            model: model.to_owned(),
            role,
            error,
        }
    }
}

/// A model's collection on one role, as stored in MongoDB.
pub(crate) struct BoundCollection {
    /// The model, by its plural name (`machines`).
    pub(crate) model: String,
    pub(crate) stored: StoredCollection,
}

/// The roles `tool` looks at (`role`, or every configured one) and the collections bound on
/// each, in the registry's order. A role with no model, and a binding not stored in MongoDB
/// (a repository bound by hand), get a line on `out`; the latter is listed in `skipped` as
/// `models@role`.
///
/// # Errors
/// [`StoredDataError::InMemory`] on the in-memory backend, [`StoredDataError::UnknownRole`]
/// for a role that is not configured.
pub(crate) fn walk(
    tool: &'static str,
    registry: &Registry,
    role: Option<Role>,
    out: &mut (dyn Write + Send),
    skipped: &mut Vec<String>,
) -> Result<Vec<(Role, Vec<BoundCollection>)>, StoredDataError> {
    if let Backend::Memory(_) = registry.backend() {
        return Err(StoredDataError::InMemory(tool));
    }
    let mut walked = Vec::new();
    for role in roles(registry, role)? {
        let models = models_on(registry, role);
        if models.is_empty() {
            writeln!(out, "{role}: no model is bound on this role")?;
        }
        let mut collections = Vec::new();
        for model in models {
            match registry.model(&model, role)?.stored() {
                Some(stored) => collections.push(BoundCollection { model, stored }),
                None => {
                    writeln!(out, "{role}/{model}: not stored in MongoDB, skipped")?;
                    skipped.push(format!("{model}@{role}"));
                }
            }
        }
        walked.push((role, collections));
    }
    Ok(walked)
}

/// The roles of a walk, as a summary line names them.
pub(crate) fn role_names(walked: &[(Role, Vec<BoundCollection>)]) -> String {
    let names: Vec<&str> = walked.iter().map(|(role, _)| role.as_str()).collect();
    names.join(", ")
}

/// `role` if it is configured, else every configured role when none is asked for.
fn roles(registry: &Registry, role: Option<Role>) -> Result<Vec<Role>, UnknownRole> {
    match role {
        Some(role) if registry.roles().contains(&role) => Ok(vec![role]),
        Some(role) => Err(UnknownRole::new(role, registry.roles())),
        None => Ok(registry.roles()),
    }
}

/// The plural names of the models bound on `role`.
fn models_on(registry: &Registry, role: Role) -> Vec<String> {
    registry
        .bindings()
        .into_iter()
        .filter(|(_, bound)| *bound == role)
        .map(|(model, _)| model)
        .collect()
}

/// A stored value may hold anything, line breaks included: one report line per finding.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn on_the_in_memory_backend_each_tool_refuses_naming_itself_and_mongo_uri() {
        let registry = Registry::new(Backend::memory(Role::DEFAULTS));
        for tool in ["check", "indexes"] {
            let refused = walk(tool, &registry, None, &mut Vec::new(), &mut Vec::new());
            let Err(error) = refused else {
                panic!("{tool} walked memory");
            };
            let text = error.to_string();
            assert!(text.starts_with(&format!("app {tool} ")) && text.contains("MONGO_URI"));
        }
    }

    #[test]
    fn a_reason_with_line_breaks_is_reported_on_one_line() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }
}
