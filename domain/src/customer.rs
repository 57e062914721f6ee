use serde::Serialize;

use crate::branch::Branch;
use crate::entity::Entity;
use crate::error::{Problem, ValidationError};
use crate::id::Id;
use crate::text::{bounded_text, Email};

bounded_text!(
    /// A customer's name: a company or a person.
    CustomerName, field = "name", max = 100
);

bounded_text!(
    /// A telephone number: digits with an optional leading `+`, spaces, dots, dashes and
    /// parentheses; between 5 and 20 digits.
    Phone, field = "phone", max = 30, check = phone_shape
);

fn phone_shape(text: String) -> Result<String, Problem> {
    let body = text.strip_prefix('+').unwrap_or(&text);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || " .-()".contains(c));
    if allowed && (5..=20).contains(&digits) {
        Ok(text)
    } else {
        Err(Problem::Malformed(
            "a telephone number such as +33 4 72 00 00 00",
        ))
    }
}

/// Someone who orders from a branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    branch_id: Id<Branch>,
    name: CustomerName,
    email: Email,
    phone: Phone,
}

/// A change to a [`Customer`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch {
    /// The branch the customer now belongs to.
    pub branch_id: Option<Id<Branch>>,
    /// The new name.
    pub name: Option<CustomerName>,
    /// The new e-mail address.
    pub email: Option<Email>,
    /// The new telephone number.
    pub phone: Option<Phone>,
}

impl Customer {
    /// A customer of `branch_id`.
    pub fn new(branch_id: Id<Branch>, name: CustomerName, email: Email, phone: Phone) -> Self {
        Self {
            branch_id,
            name,
            email,
            phone,
        }
    }

    /// The branch the customer belongs to.
    pub fn branch_id(&self) -> Id<Branch> {
        self.branch_id
    }

    /// The name.
    pub fn name(&self) -> &CustomerName {
        &self.name
    }

    /// The e-mail address.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The telephone number.
    pub fn phone(&self) -> &Phone {
        &self.phone
    }
}

impl Entity for Customer {
    const NAME: &'static str = "Customer";
    const UNIQUE_FIELD: Option<&'static str> = None;
    type Patch = CustomerPatch;

    fn unique_value(&self) -> Option<&str> {
        None
    }

    fn apply(&self, patch: CustomerPatch) -> Result<Self, ValidationError> {
        Ok(Self {
            branch_id: patch.branch_id.unwrap_or(self.branch_id),
            name: patch.name.unwrap_or_else(|| self.name.clone()),
            email: patch.email.unwrap_or_else(|| self.email.clone()),
            phone: patch.phone.unwrap_or_else(|| self.phone.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_need_enough_digits_and_no_letters() {
        assert!(Phone::parse("+33 (4) 72-00.00.00").is_ok());
        for bad in ["1234", "call me", "+33 4 72 00 00 0x", "++33472000000"] {
            assert_eq!(Phone::parse(bad).unwrap_err().field(), "phone", "{bad}");
        }
    }
}
