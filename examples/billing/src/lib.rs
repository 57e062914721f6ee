/*!
Billing, as a team outside this repository would build it on the back-office crates: an
[`Invoice`] model of its own, kept in a `billing` database of its own (the [`BILLING`] role),
next to the built-in `Branch` on `main`.

Everything here uses the crates' public API only: the model and its storage mapping, the
binding lines ([`service`]) and the router lines.
*/

use app::http::{crud, Access};
use app::service::Service;
use domain::{Branch, Entity, Id, Kind, Model, Problem, Rules, ValidationError, Value};
use ports::Role;
use serde::{Deserialize, Serialize};

/// The billing database: its URI comes from `MONGO_URI_BILLING`.
pub const BILLING: Role = Role::named("billing");

/// An invoice a branch issued: its unique number, its amount in cents and where it stands.
/// Stored in `invoices`, as Mongoose would name the collection of an `Invoice` model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
#[model(rules)]
pub struct Invoice {
    #[model(fixed, filter, checked)]
    branch_id: Id<Branch>,
    #[model(fixed, unique)]
    number: InvoiceNumber,
    amount_cents: AmountCents,
    #[model(default, filter)]
    status: InvoiceStatus,
}

domain::bounded_text!(
    /// An invoice's number, as printed on it: 1 to 32 of `A-Z`, `0-9`, `-`, `/`.
    InvoiceNumber, field = "number", max = 32, check = number_shape,
    example = "INV-{}"
);

fn number_shape(text: String) -> Result<String, Problem> {
    let allowed = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || "-/".contains(c);
    if text.chars().all(allowed) {
        Ok(text)
    } else {
        Err(Problem::Malformed("1 to 32 of A-Z, 0-9, '-' or '/'"))
    }
}

/// An amount in cents, from 0 to [`AmountCents::MAX`]: whole cents, so that sums are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AmountCents(i64);

impl AmountCents {
    /// The largest amount: ten billion in cents.
    pub const MAX: i64 = 1_000_000_000_000;

    /// The amount, in cents.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Value for AmountCents {
    type Input = i64;
    const KIND: Kind = Kind::Integer;
    // Published in the API document, and checked before `parse` as well.
    const RULES: Rules = Rules::range(0.0, AmountCents::MAX as f64);

    fn parse(cents: i64, field: &'static str) -> Result<Self, ValidationError> {
        if (0..=Self::MAX).contains(&cents) {
            Ok(Self(cents))
        } else {
            Err(ValidationError::new(field, Problem::OutOfRange))
        }
    }

    fn example(n: u32) -> i64 {
        i64::from(n) * 100
    }
}

domain::enumeration!(
    /// Where an invoice stands; paid and void are final.
    pub enum InvoiceStatus {
        /// Being written; everything may change.
        Draft = "draft",
        /// Sent to the customer; the amount is fixed.
        Issued = "issued",
        /// Settled; final.
        Paid = "paid",
        /// Cancelled; final.
        Void = "void",
    }
);

impl Invoice {
    /// An invoice of `branch_id` numbered `number`, for `amount_cents`.
    ///
    /// # Errors
    /// `number` is malformed or `amount_cents` is negative or above [`AmountCents::MAX`].
    pub fn new(
        branch_id: Id<Branch>,
        number: &str,
        amount_cents: i64,
        status: InvoiceStatus,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            branch_id,
            number: InvoiceNumber::parse(number)?,
            amount_cents: AmountCents::parse(amount_cents, "amountCents")?,
            status,
        })
    }

    /// The branch that issued it.
    pub fn branch_id(&self) -> Id<Branch> {
        self.branch_id
    }

    /// The amount, in cents.
    pub fn amount_cents(&self) -> i64 {
        self.amount_cents.get()
    }

    /// Where it stands.
    pub fn status(&self) -> InvoiceStatus {
        self.status
    }
}

/// An invoice's rules: paid and void are final, and the amount changes only on a draft.
impl Entity for Invoice {
    fn apply(&self, patch: InvoicePatch) -> Result<Self, ValidationError> {
        use InvoiceStatus::{Draft, Paid, Void};
        if matches!(self.status, Paid | Void) && patch.status.is_some_and(|s| s != self.status) {
            let why = "cannot change once the invoice is paid or void";
            return Err(ValidationError::new("status", Problem::NotAllowed(why)));
        }
        if patch.amount_cents.is_some() && self.status != Draft {
            let why = "can only change while the invoice is a draft";
            let error = ValidationError::new("amountCents", Problem::NotAllowed(why));
            return Err(error);
        }
        Ok(self.patched(patch))
    }
}

/// The billing service: branches on `main` (read by the back office's own model), invoices
/// on `billing`, and their routes.
pub fn service() -> Service {
    Service {
        roles: vec![BILLING],
        callers: Vec::new(),
        bind: |registry| {
            registry
                .bind::<Branch>(Role::MAIN)?
                .bind::<Invoice>(BILLING)
        },
        routes: || {
            vec![
                crud::<Branch>("/branches", Role::MAIN, Access::ANY_CALLER),
                crud::<Invoice>("/invoices", BILLING, Access::ANY_CALLER),
            ]
        },
        seeds_demo: false,
    }
}
