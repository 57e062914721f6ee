//! Valid entities for the checks, distinguished by a label.

use domain::{
    Admin, Branch, BranchName, Customer, CustomerName, Email, FullName, Id, LineItem, Location,
    Machine, MachineName, MachineStatus, MasterAdmin, Order, OrderStatus, Phone, Quantity,
    SerialNumber, Sku, UnitPrice, Username,
};

/// A branch named `name`.
pub fn branch(name: &str) -> Branch {
    Branch::new(
        parse(BranchName::parse(name)),
        parse(Location::parse("Zone industrielle, Lyon")),
    )
}

/// A customer of `branch_id`.
pub fn customer(branch_id: Id<Branch>, name: &str) -> Customer {
    Customer::new(
        branch_id,
        parse(CustomerName::parse(name)),
        parse(Email::parse("buyer@example.com")),
        parse(Phone::parse("+33 4 72 00 00 00")),
    )
}

/// A running machine with serial number `serial`.
pub fn machine(branch_id: Id<Branch>, serial: &str) -> Machine {
    Machine::new(
        branch_id,
        parse(MachineName::parse("Press 4")),
        parse(SerialNumber::parse(serial)),
        MachineStatus::Running,
    )
}

/// A pending order of two lines.
pub fn order(branch_id: Id<Branch>, customer_id: Id<Customer>) -> Order {
    let items = vec![line("BOLT-M8", 250, 0.12), line("PLATE-2MM", 3, 48.5)];
    parse(Order::new(
        branch_id,
        customer_id,
        items,
        OrderStatus::Pending,
    ))
}

/// One order line.
pub fn line(sku: &str, quantity: i64, unit_price: f64) -> LineItem {
    LineItem::new(
        parse(Sku::parse(sku)),
        parse(Quantity::parse(quantity)),
        parse(UnitPrice::parse(unit_price)),
    )
}

/// A master admin with login `username`.
pub fn master_admin(username: &str) -> MasterAdmin {
    MasterAdmin::new(
        parse(Username::parse(username)),
        parse(FullName::parse("Grace Hopper")),
        parse(Email::parse("grace@example.com")),
    )
}

/// An admin with login `username`, limited to `branch_id` if given.
pub fn admin(username: &str, branch_id: Option<Id<Branch>>) -> Admin {
    Admin::new(
        parse(Username::parse(username)),
        parse(FullName::parse("Ada Lovelace")),
        parse(Email::parse("ada@example.com")),
        branch_id,
    )
}

fn parse<T, E: std::fmt::Debug>(value: Result<T, E>) -> T {
    value.expect("fixture values are valid")
}
