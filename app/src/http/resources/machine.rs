use domain::{Machine, MachineName, MachinePatch, MachineStatus, SerialNumber, ValidationError};
use serde::Deserialize;

use super::{id_field, optional, Resource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewMachine {
    branch_id: String,
    name: String,
    serial_number: String,
    /// Idle when absent.
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineChange {
    branch_id: Option<String>,
    name: Option<String>,
    serial_number: Option<String>,
    status: Option<String>,
}

impl Resource for Machine {
    type Create = NewMachine;
    type Update = MachineChange;

    fn create(body: NewMachine) -> Result<Self, ValidationError> {
        Ok(Machine::new(
            id_field("branchId", &body.branch_id)?,
            MachineName::parse(body.name)?,
            SerialNumber::parse(body.serial_number)?,
            optional(body.status, |s| s.parse())?.unwrap_or(MachineStatus::Idle),
        ))
    }

    fn patch(body: MachineChange) -> Result<MachinePatch, ValidationError> {
        Ok(MachinePatch {
            branch_id: optional(body.branch_id, |id| id_field("branchId", &id))?,
            name: optional(body.name, MachineName::parse)?,
            serial_number: optional(body.serial_number, SerialNumber::parse)?,
            status: optional(body.status, |s| s.parse())?,
        })
    }
}
