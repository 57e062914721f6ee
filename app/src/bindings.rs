//! The bindings the tools over stored data walk (`app check`, `app indexes`): the roles asked
//! for, and the models bound on each, in the registry's order.

use ports::{Role, UnknownRole};
use registry::Registry;

/// `role` if it is configured, else every configured role when none is asked for.
///
/// # Errors
/// [`UnknownRole`] listing the configured roles.
pub(crate) fn roles(registry: &Registry, role: Option<Role>) -> Result<Vec<Role>, UnknownRole> {
    match role {
        Some(role) if registry.roles().contains(&role) => Ok(vec![role]),
        Some(role) => Err(UnknownRole::new(role, registry.roles())),
        None => Ok(registry.roles()),
    }
}

/// The plural names of the models bound on `role`.
pub(crate) fn models_on(registry: &Registry, role: Role) -> Vec<String> {
    registry
        .bindings()
        .into_iter()
        .filter(|(_, bound)| *bound == role)
        .map(|(model, _)| model)
        .collect()
}
