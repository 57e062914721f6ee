use serde::Serialize;

use crate::entity::Entity;
use crate::error::ValidationError;
use crate::text::{Email, FullName, Username};

/// A privileged administrator of the whole company. Kept in the `masteradmin` database, apart
/// from business data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasterAdmin {
    username: Username,
    full_name: FullName,
    email: Email,
}

/// A change to a [`MasterAdmin`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MasterAdminPatch {
    /// The new login name.
    pub username: Option<Username>,
    /// The new full name.
    pub full_name: Option<FullName>,
    /// The new e-mail address.
    pub email: Option<Email>,
}

impl MasterAdmin {
    /// A master admin.
    pub fn new(username: Username, full_name: FullName, email: Email) -> Self {
        Self {
            username,
            full_name,
            email,
        }
    }

    /// The login name, unique among master admins.
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
}

impl Entity for MasterAdmin {
    const NAME: &'static str = "MasterAdmin";
    const UNIQUE_FIELD: Option<&'static str> = Some("username");
    type Patch = MasterAdminPatch;

    fn unique_value(&self) -> Option<&str> {
        Some(self.username.as_str())
    }

    fn apply(&self, patch: MasterAdminPatch) -> Result<Self, ValidationError> {
        Ok(Self {
            username: patch.username.unwrap_or_else(|| self.username.clone()),
            full_name: patch.full_name.unwrap_or_else(|| self.full_name.clone()),
            email: patch.email.unwrap_or_else(|| self.email.clone()),
        })
    }
}
