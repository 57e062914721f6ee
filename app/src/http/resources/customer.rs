use domain::{Customer, CustomerName, CustomerPatch, Email, Phone, ValidationError};
use serde::Deserialize;

use super::{id_field, optional, Resource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewCustomer {
    branch_id: String,
    name: String,
    email: String,
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomerChange {
    branch_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl Resource for Customer {
    type Create = NewCustomer;
    type Update = CustomerChange;

    fn create(body: NewCustomer) -> Result<Self, ValidationError> {
        Ok(Customer::new(
            id_field("branchId", &body.branch_id)?,
            CustomerName::parse(body.name)?,
            Email::parse(body.email)?,
            Phone::parse(body.phone)?,
        ))
    }

    fn patch(body: CustomerChange) -> Result<CustomerPatch, ValidationError> {
        Ok(CustomerPatch {
            branch_id: optional(body.branch_id, |id| id_field("branchId", &id))?,
            name: optional(body.name, CustomerName::parse)?,
            email: optional(body.email, Email::parse)?,
            phone: optional(body.phone, Phone::parse)?,
        })
    }
}
