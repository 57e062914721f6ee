use domain::{Branch, BranchName, Location};
use mongodb::bson::Document;

use super::fields::string;
use super::{DocumentError, MongoEntity};

impl MongoEntity for Branch {
    const COLLECTION: &'static str = "branches";
    const FIELDS: &'static [&'static str] = &["name", "location"];

    fn write_fields(&self, document: &mut Document) {
        document.insert("name", self.name().as_str());
        document.insert("location", self.location().as_str());
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        Ok(Branch::new(
            BranchName::parse(string(document, "name")?)?,
            Location::parse(string(document, "location")?)?,
        ))
    }
}
