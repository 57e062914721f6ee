use serde::{Deserialize, Serialize};

use crate::branch::Branch;
use crate::id::Id;
use crate::model::Model;
use crate::text::Email;

crate::bounded_text!(
    /// A customer's name: a company or a person.
    CustomerName, field = "name", max = 100, example = "Customer {}"
);

crate::bounded_text!(
    /// A telephone number: digits with an optional leading `+`, spaces, dots, dashes and
    /// parentheses; between 5 and 20 digits.
    Phone, field = "phone", max = 30,
    shape = r"\+?[ .()-]*(?:[0-9][ .()-]*){5,20}",
    expected = "a telephone number such as +33 4 72 00 00 00",
    example = "+33 4 72 {:08}"
);

/// Someone who orders from a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[model(filter, checked)]
    branch_id: Id<Branch>,
    name: CustomerName,
    email: Email,
    phone: Phone,
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

    /// The company or person the branch deals with.
    pub fn name(&self) -> &CustomerName {
        &self.name
    }

    /// The e-mail address.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// How the branch reaches the customer by telephone.
    pub fn phone(&self) -> &Phone {
        &self.phone
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
