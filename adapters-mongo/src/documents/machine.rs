use domain::{Machine, MachineName, MachineStatus, SerialNumber};
use mongodb::bson::Document;

use super::fields::{id, object_id, string};
use super::{DocumentError, MongoEntity};

impl MongoEntity for Machine {
    const COLLECTION: &'static str = "machines";
    const FIELDS: &'static [&'static str] = &["branchId", "name", "serialNumber", "status"];

    fn write_fields(&self, document: &mut Document) {
        document.insert("branchId", object_id(self.branch_id()));
        document.insert("name", self.name().as_str());
        document.insert("serialNumber", self.serial_number().as_str());
        document.insert("status", self.status().as_str());
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        Ok(Machine::new(
            id(document, "branchId")?,
            MachineName::parse(string(document, "name")?)?,
            SerialNumber::parse(string(document, "serialNumber")?)?,
            status(string(document, "status")?)?,
        ))
    }
}

fn status(text: &str) -> Result<MachineStatus, DocumentError> {
    Ok(text.parse::<MachineStatus>()?)
}
