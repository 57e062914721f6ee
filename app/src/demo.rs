//! The zero-configuration demo: with no database and no secret, the service makes up a
//! secret, writes a few records, and prints a token and a `curl` line that work at once.

use std::fmt::Write;
use std::time::Duration;

use domain::{
    Admin, Branch, BranchName, Customer, CustomerName, Email, FullName, LineItem, Location,
    Machine, MachineName, MachineStatus, MasterAdmin, Order, OrderStatus, Phone, Quantity,
    SerialNumber, Sku, UnitPrice, Username, ValidationError,
};
use ports::{RepositoryError, Role};
use secrecy::SecretString;

use crate::auth::{CallerRole, MIN_SECRET_BYTES};
use crate::http::AppState;
use registry::RegistryError;

/// How long the printed demo token stays valid, unless `AUTH_MAX_TOKEN_TTL` is shorter.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The login the demo prints.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// A master-admin token for the demo master admin.
    pub token: String,
}

impl DemoLogin {
    /// The lines printed at start-up: the token and a request that uses it.
    pub fn instructions(&self, port: u16) -> String {
        format!(
            "In-memory demo: data is lost on exit. Try it:\n\n  \
             curl -H 'Authorization: Bearer {token}' http://127.0.0.1:{port}/me\n",
            token = self.token
        )
    }
}

/// Why the demo records could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A demo value is invalid: a bug in this file.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A demo kind is not bound.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// A random secret of [`MIN_SECRET_BYTES`] bytes (256 bits), hex-encoded: twice the
/// minimum length, so the demo's own keys pass the check every configured secret passes.
pub fn generated_secret() -> SecretString {
    let bytes: [u8; MIN_SECRET_BYTES] = rand::random();
    let hex = bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    });
    SecretString::from(hex)
}

/// Writes the demo records and returns a master-admin login for them.
///
/// # Errors
/// See [`SeedError`].
pub async fn seed(state: &AppState) -> Result<DemoLogin, SeedError> {
    let registry = &state.registry;
    let branches = registry.repository::<Branch>(Role::MAIN)?;
    let lyon = Branch::new(
        BranchName::parse("Lyon")?,
        Location::parse("12 rue de la Forge")?,
    );
    let lyon = branches.create(lyon).await?.id();
    let turin = Branch::new(BranchName::parse("Turin")?, Location::parse("Via Nizza 8")?);
    branches.create(turin).await?;

    let acme = Customer::new(
        lyon,
        CustomerName::parse("Acme Tooling")?,
        Email::parse("buyer@acme.example")?,
        Phone::parse("+33 4 72 00 00 00")?,
    );
    let acme = registry
        .repository::<Customer>(Role::MAIN)?
        .create(acme)
        .await?
        .id();
    let gears = LineItem::new(
        Sku::parse("GEAR-40")?,
        Quantity::parse(12)?,
        UnitPrice::parse(18.5)?,
    );
    let order = Order::new(lyon, acme, vec![gears], OrderStatus::Pending)?;
    registry
        .repository::<Order>(Role::MAIN)?
        .create(order)
        .await?;
    let press = Machine::new(
        lyon,
        MachineName::parse("Press 4")?,
        SerialNumber::parse("PR-2024-0042")?,
        MachineStatus::Running,
    );
    registry
        .repository::<Machine>(Role::MAIN)?
        .create(press)
        .await?;

    let ada = Admin::new(
        Username::parse("ada")?,
        FullName::parse("Ada Lovelace")?,
        Email::parse("ada@example.com")?,
        Some(lyon),
    );
    registry
        .repository::<Admin>(Role::MASTERADMIN)?
        .create(ada)
        .await?;
    let grace = MasterAdmin::new(
        Username::parse("grace")?,
        FullName::parse("Grace Hopper")?,
        Email::parse("grace@example.com")?,
    );
    let grace = registry
        .repository::<MasterAdmin>(Role::MASTERADMIN)?
        .create(grace)
        .await?;
    let subject = grace.id().to_string();
    // Within the maximum lifetime, so that the printed token is one the service accepts.
    let lifetime = TOKEN_LIFETIME.min(state.keys.max_ttl());
    let token = state
        .keys
        .issue(&subject, CallerRole::MASTER_ADMIN, lifetime);
    Ok(DemoLogin { token })
}
