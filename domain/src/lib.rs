/*!
The entities of the manufacturing back office and the rules that make them valid.

This crate has no I/O and knows nothing of databases or HTTP. Every value that reaches an
entity has been parsed into a validated type first, so an entity that exists is valid:

```
use domain::{Branch, BranchName, Location};

let branch = Branch::new(BranchName::parse("Lyon")?, Location::parse("12 rue de la Forge")?);
assert_eq!(branch.name().as_str(), "Lyon");

assert!(BranchName::parse("   ").is_err());
# Ok::<(), domain::ValidationError>(())
```

Stored entities are wrapped in a [`Record`], which adds the id, the timestamps and the
version used for optimistic concurrency.
*/
#![deny(missing_docs)]

// The derive's generated code names `::domain`, here as in any crate that declares a model.
extern crate self as domain;

mod admin;
mod branch;
mod customer;
mod entity;
mod error;
mod id;
mod machine;
mod master_admin;
mod model;
mod naming;
mod order;
mod record;
mod request;
mod rules;
mod text;

pub use admin::{Admin, AdminChange, AdminPatch, NewAdmin};
pub use branch::{Branch, BranchChange, BranchName, BranchPatch, Location, NewBranch};
pub use customer::{Customer, CustomerChange, CustomerName, CustomerPatch, NewCustomer, Phone};
pub use entity::Entity;
pub use error::{Invalid, Problem, ValidationError};
pub use id::{Id, IdError, ID_PATTERN};
pub use machine::{
    Machine, MachineChange, MachineName, MachinePatch, MachineStatus, NewMachine, SerialNumber,
};
pub use master_admin::{MasterAdmin, MasterAdminChange, MasterAdminPatch, NewMasterAdmin};
#[doc(hidden)]
pub use model::__private;
pub use model::{Edit, Field, Kind, Model, Value};
pub use naming::plural_name;
pub use order::{
    LineItem, NewLineItem, NewOrder, Order, OrderChange, OrderPatch, OrderStatus, Quantity, Sku,
    UnitPrice,
};
pub use record::{Record, Timestamp, Version};
pub use rules::{Rules, SAFE_INTEGER, WHITE_SPACE};
pub use text::{Email, FullName, Username};

/// Expands `$then!(…)` with every model this crate declares, so that a check written once
/// (the repository contract, a storage snapshot) covers each of them, and a model added here
/// is covered with no test edited.
///
/// ```
/// macro_rules! names {
///     ($($model:ty),*) => { [$(<$model as domain::Model>::NAME),*] };
/// }
/// let names = domain::with_built_in_models!(names);
/// assert!(names.contains(&"Branch") && names.contains(&"MasterAdmin"));
/// ```
#[macro_export]
macro_rules! with_built_in_models {
    ($then:ident) => {
        $then!(
            $crate::Branch,
            $crate::Customer,
            $crate::Order,
            $crate::Machine,
            $crate::MasterAdmin,
            $crate::Admin
        )
    };
}
