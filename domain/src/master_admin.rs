use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::text::{Email, FullName, Username};

/// A privileged administrator of the whole company. Kept in the `masteradmin` database, apart
/// from business data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
pub struct MasterAdmin {
    #[model(unique)]
    username: Username,
    full_name: FullName,
    email: Email,
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

    /// The name shown in the back office.
    pub fn full_name(&self) -> &FullName {
        &self.full_name
    }

    /// The e-mail address.
    pub fn email(&self) -> &Email {
        &self.email
    }
}
