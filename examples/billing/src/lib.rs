/*!
Billing, as a team outside this repository would build it on the back-office crates: an
[`Invoice`] model of its own, kept in a `billing` database of its own (the [`BILLING`] role),
next to the built-in `Branch` on `main`.

Everything here uses the crates' public API only: the model and its storage mapping, the
binding lines ([`service`]) and the router lines.
*/

use adapters_mongo::bson::{doc, Bson, Document};
use adapters_mongo::{fields, DocumentError, MongoEntity};
use app::backend::Service;
use app::http::resources::Resource;
use app::http::{crud, Access};
use domain::{Branch, Entity, Id, Problem, Record, ValidationError};
use ports::{Repository, RepositoryError, Role};
use serde::{Deserialize, Serialize};

/// The billing database: its URI comes from `MONGO_URI_BILLING`.
pub const BILLING: Role = Role::named("billing");

/// An invoice a branch issued: its unique number, its amount in cents and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    branch_id: Id<Branch>,
    number: String,
    amount_cents: i64,
    status: InvoiceStatus,
}

/// Where an invoice stands; paid and void are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Being written; everything may change.
    #[default]
    Draft,
    /// Sent to the customer; the amount is fixed.
    Issued,
    /// Settled; final.
    Paid,
    /// Cancelled; final.
    Void,
}

impl InvoiceStatus {
    fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Issued => "issued",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    fn parse(text: &str) -> Result<Self, ValidationError> {
        [Self::Draft, Self::Issued, Self::Paid, Self::Void]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or(ValidationError::new(
                "status",
                Problem::Malformed("one of draft, issued, paid, void"),
            ))
    }
}

/// A change to an [`Invoice`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvoicePatch {
    /// The new amount (only while a draft).
    pub amount_cents: Option<i64>,
    /// The new status (not once paid or void).
    pub status: Option<InvoiceStatus>,
}

impl Invoice {
    /// The largest amount, in cents: ten billion.
    pub const MAX_CENTS: i64 = 1_000_000_000_000;

    /// An invoice of `branch_id` numbered `number` (1 to 32 of `A-Z`, `0-9`, `-`, `/`).
    ///
    /// # Errors
    /// `number` is malformed or `amount_cents` is negative or above [`Self::MAX_CENTS`].
    pub fn new(
        branch_id: Id<Branch>,
        number: &str,
        amount_cents: i64,
        status: InvoiceStatus,
    ) -> Result<Self, ValidationError> {
        let number = number.trim();
        let well_formed = (1..=32).contains(&number.len())
            && number
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-/".contains(c));
        if !well_formed {
            let expected = "1 to 32 of A-Z, 0-9, '-' or '/'";
            return Err(ValidationError::new("number", Problem::Malformed(expected)));
        }
        if !(0..=Self::MAX_CENTS).contains(&amount_cents) {
            return Err(ValidationError::new("amountCents", Problem::OutOfRange));
        }
        Ok(Self {
            branch_id,
            number: number.to_owned(),
            amount_cents,
            status,
        })
    }

    /// The branch that issued it.
    pub fn branch_id(&self) -> Id<Branch> {
        self.branch_id
    }

    /// The amount, in cents.
    pub fn amount_cents(&self) -> i64 {
        self.amount_cents
    }

    /// Where it stands.
    pub fn status(&self) -> InvoiceStatus {
        self.status
    }
}

impl Entity for Invoice {
    const NAME: &'static str = "Invoice";
    const UNIQUE_FIELD: Option<&'static str> = Some("number");
    type Patch = InvoicePatch;

    fn unique_value(&self) -> Option<&str> {
        Some(&self.number)
    }

