//! The six back-office models as the hostile-input properties enumerate them.

use std::fmt;

/// One of the back office's models, as a value the generators can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    /// `domain::Branch`
    Branch,
    /// `domain::Customer`
    Customer,
    /// `domain::Order`
    Order,
    /// `domain::Machine`
    Machine,
    /// `domain::MasterAdmin`
    MasterAdmin,
    /// `domain::Admin`
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

    /// The plural name the API and `/counts` use.
    pub fn plural(self) -> String {
        domain::plural_name(&format!("{self:?}"))
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.plural())
    }
}
