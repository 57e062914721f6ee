//! The hostile-input kit of `tests/tests/hostile_input.rs`: the service on the test server
//! with one seeded record of each kind ([`Harness`]), generators of hostile requests and
//! bodies, forged credentials, and the invariants every answer keeps ([`Answer`]).
//!
//! Proptest's runner is synchronous, so a [`Harness`] owns a Tokio runtime of its own, builds
//! the service and its driver clients inside it, and `block_on`s each request.
//!
//! - [`values`]: text, keys and JSON that have broken parsers, loggers or databases;
//! - [`bodies`]: create bodies, valid or with one flaw, and operator keys at any depth;
//! - [`requests`]: requests of any shape, and list queries with the page each must answer;
//! - [`credentials`]: what must never reach the masteradmin database;
//! - [`answers`]: reading answers and checking them, and running a property.

pub mod answers;
pub mod bodies;
pub mod credentials;
mod kind;
pub mod requests;
pub mod values;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use adapters_mongo::{ConnectionManager, MongoRepository, MongoSettings};
use app::auth::CallerRole;
use app::config::AppConfig;
use axum::body::Body;
use axum::http::Request;
use domain::{
    Admin, Branch, BranchName, Customer, CustomerName, Email, FullName, LineItem, Location,
    Machine, MachineName, MachineStatus, MasterAdmin, Order, OrderStatus, Phone, Quantity,
    SerialNumber, Sku, UnitPrice, Username,
};
use ports::{Repository, Role};
use tokio::runtime::Runtime;

pub use answers::{answer, fail, run_property, Answer, Tally};
pub use bodies::{blueprint, injection, isolation_routes, Blueprint, Injection};
pub use credentials::Forged;
pub use kind::EntityKind;
pub use requests::{id_segment, page_probe, probe, PageProbe, Probe};
pub use values::{decode, is_object_id};

use crate::service::{FreshDatabases, Snapshot, TestService, SELECTION_TIMEOUT};

/// What the API and the storage make of each kind of entity.
pub trait ApiKind {
    /// The route of its collection: `/branches`, `/master-admins`, …
    fn path(self) -> &'static str;
    /// The Mongoose collection name, as the adapter stores it.
    fn collection(self) -> &'static str;
    /// Whether it lives in the `masteradmin` database, for master admins only.
    fn privileged(self) -> bool;
    /// Every field a body of this kind may name.
    fn fields(self) -> &'static [&'static str];
}

