use serde::{Deserialize, Serialize};

use crate::branch::Branch;
use crate::id::Id;
use crate::model::Model;

crate::bounded_text!(
    /// A machine's name on the shop floor.
    MachineName, field = "name", max = 100, example = "Press {}"
);

crate::bounded_text!(
    /// The manufacturer's serial number, unique across the company: letters, digits, `-`, `_`,
    /// `/` and `.`.
    SerialNumber, field = "serialNumber", max = 64,
    shape = "[A-Za-z0-9_/.-]+", expected = "letters, digits, '-', '_', '/' or '.'",
    example = "SN-{}"
);

crate::enumeration!(
    /// What a machine is doing.
    pub enum MachineStatus {
        /// Ready, not producing.
        Idle = "idle",
        /// Producing.
        Running = "running",
        /// Being serviced.
        Maintenance = "maintenance",
        /// Switched off or unreachable.
        Offline = "offline",
    }
);

/// A production machine at a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    #[model(filter, checked)]
    branch_id: Id<Branch>,
    name: MachineName,
    #[model(unique)]
    serial_number: SerialNumber,
    #[model(default, filter)]
    status: MachineStatus,
}

impl Machine {
    /// A machine at `branch_id`.
    pub fn new(
        branch_id: Id<Branch>,
        name: MachineName,
        serial_number: SerialNumber,
        status: MachineStatus,
    ) -> Self {
        Self {
            branch_id,
            name,
            serial_number,
            status,
        }
    }

    /// The branch the machine is at.
    pub fn branch_id(&self) -> Id<Branch> {
        self.branch_id
    }

    /// The name the shop floor uses for the machine.
    pub fn name(&self) -> &MachineName {
        &self.name
    }

    /// The manufacturer's serial number, unique across the company.
    pub fn serial_number(&self) -> &SerialNumber {
        &self.serial_number
    }

    /// What the machine is doing now.
    pub fn status(&self) -> MachineStatus {
        self.status
    }
}
