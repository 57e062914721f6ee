use serde::{Deserialize, Serialize};

use crate::model::Model;

crate::bounded_text!(
    /// A branch's name, unique across the company.
    BranchName, field = "name", max = 100, example = "Branch {}"
);

crate::bounded_text!(
    /// Where a branch is: an address or a site name.
    Location, field = "location", max = 200, example = "{} rue de la Forge, Lyon"
);

/// A site of the company: machines, customers and orders belong to a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
pub struct Branch {
    #[model(unique)]
    name: BranchName,
    location: Location,
}

impl Branch {
    /// A branch with this name and location.
    pub fn new(name: BranchName, location: Location) -> Self {
        Self { name, location }
    }

    /// The name people call the branch by, unique across the company.
    pub fn name(&self) -> &BranchName {
        &self.name
    }

    /// Where the branch is: an address or a site name.
    pub fn location(&self) -> &Location {
        &self.location
    }
}