impl ApiKind for EntityKind {
    fn path(self) -> &'static str {
        match self {
            EntityKind::Branch => "/branches",
            EntityKind::Customer => "/customers",
            EntityKind::Order => "/orders",
            EntityKind::Machine => "/machines",
            EntityKind::MasterAdmin => "/master-admins",
            EntityKind::Admin => "/admins",
        }
    }

    fn collection(self) -> &'static str {
        match self {
            EntityKind::Branch => "branches",
            EntityKind::Customer => "customers",
            EntityKind::Order => "orders",
            EntityKind::Machine => "machines",
            EntityKind::MasterAdmin => "masteradmins",
            EntityKind::Admin => "admins",
        }
    }

    fn privileged(self) -> bool {
        matches!(self, EntityKind::MasterAdmin | EntityKind::Admin)
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            EntityKind::Branch => &["name", "location"],
            EntityKind::Customer => &["branchId", "name", "email", "phone"],
            EntityKind::Order => &["branchId", "customerId", "items", "status"],
            EntityKind::Machine => &["branchId", "name", "serialNumber", "status"],
            EntityKind::MasterAdmin => &["username", "fullName", "email"],
            EntityKind::Admin => &["username", "fullName", "email", "branchId"],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The service on the test server, seeded

/// The records every harness starts with, and the values that identify masteradmin data.
#[derive(Debug, Clone)]
pub struct Seeds {
    /// One id per kind, in [`EntityKind::ALL`] order.
    ids: [String; 6],
    master_username: String,
    master_email: String,
    master_full_name: String,
    /// The seeded admin's username.
    pub admin_username: String,
    admin_email: String,
}

impl Seeds {
    /// The id of the seeded record of `kind`.
    pub fn id(&self, kind: EntityKind) -> &str {
        &self.ids[kind as usize]
    }

    /// Text that only the masteradmin database holds.
    pub fn masteradmin_markers(&self) -> [&str; 5] {
        [
            &self.master_username,
            &self.master_email,
            &self.master_full_name,
            &self.admin_username,
            &self.admin_email,
        ]
    }

    /// One record of each kind, written by a manager on `settings` that is shut down
    /// afterwards.
    async fn plant(settings: MongoSettings) -> Self {
        let manager = ConnectionManager::new(settings);
        let main = manager.role(Role::MAIN).unwrap();
        let admin = manager.role(Role::MASTERADMIN).unwrap();
        let tag = unique_token();

        let branch = MongoRepository::<Branch>::new(main.clone())
            .create(Branch::new(
                BranchName::parse(format!("Seed branch {tag}")).unwrap(),
                Location::parse("1 quai de la Seed").unwrap(),
            ))
            .await
            .unwrap();
        let customer = MongoRepository::<Customer>::new(main.clone())
            .create(Customer::new(
                branch.id(),
                CustomerName::parse("Seed customer").unwrap(),
                Email::parse("customer@example.com").unwrap(),
                Phone::parse("+33 4 72 00 00 00").unwrap(),
            ))
            .await
            .unwrap();
        let order = MongoRepository::<Order>::new(main.clone())
            .create(
                Order::new(
                    branch.id(),
                    customer.id(),
                    vec![LineItem::new(
                        Sku::parse("SEED-1").unwrap(),
                        Quantity::parse(2).unwrap(),
                        UnitPrice::parse(9.5).unwrap(),
                    )],
                    OrderStatus::Pending,
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let machine = MongoRepository::<Machine>::new(main)
            .create(Machine::new(
                branch.id(),
                MachineName::parse("Seed press").unwrap(),
                SerialNumber::parse(format!("SEED-{tag}")).unwrap(),
                MachineStatus::Idle,
            ))
            .await
            .unwrap();
        let seeds = Seeds {
            ids: Default::default(),
            master_username: format!("zz.master.{tag}"),
            master_email: format!("zz.master.{tag}@masteradmin.example"),
            master_full_name: format!("Zelda Masterly {tag}"),
            admin_username: format!("zz.admin.{tag}"),
            admin_email: format!("zz.admin.{tag}@masteradmin.example"),
        };
        let master = MongoRepository::<MasterAdmin>::new(admin.clone())
            .create(MasterAdmin::new(
                Username::parse(&seeds.master_username).unwrap(),
                FullName::parse(&seeds.master_full_name).unwrap(),
                Email::parse(&seeds.master_email).unwrap(),
            ))
            .await
            .unwrap();
        let admin_record = MongoRepository::<Admin>::new(admin)
            .create(Admin::new(
                Username::parse(&seeds.admin_username).unwrap(),
                FullName::parse("Adam Admin").unwrap(),
                Email::parse(&seeds.admin_email).unwrap(),
                Some(branch.id()),
            ))
            .await
            .unwrap();
        manager.shutdown().await;
        Seeds {
            ids: [
                branch.id().to_string(),
                customer.id().to_string(),
                order.id().to_string(),
                machine.id().to_string(),
                master.id().to_string(),
                admin_record.id().to_string(),
            ],
            ..seeds
        }
    }
}

/// The service on two fresh databases of the test server, seeded, with a runtime of its own.
/// Dropping it drops the databases and closes every client.
pub struct Harness {
    runtime: Runtime,
    service: TestService,
    /// The records it starts with.
    pub seeds: Seeds,
    /// A token of the seeded master admin.
    pub master_token: String,
}

impl Harness {
    /// The service on two fresh databases, seeded through repositories of a manager of the
    /// test's own, so that the service's own clients are created by requests only.
    ///
    /// With `separate_clients`, the masteradmin URI carries an extra option, so the service
    /// gives it a client of its own: whether that client exists shows whether anything reached
    /// the masteradmin database.
    pub fn start(prefix: &str, separate_clients: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let databases = FreshDatabases::new(prefix);
        let admin_uri = databases.uri(Role::MASTERADMIN);
        let service_admin_uri = if separate_clients {
            testkit::server::uri_with_option(&admin_uri, "appName=hostile-masteradmin")
        } else {
            admin_uri
        };
        let (service, seeds) = runtime.block_on(async {
            let seeds = Seeds::plant(databases.settings()).await;
            let settings = MongoSettings::new(databases.uri(Role::MAIN))
                .unwrap()
                .with_masteradmin_uri(service_admin_uri)
                .unwrap()
                .with_server_selection_timeout(SELECTION_TIMEOUT);
            let service =
                TestService::looking_at(config(settings), &databases.main, &databases.masteradmin)
                    .await;
            (service, seeds)
        });
        let master_token =
            service.token_for(seeds.id(EntityKind::MasterAdmin), CallerRole::MASTER_ADMIN);
        Self {
            runtime,
            service,
            seeds,
            master_token,
        }
    }

    /// The service.
    pub fn service(&self) -> &TestService {
        &self.service
    }

    /// The service's connection manager.
    pub fn manager(&self) -> &ConnectionManager {
        self.service.manager()
    }

    /// Sends `request` and reads the answer, in the harness's runtime.
    ///
    /// # Errors
    ///
    /// As [`answer`].
    pub fn call(&self, request: Request<Body>) -> Result<Answer, String> {
        self.runtime
            .block_on(answer(self.service.router(), request))
    }

    /// Every document of both databases.
    pub fn snapshot(&self) -> Snapshot {
        self.runtime.block_on(self.service.snapshot())
    }

    /// Every document of the masteradmin database.
    pub fn masteradmin_snapshot(&self) -> Snapshot {
        self.runtime
            .block_on(crate::service::snapshot(self.service.masteradmin()))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.runtime.block_on(self.service.finish());
    }
}

/// The configuration of the service the hostile tests drive: [`TestService::config`] with
/// the shorter [`answers::REQUEST_TIMEOUT`] that [`Answer::check_shape`] holds answers to.
pub fn config(settings: MongoSettings) -> AppConfig {
    AppConfig {
        request_timeout: answers::REQUEST_TIMEOUT,
        ..TestService::config(settings)
    }
}

/// Distinct within a run and across runs: lowercase letters and digits only.
pub fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static RUN: OnceLock<u32> = OnceLock::new();
    // Fixed width, so that no two (run, counter) pairs spell the same token.
    let run = RUN.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        nanos ^ std::process::id().rotate_left(16)
    });
    format!("{run:08x}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
