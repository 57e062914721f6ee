use serde::Serialize;

use crate::branch::Branch;
use crate::entity::Entity;
use crate::error::ValidationError;
use crate::id::Id;
use crate::text::{Email, FullName, Username};

/// An administrator, optionally limited to one branch. Kept in the `masteradmin` database.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admin {
    username: Username,
    full_name: FullName,
    email: Email,
    branch_id: Option<Id<Branch>>,
}

/// A change to an [`Admin`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminPatch {
    /// The new login name.
    pub username: Option<Username>,
    /// The new full name.
    pub full_name: Option<FullName>,
    /// The new e-mail address.
    pub email: Option<Email>,
    /// `Some(None)` removes the branch limit; `Some(Some(id))` sets it.
    pub branch_id: Option<Option<Id<Branch>>>,
}

impl Admin {
    /// An admin, limited to `branch_id` when one is given.
    pub fn new(
        username: Username,
        full_name: FullName,
        email: Email,
        branch_id: Option<Id<Branch>>,
    ) -> Self {
        Self {
            username,
            full_name,
            email,
            branch_id,
        }
    }

    /// The login name, unique among admins.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The full name.
    pub fn full_name(&self) -> &FullName {
        &self.full_name
    }

    /// The e-mail address.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The branch the admin is limited to, if any.
    pub fn branch_id(&self) -> Option<Id<Branch>> {
        self.branch_id
    }
}

impl Entity for Admin {
    const NAME: &'static str = "Admin";
    const UNIQUE_FIELD: Option<&'static str> = Some("username");
    type Patch = AdminPatch;

    fn unique_value(&self) -> Option<&str> {
        Some(self.username.as_str())
    }

    fn apply(&self, patch: AdminPatch) -> Result<Self, ValidationError> {
        Ok(Self {
            username: patch.username.unwrap_or_else(|| self.username.clone()),
            full_name: patch.full_name.unwrap_or_else(|| self.full_name.clone()),
            email: patch.email.unwrap_or_else(|| self.email.clone()),
            branch_id: patch.branch_id.unwrap_or(self.branch_id),
        })
    }
}
