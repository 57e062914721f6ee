use domain::{Email, FullName, MasterAdmin, Username};
use mongodb::bson::Document;

use super::fields::string;
use super::{DocumentError, MongoEntity};

impl MongoEntity for MasterAdmin {
    const COLLECTION: &'static str = "masteradmins";
    const FIELDS: &'static [&'static str] = &["username", "fullName", "email"];

    fn write_fields(&self, document: &mut Document) {
        document.insert("username", self.username().as_str());
        document.insert("fullName", self.full_name().as_str());
        document.insert("email", self.email().as_str());
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        Ok(MasterAdmin::new(
            Username::parse(string(document, "username")?)?,
            FullName::parse(string(document, "fullName")?)?,
            Email::parse(string(document, "email")?)?,
        ))
    }
}
