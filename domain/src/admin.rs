use serde::{Deserialize, Serialize};

use crate::branch::Branch;
use crate::id::Id;
use crate::model::Model;
use crate::text::{Email, FullName, Username};

/// An administrator account, kept in the `masteradmin` database. `branch_id` records the
/// branch the account belongs to, as the Node.js services store it; this service does not
/// restrict what an admin token may do by branch (see the README's roles).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
pub struct Admin {
    #[model(unique)]
    username: Username,
    full_name: FullName,
    email: Email,
    #[model(filter)]
    branch_id: Option<Id<Branch>>,
}

impl Admin {
    /// An admin, of `branch_id` when one is given.
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

    /// The name shown in the back office.
    pub fn full_name(&self) -> &FullName {
        &self.full_name
    }

    /// The e-mail address.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The branch the account belongs to, if any: recorded, not enforced.
    pub fn branch_id(&self) -> Option<Id<Branch>> {
        self.branch_id
    }
}
