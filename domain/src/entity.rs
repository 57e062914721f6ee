use std::fmt;
use std::str::FromStr;

use crate::error::ValidationError;

/// What every stored entity type provides to the repositories.
pub trait Entity: Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// Which kind of entity this is.
    const KIND: EntityKind;

    /// The field whose value no two entities of this kind may share, if any.
    const UNIQUE_FIELD: Option<&'static str>;

    /// A validated change to some of the entity's fields.
    type Patch: fmt::Debug + Send + Sync + 'static;

    /// This entity's value of [`Self::UNIQUE_FIELD`].
    fn unique_value(&self) -> Option<&str>;

    /// The entity with `patch` applied.
    ///
    /// # Errors
    /// A [`ValidationError`] when the change breaks one of the entity's rules (for example,
    /// editing the items of an order that is already in production).
    fn apply(&self, patch: Self::Patch) -> Result<Self, ValidationError>;
}

/// The kinds of entity, named as the API names their collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    /// [`crate::Branch`]
    Branch,
    /// [`crate::Customer`]
    Customer,
    /// [`crate::Order`]
    Order,
    /// [`crate::Machine`]
    Machine,
    /// [`crate::MasterAdmin`]
    MasterAdmin,
    /// [`crate::Admin`]
    Admin,
}

impl EntityKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EntityKind; 6] = [
        EntityKind::Branch,
        EntityKind::Customer,
        EntityKind::Order,
        EntityKind::Machine,
        EntityKind::MasterAdmin,
        EntityKind::Admin,
    ];

    /// The plural name used by the API and by tools that address entities by name.
    pub const fn plural(self) -> &'static str {
        match self {
            EntityKind::Branch => "branches",
            EntityKind::Customer => "customers",
            EntityKind::Order => "orders",
            EntityKind::Machine => "machines",
            EntityKind::MasterAdmin => "masterAdmins",
            EntityKind::Admin => "admins",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plural())
    }
}

/// A name that is not one of [`EntityKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown entity '{name}': expected one of branches, customers, orders, machines, masterAdmins, admins")]
pub struct UnknownEntityKind {
    name: String,
}

impl FromStr for EntityKind {
    type Err = UnknownEntityKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.plural() == name)
            .ok_or_else(|| UnknownEntityKind {
                name: name.chars().take(64).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_parsed_back_from_its_plural_name() {
        for kind in EntityKind::ALL {
            assert_eq!(kind.plural().parse::<EntityKind>().unwrap(), kind);
        }
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let err = "widgets".parse::<EntityKind>().unwrap_err().to_string();
        assert!(
            err.contains("widgets") && err.contains("masterAdmins"),
            "{err}"
        );
    }
}
