use domain::{Branch, BranchName, BranchPatch, Location, ValidationError};
use serde::Deserialize;

use super::{optional, Resource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBranch {
    name: String,
    location: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchChange {
    name: Option<String>,
    location: Option<String>,
}

impl Resource for Branch {
    type Create = NewBranch;
    type Update = BranchChange;

    fn create(body: NewBranch) -> Result<Self, ValidationError> {
        Ok(Branch::new(
            BranchName::parse(body.name)?,
            Location::parse(body.location)?,
        ))
    }

    fn patch(body: BranchChange) -> Result<BranchPatch, ValidationError> {
        Ok(BranchPatch {
            name: optional(body.name, BranchName::parse)?,
            location: optional(body.location, Location::parse)?,
        })
    }
}
