use domain::{Customer, CustomerName, Email, Phone};
use mongodb::bson::Document;

use super::fields::{id, object_id, string};
use super::{DocumentError, MongoEntity};

impl MongoEntity for Customer {
    const COLLECTION: &'static str = "customers";
    const FIELDS: &'static [&'static str] = &["branchId", "name", "email", "phone"];

    fn write_fields(&self, document: &mut Document) {
        document.insert("branchId", object_id(self.branch_id()));
        document.insert("name", self.name().as_str());
        document.insert("email", self.email().as_str());
        document.insert("phone", self.phone().as_str());
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        Ok(Customer::new(
            id(document, "branchId")?,
            CustomerName::parse(string(document, "name")?)?,
            Email::parse(string(document, "email")?)?,
            Phone::parse(string(document, "phone")?)?,
        ))
    }
}
