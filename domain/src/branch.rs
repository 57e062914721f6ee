use serde::Serialize;

use crate::entity::Entity;
use crate::error::ValidationError;
use crate::text::bounded_text;

bounded_text!(
    /// A branch's name, unique across the company.
    BranchName, field = "name", max = 100
);

bounded_text!(
    /// Where a branch is: an address or a site name.
    Location, field = "location", max = 200
);

/// A site of the company: machines, customers and orders belong to a branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Branch {
    name: BranchName,
    location: Location,
}

/// A change to a [`Branch`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BranchPatch {
    /// The new name.
    pub name: Option<BranchName>,
    /// The new location.
    pub location: Option<Location>,
}

impl Branch {
    /// A branch with this name and location.
    pub fn new(name: BranchName, location: Location) -> Self {
        Self { name, location }
    }

    /// The name.
    pub fn name(&self) -> &BranchName {
        &self.name
    }

    /// The location.
    pub fn location(&self) -> &Location {
        &self.location
    }
}

impl Entity for Branch {
    const NAME: &'static str = "Branch";
    const UNIQUE_FIELD: Option<&'static str> = Some("name");
    type Patch = BranchPatch;

    fn unique_value(&self) -> Option<&str> {
        Some(self.name.as_str())
    }

    fn apply(&self, patch: BranchPatch) -> Result<Self, ValidationError> {
        Ok(Self {
            name: patch.name.unwrap_or_else(|| self.name.clone()),
            location: patch.location.unwrap_or_else(|| self.location.clone()),
        })
    }
}
