use domain::{Email, FullName, MasterAdmin, MasterAdminPatch, Username, ValidationError};
use serde::Deserialize;

use super::{optional, Resource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewMasterAdmin {
    username: String,
    full_name: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MasterAdminChange {
    username: Option<String>,
    full_name: Option<String>,
    email: Option<String>,
}

impl Resource for MasterAdmin {
    type Create = NewMasterAdmin;
    type Update = MasterAdminChange;

    fn create(body: NewMasterAdmin) -> Result<Self, ValidationError> {
        Ok(MasterAdmin::new(
            Username::parse(body.username)?,
            FullName::parse(body.full_name)?,
            Email::parse(body.email)?,
        ))
    }

    fn patch(body: MasterAdminChange) -> Result<MasterAdminPatch, ValidationError> {
        Ok(MasterAdminPatch {
            username: optional(body.username, Username::parse)?,
            full_name: optional(body.full_name, FullName::parse)?,
            email: optional(body.email, Email::parse)?,
        })
    }
}