    fn apply(&self, patch: InvoicePatch) -> Result<Self, ValidationError> {
        use InvoiceStatus::{Draft, Paid, Void};
        if matches!(self.status, Paid | Void) && patch.status.is_some_and(|s| s != self.status) {
            let why = "cannot change once the invoice is paid or void";
            return Err(ValidationError::new("status", Problem::NotAllowed(why)));
        }
        if patch.amount_cents.is_some() && self.status != Draft {
            let why = "can only change while the invoice is a draft";
            return Err(ValidationError::new(
                "amountCents",
                Problem::NotAllowed(why),
            ));
        }
        Invoice::new(
            self.branch_id,
            &self.number,
            patch.amount_cents.unwrap_or(self.amount_cents),
            patch.status.unwrap_or(self.status),
        )
    }
}

impl MongoEntity for Invoice {
    const COLLECTION: &'static str = "invoices";
    const FIELDS: &'static [&'static str] = &["branchId", "number", "amountCents", "status"];

    fn write_fields(&self, document: &mut Document) {
        document.extend(doc! {
            "branchId": fields::object_id(self.branch_id),
            "number": &self.number,
            // As Node.js stores a whole number: Int32 when it fits.
            "amountCents": i32::try_from(self.amount_cents)
                .map_or(Bson::Int64(self.amount_cents), Bson::Int32),
            "status": self.status.as_str(),
        });
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        Ok(Invoice::new(
            fields::id(document, "branchId")?,
            fields::string(document, "number")?,
            fields::integer(document, "amountCents")?,
            InvoiceStatus::parse(fields::string(document, "status")?)?,
        )?)
    }
}

/// The body of `POST /invoices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewInvoice {
    branch_id: String,
    number: String,
    amount_cents: i64,
    status: Option<String>,
}

/// The body of `PATCH /invoices/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvoiceChange {
    amount_cents: Option<i64>,
    status: Option<String>,
}

impl Resource for Invoice {
    type Create = NewInvoice;
    type Update = InvoiceChange;

    fn create(body: NewInvoice) -> Result<Self, ValidationError> {
        let branch_id = Id::parse(&body.branch_id).map_err(|_| {
            ValidationError::new(
                "branchId",
                Problem::Malformed("an id of 24 hexadecimal characters"),
            )
        })?;
        let status = body
            .status
            .as_deref()
            .map(InvoiceStatus::parse)
            .transpose()?;
        Invoice::new(
            branch_id,
            &body.number,
            body.amount_cents,
            status.unwrap_or_default(),
        )
    }

    fn patch(body: InvoiceChange) -> Result<InvoicePatch, ValidationError> {
        Ok(InvoicePatch {
            amount_cents: body.amount_cents,
            status: body
                .status
                .as_deref()
                .map(InvoiceStatus::parse)
                .transpose()?,
        })
    }
}

/// Why an invoice was not issued.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum IssueError {
    /// The branch does not exist on `main`.
    #[error("branch {0} does not exist")]
    UnknownBranch(Id<Branch>),
    /// A repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Stores `invoice` in billing once its branch is known on `main`: a rule across two roles,
/// which no database enforces for us.
///
/// # Errors
/// [`IssueError::UnknownBranch`] when the branch is missing (nothing is written), else the
/// repositories' errors.
pub async fn issue_invoice(
    branches: &dyn Repository<Branch>,
    invoices: &dyn Repository<Invoice>,
    invoice: Invoice,
) -> Result<Record<Invoice>, IssueError> {
    match branches.get(invoice.branch_id()).await {
        Ok(_) => Ok(invoices.create(invoice).await?),
        Err(RepositoryError::NotFound { .. }) => {
            Err(IssueError::UnknownBranch(invoice.branch_id()))
        }
        Err(other) => Err(other.into()),
    }
}

/// The billing service: branches on `main` (read by the back office's own model), invoices
/// on `billing`, and their routes.
pub fn service() -> Service {
    Service {
        roles: vec![BILLING],
        bind: |registry| {
            registry
                .bind::<Branch>(Role::MAIN)?
                .bind::<Invoice>(BILLING)
        },
        routes: || {
            vec![
                crud::<Branch>("/branches", Role::MAIN, Access::AnyCaller),
                crud::<Invoice>("/invoices", BILLING, Access::AnyCaller),
            ]
        },
        seeds_demo: false,
    }
}
