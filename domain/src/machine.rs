use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::branch::Branch;
use crate::entity::Entity;
use crate::error::{Problem, ValidationError};
use crate::id::Id;
use crate::text::{bounded_text, one_of};

bounded_text!(
    /// A machine's name on the shop floor.
    MachineName, field = "name", max = 100
);

bounded_text!(
    /// The manufacturer's serial number, unique across the company: letters, digits, `-`, `_`,
    /// `/` and `.`.
    SerialNumber, field = "serialNumber", max = 64, check = serial_shape
);

fn serial_shape(text: String) -> Result<String, Problem> {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
    {
        Ok(text)
    } else {
        Err(Problem::Malformed("letters, digits, '-', '_', '/' or '.'"))
    }
}

/// What a machine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineStatus {
    /// Ready, not producing.
    Idle,
    /// Producing.
    Running,
    /// Being serviced.
    Maintenance,
    /// Switched off or unreachable.
    Offline,
}

impl MachineStatus {
    /// Every status.
    pub const ALL: [MachineStatus; 4] = [
        MachineStatus::Idle,
        MachineStatus::Running,
        MachineStatus::Maintenance,
        MachineStatus::Offline,
    ];

    /// The name used by the API and the storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            MachineStatus::Idle => "idle",
            MachineStatus::Running => "running",
            MachineStatus::Maintenance => "maintenance",
            MachineStatus::Offline => "offline",
        }
    }
}

impl FromStr for MachineStatus {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        one_of(
            &Self::ALL,
            Self::as_str,
            text,
            "one of idle, running, maintenance, offline",
        )
    }
}

impl fmt::Display for MachineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A production machine at a branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    branch_id: Id<Branch>,
    name: MachineName,
    serial_number: SerialNumber,
    status: MachineStatus,
}

/// A change to a [`Machine`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachinePatch {
    /// The branch the machine moved to.
    pub branch_id: Option<Id<Branch>>,
    /// The new name.
    pub name: Option<MachineName>,
    /// The corrected serial number.
    pub serial_number: Option<SerialNumber>,
    /// The new status.
    pub status: Option<MachineStatus>,
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

    /// The name.
    pub fn name(&self) -> &MachineName {
        &self.name
    }

    /// The serial number.
    pub fn serial_number(&self) -> &SerialNumber {
        &self.serial_number
    }

    /// The status.
    pub fn status(&self) -> MachineStatus {
        self.status
    }
}

impl Entity for Machine {
    const NAME: &'static str = "Machine";
    const UNIQUE_FIELD: Option<&'static str> = Some("serialNumber");
    type Patch = MachinePatch;

    fn unique_value(&self) -> Option<&str> {
        Some(self.serial_number.as_str())
    }

    fn apply(&self, patch: MachinePatch) -> Result<Self, ValidationError> {
        Ok(Self {
            branch_id: patch.branch_id.unwrap_or(self.branch_id),
            name: patch.name.unwrap_or_else(|| self.name.clone()),
            serial_number: patch
                .serial_number
                .unwrap_or_else(|| self.serial_number.clone()),
            status: patch.status.unwrap_or(self.status),
        })
    }
}
