use domain::{Admin, Email, FullName, Username};
use mongodb::bson::Document;

use super::fields::{object_id, optional_id, string};
use super::{DocumentError, MongoEntity};

impl MongoEntity for Admin {
    const COLLECTION: &'static str = "admins";
    const FIELDS: &'static [&'static str] = &["username", "fullName", "email", "branchId"];

    /// An admin without a branch limit has no `branchId` field, as Mongoose writes an unset
    /// optional path; a stored `null` reads the same.
    fn write_fields(&self, document: &mut Document) {
        document.insert("username", self.username().as_str());
        document.insert("fullName", self.full_name().as_str());
        document.insert("email", self.email().as_str());
        if let Some(branch_id) = self.branch_id() {
            document.insert("branchId", object_id(branch_id));
        }
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        Ok(Admin::new(
            Username::parse(string(document, "username")?)?,
            FullName::parse(string(document, "fullName")?)?,
            Email::parse(string(document, "email")?)?,
            optional_id(document, "branchId")?,
        ))
    }
}
