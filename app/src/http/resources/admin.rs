use domain::{Admin, AdminPatch, Email, FullName, Username, ValidationError};
use serde::Deserialize;

use super::{id_field, optional, present, Resource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAdmin {
    username: String,
    full_name: String,
    email: String,
    branch_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminChange {
    username: Option<String>,
    full_name: Option<String>,
    email: Option<String>,
    /// Absent: unchanged; `null`: no branch limit; an id: limited to that branch.
    #[serde(default, deserialize_with = "present")]
    branch_id: Option<Option<String>>,
}

impl Resource for Admin {
    type Create = NewAdmin;
    type Update = AdminChange;

    fn create(body: NewAdmin) -> Result<Self, ValidationError> {
        Ok(Admin::new(
            Username::parse(body.username)?,
            FullName::parse(body.full_name)?,
            Email::parse(body.email)?,
            optional(body.branch_id, |id| id_field("branchId", &id))?,
        ))
    }

    fn patch(body: AdminChange) -> Result<AdminPatch, ValidationError> {
        let branch_id = body
            .branch_id
            .map(|limit| optional(limit, |id| id_field("branchId", &id)))
            .transpose()?;
        Ok(AdminPatch {
            username: optional(body.username, Username::parse)?,
            full_name: optional(body.full_name, FullName::parse)?,
            email: optional(body.email, Email::parse)?,
            branch_id,
        })
    }
}
