//! Hostile input over HTTP, against the real test server (`MONGO_TEST_URI`).
//!
//! Requests go through `app::http::router` with `oneshot` (no socket) to MongoDB repositories
//! whose `main` and `masteradmin` roles use two fresh databases. Proptest's runner is
//! synchronous, so every test builds its own Tokio runtime, builds the service and its driver
//! clients inside it, and `block_on`s each case.
//!
//! What holds for every request, whatever its method, path, query, token or body:
//! - it is answered, in time, never with a 5xx (the server is up) and never by a panic;
//! - an error body is `{"error": {"code", "message"}}` and nothing else, a success `{"data"}`;
//! - no body shows a connection string, a password or the JWT secret;
//! - a rejected request (4xx) or a read changes nothing: every document of the six collections
//!   of both databases is read with a separate driver client before and after, and compared.
//!
//! Then: role isolation with forged and foreign credentials (checked on the server, and by the
//! service's own client count: the `masteradmin` client is never even created), and secrets in
//! logs, bodies and `Debug` output (logs captured by a `tracing` subscriber of the test's own).
// A failed unwrap in a test is the assertion failing, with its value shown.
#![allow(clippy::unwrap_used)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use adapters_mongo::{ConnectionManager, MongoRepository, MongoSettings};
use app::auth::{CallerRole, JwtKeys};
use app::backend::{Application, Backend};
use app::config::{AppConfig, BackendConfig, Cli};
use app::http::error::ApiError;
use app::http::BODY_LIMIT_BYTES;
use app::registry::Bindings;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use clap::Parser;
use domain::{
    Admin, Branch, BranchName, Customer, CustomerName, Email, FullName, LineItem, Location,
    Machine, MachineName, MachineStatus, MasterAdmin, Order, OrderStatus, Phone, Quantity,
    SerialNumber, Sku, UnitPrice, Username,
};
use http_body_util::BodyExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use mongodb::options::ClientOptions;
use mongodb::{Client, Database};
use ports::{ConnectionMonitor, ConnectionState, Repository, Role};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use tests::server::{known_server_gap, test_server_uri, unique_database_name, uri_with_database};
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The secret the service verifies tokens with: it must never be shown.
const SECRET: &str = "hostile-jwt-Secret-never-shown-4d1f";
/// The password of the URIs that carry one: it must never be shown.
const PASSWORD: &str = "S3cretPass";
/// The service's own request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits for an answer: the service's timeout and a margin.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);
/// Long enough for the test server on a busy 2-core machine, short enough to fail fast.
const SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// For a role whose server is down or refuses the login: how long before a 503.
const DEAD_SELECTION_TIMEOUT: Duration = Duration::from_millis(400);
const TOKEN_TTL: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------------
// Entity kinds

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Branch,
    Customer,
    Order,
    Machine,
    MasterAdmin,
    Admin,
}

/// What a field of a create body must be.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Text(usize),
    Id,
    Items,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Branch,
        Kind::Customer,
        Kind::Order,
        Kind::Machine,
        Kind::MasterAdmin,
        Kind::Admin,
    ];

    fn path(self) -> &'static str {
        match self {
            Kind::Branch => "/branches",
            Kind::Customer => "/customers",
            Kind::Order => "/orders",
            Kind::Machine => "/machines",
            Kind::MasterAdmin => "/master-admins",
            Kind::Admin => "/admins",
        }
    }

    /// The Mongoose collection name, as the adapter stores it.
    fn collection(self) -> &'static str {
        match self {
            Kind::Branch => "branches",
            Kind::Customer => "customers",
            Kind::Order => "orders",
            Kind::Machine => "machines",
            Kind::MasterAdmin => "masteradmins",
            Kind::Admin => "admins",
        }
    }

    fn privileged(self) -> bool {
        matches!(self, Kind::MasterAdmin | Kind::Admin)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The required fields of a create body.
    fn required(self) -> &'static [(&'static str, Shape)] {
        match self {
            Kind::Branch => &[("name", Shape::Text(100)), ("location", Shape::Text(200))],
            Kind::Customer => &[
                ("branchId", Shape::Id),
                ("name", Shape::Text(100)),
                ("email", Shape::Text(254)),
                ("phone", Shape::Text(30)),
            ],
            Kind::Order => &[
                ("branchId", Shape::Id),
                ("customerId", Shape::Id),
                ("items", Shape::Items),
            ],
            Kind::Machine => &[
                ("branchId", Shape::Id),
                ("name", Shape::Text(100)),
                ("serialNumber", Shape::Text(64)),
            ],
            Kind::MasterAdmin | Kind::Admin => &[
                ("username", Shape::Text(50)),
                ("fullName", Shape::Text(100)),
                ("email", Shape::Text(254)),
            ],
        }
    }

    /// Every field a body of this kind may name.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Branch => &["name", "location"],
            Kind::Customer => &["branchId", "name", "email", "phone"],
            Kind::Order => &["branchId", "customerId", "items", "status"],
            Kind::Machine => &["branchId", "name", "serialNumber", "status"],
            Kind::MasterAdmin => &["username", "fullName", "email"],
            Kind::Admin => &["username", "fullName", "email", "branchId"],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The service on the test server, and a driver client of the test's own

/// The records every harness starts with, and the values that identify masteradmin data.
#[derive(Debug, Clone)]
struct Seeds {
    /// One id per [`Kind`], in [`Kind::ALL`] order.
    ids: [String; 6],
    master_username: String,
    master_email: String,
    master_full_name: String,
    admin_username: String,
    admin_email: String,
}

impl Seeds {
    fn id(&self, kind: Kind) -> &str {
        &self.ids[kind.index()]
    }

    /// Text that only the masteradmin database holds.
    fn masteradmin_markers(&self) -> [&str; 5] {
        [
            &self.master_username,
            &self.master_email,
            &self.master_full_name,
            &self.admin_username,
            &self.admin_email,
        ]
    }
}

struct Harness {
    runtime: Runtime,
    application: Application,
    router: Router,
    raw: Client,
    main: Database,
    masteradmin: Database,
    seeds: Seeds,
    /// A token of the seeded master admin.
    master_token: String,
}

impl Harness {
    /// The service on two fresh databases, seeded through repositories of a manager of the
    /// test's own, so that the service's own clients are created by requests only.
    ///
    /// With `separate_clients`, the masteradmin URI carries an extra option, so the service
    /// gives it a client of its own: whether that client exists shows whether anything reached
    /// the masteradmin database.
    fn start(prefix: &str, separate_clients: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = test_server_uri();
        let main_name = unique_database_name(&format!("{prefix}_main"));
        let admin_name = unique_database_name(&format!("{prefix}_admin"));
        let main_uri = uri_with_database(&server, &main_name);
        let admin_uri = uri_with_database(&server, &admin_name);
        let service_admin_uri = if separate_clients {
            with_option(&admin_uri, "appName=hostile-masteradmin")
        } else {
            admin_uri.clone()
        };
        let (application, raw, seeds) = runtime.block_on(async {
            let seeds = seed(&main_uri, &admin_uri).await;
            let settings = MongoSettings::new(main_uri.clone())
                .unwrap()
                .with_masteradmin_uri(service_admin_uri)
                .unwrap()
                .with_server_selection_timeout(SELECTION_TIMEOUT);
            let application = Application::build(app_config(settings)).await.unwrap();
            (application, raw_client().await, seeds)
        });
        let master_token = application.keys().issue(
            seeds.id(Kind::MasterAdmin),
            CallerRole::MasterAdmin,
            TOKEN_TTL,
        );
        Self {
            router: app::http::router(application.state.clone()),
            main: raw.database(&main_name),
            masteradmin: raw.database(&admin_name),
            runtime,
            application,
            raw,
            seeds,
            master_token,
        }
    }

    fn manager(&self) -> &ConnectionManager {
        match &self.application.backend {
            Backend::Mongo(manager) => manager,
            Backend::Memory => unreachable!("the harness runs on MongoDB"),
        }
    }

    fn call(&self, request: Request<Body>) -> Result<Reply, String> {
        self.runtime.block_on(answer(&self.router, request))
    }

    /// Every document of both databases.
    fn snapshot(&self) -> Snapshot {
        self.runtime.block_on(async {
            let (main, masteradmin) = tokio::join!(
                database_snapshot(&self.main),
                database_snapshot(&self.masteradmin)
            );
            main.into_iter()
                .map(|(c, docs)| (format!("main.{c}"), docs))
                .chain(
                    masteradmin
                        .into_iter()
                        .map(|(c, docs)| (format!("masteradmin.{c}"), docs)),
                )
                .collect()
        })
    }

    fn masteradmin_snapshot(&self) -> Snapshot {
        self.runtime.block_on(database_snapshot(&self.masteradmin))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Best effort: a leftover database only costs disk space.
        self.runtime.block_on(async {
            let _ = self.main.drop().await;
            let _ = self.masteradmin.drop().await;
            self.application.backend.shutdown().await;
            self.raw.clone().shutdown().await;
        });
    }
}

fn app_config(settings: MongoSettings) -> AppConfig {
    AppConfig {
        backend: BackendConfig::Mongo(Box::new(settings)),
        jwt_secret: Some(SecretString::from(SECRET)),
        bindings: Bindings::default(),
        request_timeout: REQUEST_TIMEOUT,
        ping_timeout: Duration::from_secs(3),
    }
}

fn with_option(uri: &str, option: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{option}")
}

/// One record of each kind, written by a manager that is shut down afterwards.
async fn seed(main_uri: &str, admin_uri: &str) -> Seeds {
    let settings = MongoSettings::new(main_uri)
        .unwrap()
        .with_masteradmin_uri(admin_uri)
        .unwrap()
        .with_server_selection_timeout(SELECTION_TIMEOUT);
    let manager = ConnectionManager::new(settings);
    let main = manager.role(Role::Main);
    let admin = manager.role(Role::MasterAdmin);
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

/// A driver client of the test's own, built in the test's runtime.
async fn raw_client() -> Client {
    let mut options = ClientOptions::parse(test_server_uri()).await.unwrap();
    options.server_selection_timeout = Some(SELECTION_TIMEOUT);
    Client::with_options(options).unwrap()
}

/// Distinct within a run and across runs: lowercase letters and digits only.
fn unique_token() -> String {
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

/// A port on 127.0.0.1 where nothing listens: the kernel's pick, released at once.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/// Every document of every collection, by collection, in `_id` order.
type Snapshot = BTreeMap<String, Vec<Document>>;

async fn database_snapshot(database: &Database) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for kind in Kind::ALL {
        let mut cursor = database
            .collection::<Document>(kind.collection())
            .find(doc! {})
            .await
            .unwrap();
        let mut documents = Vec::new();
        while cursor.advance().await.unwrap() {
            documents.push(cursor.deserialize_current().unwrap());
        }
        documents.sort_by_key(|d| d.get("_id").map(ToString::to_string));
        snapshot.insert(kind.collection().to_owned(), documents);
    }
    snapshot
}

/// `Ok` when equal, else what differs, briefly.
fn same_snapshot(before: &Snapshot, after: &Snapshot) -> Result<(), String> {
    for (collection, documents) in before {
        let now = after.get(collection).map_or(&[][..], Vec::as_slice);
        if documents.as_slice() != now {
            let first_difference = documents
                .iter()
                .zip(now)
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("; first difference: {a} became {b}"))
                .unwrap_or_default();
            return Err(format!(
                "{collection} changed: {} documents before, {} after{}",
                documents.len(),
                now.len(),
                shorten(&first_difference, 600)
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Answers and the invariants every answer keeps

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    text: String,
    elapsed: Duration,
}

async fn answer(router: &Router, request: Request<Body>) -> Result<Reply, String> {
    let started = Instant::now();
    let response = tokio::time::timeout(ANSWER_TIMEOUT, router.clone().oneshot(request))
        .await
        .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))?
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let bytes = tokio::time::timeout(ANSWER_TIMEOUT, response.into_body().collect())
        .await
        .map_err(|_| format!("a {status} body not read within {ANSWER_TIMEOUT:?}"))?
        .map_err(|e| format!("a {status} body failed: {e}"))?
        .to_bytes();
    Ok(Reply {
        status,
        text: String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("a {status} body is not UTF-8"))?,
        elapsed: started.elapsed(),
    })
}

impl Reply {
    /// The invariants of every answer of a service whose databases are up.
    fn check(&self, method: &Method) -> Result<(), String> {
        let status = self.status;
        if status.is_server_error() {
            return Err(format!("answered {status}: {}", shorten(&self.text, 400)));
        }
        self.check_shape(method)
    }

    /// The invariants of every answer, whatever the state of the databases.
    fn check_shape(&self, method: &Method) -> Result<(), String> {
        let status = self.status;
        for shown in [SECRET, PASSWORD, "mongodb://", "mongodb+srv://"] {
            if self.text.contains(shown) {
                return Err(format!("a {status} body shows {shown:?}: {}", self.text));
            }
        }
        if self.elapsed > REQUEST_TIMEOUT + Duration::from_secs(2) {
            return Err(format!(
                "answered {status} after {:?}, over the {REQUEST_TIMEOUT:?} request timeout",
                self.elapsed
            ));
        }
        if method == Method::HEAD {
            return match self.text.is_empty() {
                true => Ok(()),
                false => Err(format!("a HEAD answer has a body: {}", self.text)),
            };
        }
        let body: Value = serde_json::from_str(&self.text).map_err(|e| {
            format!(
                "a {status} body is not JSON ({e}): {:?}",
                shorten(&self.text, 300)
            )
        })?;
        let degraded_health = body["data"]["status"] == "degraded";
        if status == StatusCode::SERVICE_UNAVAILABLE && degraded_health {
            // `/health` answers a database that is down with its usual body and a 503.
            Ok(())
        } else if status.is_client_error() || status.is_server_error() {
            error_shape(&body).map_err(|why| format!("a {status} body {why}: {body}"))
        } else if body.get("data").is_some() && body.as_object().is_some_and(|o| o.len() == 1) {
            Ok(())
        } else {
            Err(format!("a {status} body is not {{\"data\": …}}: {body}"))
        }
    }
}

/// `{"error": {"code": "…", "message": "…"}}` and nothing else.
fn error_shape(body: &Value) -> Result<(), &'static str> {
    let top = body.as_object().ok_or("is not an object")?;
    let error = top.get("error").and_then(Value::as_object);
    let (1, Some(error)) = (top.len(), error) else {
        return Err("is not {\"error\": {…}} alone");
    };
    let text = |key| error.get(key).and_then(Value::as_str);
    match (error.len(), text("code"), text("message")) {
        (2, Some(code), Some(_)) if !code.is_empty() => Ok(()),
        _ => Err("has an error without exactly a code and a message"),
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.to_owned(),
    }
}

/// Runs `test` on `cases` values of `strategy`, shrinks a failure and panics with it.
fn run_property<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: fmt::Debug,
{
    // `PROPTEST_CASES` overrides every count, for a longer hunt than the default run's.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 300,
        max_shrink_time: 90_000,
        ..Config::default()
    };
    let started = Instant::now();
    let runs = Cell::new(0_u32);
    let result = TestRunner::new(config).run(&strategy, |value| {
        runs.set(runs.get() + 1);
        test(value)
    });
    eprintln!(
        "{name}: {} cases run (shrinking included) in {:.1?}",
        runs.get(),
        started.elapsed()
    );
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
}

fn fail(why: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(why.into())
}

/// Statuses seen, for the summary line.
#[derive(Default)]
struct Tally(RefCell<BTreeMap<u16, u32>>);

impl Tally {
    fn count(&self, status: StatusCode) {
        *self.0.borrow_mut().entry(status.as_u16()).or_default() += 1;
    }

    fn print(&self, name: &str) {
        let tally = self.0.borrow();
        let total: u32 = tally.values().sum();
        eprintln!("{name}: {total} requests, by status {tally:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile values

/// Text fragments that have broken parsers, loggers or databases somewhere.
const FRAGMENTS: &[&str] = &[
    "",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\0",
    "a\0b",
    "\u{202E}",
    "\u{202B}رسالة\u{202C}",
    "\u{200B}",
    "\u{200D}",
    "\u{2060}",
    "\u{FEFF}",
    "e\u{301}",
    "שלום",
    "مرحبا",
    "👩‍👩‍👧‍👦",
    "\u{10FFFF}",
    "\u{FFFD}",
    "İ",
    "ß",
    "ﬁ",
    "\u{7F}",
    "\u{85}",
    "\u{A0}",
    "\u{3000}",
    "$where",
    "$gt",
    "{\"$gt\":\"\"}",
    "'; db.dropDatabase(); '",
    "\\",
    "\"",
    "a.b",
    "$",
    "..",
    "%00",
    "%2e%2e",
    "null",
    "undefined",
    "<script>",
];

const LENGTHS: &[usize] = &[
    2, 3, 23, 24, 25, 30, 31, 50, 51, 64, 65, 100, 101, 200, 201, 254, 255, 3000,
];
const FILLERS: &[&str] = &["a", "é", "\u{200B}", "0", "f", " ", "👍", "\0", "\u{202E}"];

/// Keys a body may use that no body of any kind may: operators, paths, internals.
const OPERATOR_KEYS: &[&str] = &[
    "$gt",
    "$ne",
    "$where",
    "$set",
    "$regex",
    "$expr",
    "$in",
    "$or",
    "$function",
    "$",
    "a.b",
    "items.0.sku",
    "name.first",
    ".",
    "$.name",
    "_id",
    "__v",
    "id",
    "createdAt",
    "__proto__",
    "constructor",
];

const KNOWN_FIELDS: &[&str] = &[
    "name",
    "location",
    "branchId",
    "customerId",
    "email",
    "phone",
    "items",
    "sku",
    "quantity",
    "unitPrice",
    "status",
    "serialNumber",
    "username",
    "fullName",
];

const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1e308,
    -1e308,
    5e-324,
    1.5,
    1_000_000.0,
    1_000_001.0,
    1e9,
    1_000_000_000.01,
    -0.01,
];

/// Values that no required field of a create body accepts.
fn wrong_values() -> Vec<Value> {
    vec![
        json!({ "$gt": "" }),
        json!({ "$ne": null }),
        json!({ "$where": "1" }),
        json!({ "$regex": ".*" }),
        json!({ "$in": ["a"] }),
        json!(5),
        json!(-1),
        json!(true),
        json!(["x"]),
        json!({}),
        json!(1.5),
        Value::Null,
    ]
}

fn text_of(parts: Vec<char>) -> String {
    parts.into_iter().collect()
}

fn hostile_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => vec(any::<char>(), 0..40).prop_map(text_of),
        3 => vec(select(FRAGMENTS), 1..6).prop_map(|parts| parts.concat()),
        1 => (select(LENGTHS), select(FILLERS)).prop_map(|(n, filler)| filler.repeat(n)),
    ]
    .boxed()
}

fn hostile_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(KNOWN_FIELDS).prop_map(str::to_owned),
        2 => select(OPERATOR_KEYS).prop_map(str::to_owned),
        1 => hostile_text(),
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(NUMBERS).prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, at most four levels deep and 48 leaves large.
fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                vec((hostile_key(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// How to wrap a value one level deeper.
#[derive(Debug, Clone, Copy)]
enum Wrap {
    Array,
    Object(&'static str),
}

fn wraps(depth: std::ops::Range<usize>) -> BoxedStrategy<Vec<Wrap>> {
    vec(
        prop_oneof![
            Just(Wrap::Array),
            select(&["name", "items", "$where", "a.b", "sku"][..]).prop_map(Wrap::Object),
        ],
        depth,
    )
    .boxed()
}

fn wrapped(mut value: Value, wraps: &[Wrap]) -> Value {
    for wrap in wraps {
        value = match wrap {
            Wrap::Array => Value::Array(vec![value]),
            Wrap::Object(key) => Value::Object(Map::from_iter([((*key).to_owned(), value)])),
        };
    }
    value
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes and leaves malformed ones as they are, as axum does; `None` when the
/// result is not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], pair) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn is_object_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------------------------
// Create bodies: valid by construction, or valid with one flaw that makes them invalid

/// The free parts of a valid create body; the unique keys get a fresh token when it is sent.
#[derive(Debug, Clone)]
struct Look {
    /// Arbitrary characters (RTL marks, zero-width, NUL…) around the names.
    decor: String,
    padded: bool,
    username_tail: String,
    email_local: String,
    phone: String,
    status: Option<usize>,
    items: Vec<(String, i64, f64)>,
    admin_branch: AdminBranch,
}

#[derive(Debug, Clone)]
enum AdminBranch {
    Absent,
    Null,
    Seeded,
    Unknown(String),
}

/// What makes a create body invalid; every variant must be a 400.
#[derive(Debug, Clone)]
enum Flaw {
    WrongType { field: usize, value: Value },
    ExtraKey { key: String, value: Value },
    Missing { field: usize },
    Blank { field: usize, blank: &'static str },
    TooLong { field: usize },
    Deep { field: usize, wraps: Vec<Wrap> },
    Item(ItemFlaw),
}

#[derive(Debug, Clone)]
enum ItemFlaw {
    Quantity(Value),
    Price(Value),
    Sku(Value),
    ExtraKey(&'static str),
    MissingField(&'static str),
    TooMany,
}

#[derive(Debug, Clone)]
struct Blueprint {
    kind: Kind,
    look: Look,
    flaw: Option<Flaw>,
}

fn look() -> BoxedStrategy<Look> {
    let item = (
        vec(any::<char>(), 0..20).prop_map(text_of),
        prop_oneof![1_i64..=1_000_000, select(&[1_i64, 1_000_000][..])],
        prop_oneof![0.0..=1e9_f64, select(&[0.0, 0.01, 1e9][..])],
    );
    let phone =
        (any::<bool>(), vec(0_u8..10, 5..14), any::<bool>()).prop_map(|(plus, digits, spaced)| {
            let digits: Vec<String> = digits.iter().map(u8::to_string).collect();
            let separator = if spaced { " " } else { "" };
            format!("{}{}", if plus { "+" } else { "" }, digits.join(separator))
        });
    (
        prop_oneof![
            vec(any::<char>(), 0..30).prop_map(text_of),
            vec(select(FRAGMENTS), 0..4).prop_map(|parts| parts.concat()),
        ],
        any::<bool>(),
        "[A-Za-z0-9._-]{0,10}",
        "[A-Za-z0-9+_]{1,10}",
        phone,
        proptest::option::of(0_usize..4),
        vec(item, 1..4),
        prop_oneof![
            Just(AdminBranch::Absent),
            Just(AdminBranch::Null),
            Just(AdminBranch::Seeded),
            "[0-9a-fA-F]{24}".prop_map(AdminBranch::Unknown),
        ],
    )
        .prop_map(
            |(decor, padded, username_tail, email_local, phone, status, items, admin_branch)| {
                Look {
                    // The names are this plus a unique token: at most 30 + 40 characters.
                    decor: decor.chars().take(30).collect(),
                    padded,
                    username_tail,
                    email_local,
                    phone,
                    status,
                    items,
                    admin_branch,
                }
            },
        )
        .boxed()
}

fn flaw() -> BoxedStrategy<Flaw> {
    let item_flaw = prop_oneof![
        prop_oneof![
            Just(json!(0)),
            (i64::MIN..0).prop_map(Value::from),
            (1_000_001_i64..).prop_map(Value::from),
            Just(json!(u64::MAX)),
            Just(json!(1.5)),
            Just(json!("5")),
            Just(json!({ "$gt": 0 })),
            Just(Value::Null),
        ]
        .prop_map(ItemFlaw::Quantity),
        prop_oneof![
            (-1e12..-0.001_f64).prop_map(Value::from),
            (1_000_000_000.5..1e300_f64).prop_map(Value::from),
            Just(json!("9.5")),
            Just(json!({ "$lt": 1 })),
            Just(Value::Null),
        ]
        .prop_map(ItemFlaw::Price),
        prop_oneof![
            Just(json!({ "$ne": null })),
            Just(json!("")),
            Just(json!("   ")),
            Just(json!("s".repeat(65))),
            Just(json!(7)),
            Just(json!(["SKU"])),
        ]
        .prop_map(ItemFlaw::Sku),
        select(&["$where", "a.b", "_id", "total", "price"][..]).prop_map(ItemFlaw::ExtraKey),
        select(&["sku", "quantity", "unitPrice"][..]).prop_map(ItemFlaw::MissingField),
        Just(ItemFlaw::TooMany),
    ];
    prop_oneof![
        (0_usize..4, select(wrong_values()))
            .prop_map(|(field, value)| Flaw::WrongType { field, value }),
        (
            prop_oneof![
                3 => select(OPERATOR_KEYS).prop_map(str::to_owned),
                1 => hostile_text(),
            ],
            json_value()
        )
            .prop_map(|(key, value)| Flaw::ExtraKey { key, value }),
        (0_usize..4).prop_map(|field| Flaw::Missing { field }),
        (0_usize..4, select(&["", " ", "\t\n", "\u{3000}\u{A0}"][..]))
            .prop_map(|(field, blank)| Flaw::Blank { field, blank }),
        (0_usize..4).prop_map(|field| Flaw::TooLong { field }),
        (0_usize..4, wraps(1..250)).prop_map(|(field, wraps)| Flaw::Deep { field, wraps }),
        item_flaw.prop_map(Flaw::Item),
    ]
    .boxed()
}

fn blueprint(kinds: &'static [Kind], flawed: u32) -> BoxedStrategy<Blueprint> {
    (
        select(kinds),
        look(),
        prop_oneof![
            (100 - flawed) => Just(None),
            flawed => flaw().prop_map(Some),
        ],
    )
        .prop_map(|(kind, look, flaw)| Blueprint { kind, look, flaw })
        .boxed()
}

const MACHINE_STATUSES: [&str; 4] = ["idle", "running", "maintenance", "offline"];
const ORDER_STATUSES: [&str; 4] = ["pending", "in_production", "completed", "cancelled"];

impl Blueprint {
    fn valid(&self) -> bool {
        self.flaw.is_none()
    }

    /// The body, with `unique` in its unique keys.
    fn body(&self, unique: &str, seeds: &Seeds) -> Value {
        let look = &self.look;
        let pad = |text: String| match look.padded {
            true => format!(" \t{text} \n"),
            false => text,
        };
        let name = pad(format!("{} {unique}", look.decor));
        let email = format!("{}.{unique}@Example.com", look.email_local);
        let username = format!("u{unique}{}", look.username_tail);
        let branch = seeds.id(Kind::Branch);
        let mut body = match self.kind {
            Kind::Branch => {
                json!({ "name": name, "location": pad(format!("{} street", look.decor)) })
            }
            Kind::Customer => json!({
                "branchId": branch, "name": name, "email": email, "phone": look.phone,
            }),
            Kind::Order => json!({
                "branchId": branch,
                "customerId": seeds.id(Kind::Customer),
                "items": look.items.iter().map(|(sku, quantity, price)| json!({
                    "sku": format!("SKU-{sku}"), "quantity": quantity, "unitPrice": price,
                })).collect::<Vec<_>>(),
            }),
            Kind::Machine => json!({
                "branchId": branch,
                "name": name,
                "serialNumber": format!("SN-{unique}{}", look.username_tail),
            }),
            Kind::MasterAdmin | Kind::Admin => json!({
                "username": username, "fullName": name, "email": email,
            }),
        };
        let object = body.as_object_mut().unwrap();
        match (self.kind, look.status) {
            (Kind::Order, Some(s)) => _ = object.insert("status".into(), ORDER_STATUSES[s].into()),
            (Kind::Machine, Some(s)) => {
                _ = object.insert("status".into(), MACHINE_STATUSES[s].into())
            }
            _ => {}
        }
        if self.kind == Kind::Admin {
            let branch_id = match &look.admin_branch {
                AdminBranch::Absent => None,
                AdminBranch::Null => Some(Value::Null),
                AdminBranch::Seeded => Some(branch.into()),
                AdminBranch::Unknown(id) => Some(id.as_str().into()),
            };
            if let Some(branch_id) = branch_id {
                object.insert("branchId".into(), branch_id);
            }
        }
        if let Some(flaw) = &self.flaw {
            apply_flaw(self.kind, object, flaw);
        }
        body
    }
}

fn apply_flaw(kind: Kind, object: &mut Map<String, Value>, flaw: &Flaw) {
    let required = kind.required();
    let pick = |field: usize| required[field % required.len()];
    match flaw {
        Flaw::WrongType { field, value } => {
            object.insert(pick(*field).0.into(), value.clone());
        }
        Flaw::ExtraKey { key, value } => {
            // A key the kind knows would not be a flaw: make it an operator.
            let key = match kind.fields().contains(&key.as_str()) {
                true => format!("${key}"),
                false => key.clone(),
            };
            object.insert(key, value.clone());
        }
        Flaw::Missing { field } => {
            object.remove(pick(*field).0);
        }
        Flaw::Blank { field, blank } => {
            let (name, shape) = pick(*field);
            let value = match shape {
                Shape::Items => json!([]),
                Shape::Text(_) | Shape::Id => json!(blank),
            };
            object.insert(name.into(), value);
        }
        Flaw::TooLong { field } => {
            let (name, shape) = pick(*field);
            let value = match shape {
                Shape::Text(max) => json!("a".repeat(max + 1)),
                Shape::Id => json!("a".repeat(25)),
                Shape::Items => Value::Array(vec![
                    json!({ "sku": "S", "quantity": 1, "unitPrice": 1.0 });
                    Order::MAX_ITEMS + 1
                ]),
            };
            object.insert(name.into(), value);
        }
        Flaw::Deep { field, wraps } => {
            object.insert(pick(*field).0.into(), wrapped(json!("x"), wraps));
        }
        Flaw::Item(item_flaw) => {
            let Some(Value::Array(items)) = object.get_mut("items") else {
                // Only orders have items: on any other kind the key itself is the flaw.
                object.insert("items".into(), json!([{ "sku": "S", "quantity": 1 }]));
                return;
            };
            let first = items[0].as_object_mut().unwrap();
            match item_flaw {
                ItemFlaw::Quantity(v) => _ = first.insert("quantity".into(), v.clone()),
                ItemFlaw::Price(v) => _ = first.insert("unitPrice".into(), v.clone()),
                ItemFlaw::Sku(v) => _ = first.insert("sku".into(), v.clone()),
                ItemFlaw::ExtraKey(key) => _ = first.insert((*key).into(), json!(1)),
                ItemFlaw::MissingField(key) => _ = first.remove(*key),
                ItemFlaw::TooMany => {
                    let copy = items[0].clone();
                    items.resize(Order::MAX_ITEMS + 1, copy);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests of any shape

#[derive(Clone)]
enum Payload {
    Json(Value),
    Blueprint(Blueprint),
    Raw(Vec<u8>),
}

impl fmt::Debug for Payload {
    // Bodies of 1.5 MiB or 250 levels would drown the failure message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Json(value) => write!(f, "Json({})", shorten(&value.to_string(), 300)),
            Payload::Blueprint(blueprint) => write!(f, "{blueprint:?}"),
            Payload::Raw(bytes) => write!(
                f,
                "Raw({:?})",
                shorten(&String::from_utf8_lossy(bytes), 200)
            ),
        }
    }
}

impl Payload {
    fn bytes(&self, seeds: &Seeds) -> Vec<u8> {
        match self {
            Payload::Json(value) => serde_json::to_vec(value).unwrap(),
            Payload::Blueprint(blueprint) => {
                serde_json::to_vec(&blueprint.body(&unique_token(), seeds)).unwrap()
            }
            Payload::Raw(bytes) => bytes.clone(),
        }
    }
}

#[derive(Debug, Clone)]
enum Auth {
    MasterAdmin,
    Missing,
    /// `bearer` in lower case, with a valid token.
    LowerCaseScheme,
    Literal(&'static str),
}

#[derive(Debug, Clone)]
struct Probe {
    method: Method,
    target: String,
    auth: Auth,
    content_type: Option<&'static str>,
    payload: Option<Payload>,
}

impl Probe {
    fn request(&self, harness: &Harness) -> Request<Body> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.target);
        let token = &harness.master_token;
        request = match &self.auth {
            Auth::MasterAdmin => request.header(AUTHORIZATION, format!("Bearer {token}")),
            Auth::Missing => request,
            Auth::LowerCaseScheme => request.header(AUTHORIZATION, format!("bearer {token}")),
            Auth::Literal(value) => request.header(AUTHORIZATION, *value),
        };
        if let Some(content_type) = self.content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let body = self
            .payload
            .as_ref()
            .map_or_else(Body::empty, |p| Body::from(p.bytes(&harness.seeds)));
        request
            .body(body)
            .unwrap_or_else(|e| panic!("the generator made an invalid request {self:?}: {e}"))
    }

    /// Whether the method cannot change anything by definition.
    fn safe(&self) -> bool {
        [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(&self.method)
    }
}

fn method() -> BoxedStrategy<Method> {
    let unusual = vec![
        Method::PUT,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
        Method::from_bytes(b"get").unwrap(),
        Method::from_bytes(b"PURGE").unwrap(),
        Method::from_bytes(b"M-SEARCH").unwrap(),
    ];
    prop_oneof![
        4 => Just(Method::GET),
        3 => Just(Method::POST),
        3 => Just(Method::PATCH),
        2 => Just(Method::DELETE),
        2 => select(unusual),
    ]
    .boxed()
}

/// `limit` and `skip` values: numbers of every size and sign, and things that are no numbers.
fn page_value() -> BoxedStrategy<String> {
    const ODD: &[&str] = &[
        "0",
        "1",
        "20",
        "100",
        "101",
        "-0",
        "+5",
        "-1",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999999999",
        "1e3",
        "1.5",
        "0x10",
        "abc",
        "",
        " 5",
        "5 ",
        "٣",
        "５",
        "NaN",
        "Infinity",
        "null",
        "\0",
        "[]",
        "{\"$gt\":0}",
    ];
    prop_oneof![
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        2 => (0_u64..200).prop_map(|n| n.to_string()),
        3 => select(ODD).prop_map(str::to_owned),
        1 => vec(select(FRAGMENTS), 1..3).prop_map(|parts| parts.concat()),
    ]
    .boxed()
}

fn query() -> BoxedStrategy<String> {
    const KEYS: &[&str] = &[
        "limit",
        "skip",
        "limit",
        "skip",
        "$where",
        "limit[$gt]",
        "sort",
        "filter",
        "",
        "a.b",
        "LIMIT",
    ];
    const RAW: &[&str] = &[
        "?",
        "?&&",
        "?limit",
        "?limit=1&limit=2",
        "?limit[$gt]=0",
        "?%00=1",
        "?limit=%zz",
        "?skip=+1",
        "?limit=1;skip=2",
        "?limit=%F0%9F%98%80",
        "?limit=%ff",
    ];
    prop_oneof![
        3 => Just(String::new()),
        3 => vec((select(KEYS), page_value()), 1..4).prop_map(|pairs| {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            format!("?{}", pairs.join("&"))
        }),
        1 => select(RAW).prop_map(str::to_owned),
    ]
    .boxed()
}

/// Path segments for `{id}`, as sent (already percent-encoded).
fn id_segment() -> BoxedStrategy<String> {
    const ODD: &[&str] = &[
        "%00",
        "..",
        ".",
        "%2e%2e",
        "%2E%2E%2F",
        "%2F",
        "%zz",
        "%ff",
        "%c0%ae",
        "%F0%9F%98%80",
        "000000000000000000000000",
        "ffffffffffffffffffffffff",
        "FFFFFFFFFFFFFFFFFFFFFFFF",
        "%20aaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaa%00",
        "aaaaaaaaaaaaaaaaaaaaaaa%61",
        "null",
        "undefined",
        "$where",
        "%24where",
        "%7B%22%24gt%22%3A%22%22%7D",
        "+",
        "*",
        "~",
        "-1",
        "1e3",
        "%u0041",
        "0x0000000000000000000000",
    ];
    prop_oneof![
        2 => "[0-9a-fA-F]{24}",
        1 => "[0-9a-f]{23}",
        1 => "[0-9a-f]{25}",
        1 => ("[0-9a-f]{0,23}", "[g-zG-Z _!]", "[0-9a-f]{0,23}")
            .prop_map(|(a, b, c)| encode(&format!("{a}{b}{c}"))),
        2 => select(ODD).prop_map(str::to_owned),
        2 => prop_oneof![
            vec(any::<char>(), 1..30).prop_map(text_of),
            vec(select(FRAGMENTS), 1..4).prop_map(|parts| parts.concat()),
            (select(&[23_usize, 24, 25, 255][..]), select(FILLERS))
                .prop_map(|(n, filler)| filler.repeat(n)),
        ]
        .prop_map(|text| encode(&text)),
    ]
    .boxed()
}

/// Which methods a path serves, so that most probes get past the router to the handler.
#[derive(Debug, Clone, Copy)]
enum Serves {
    Collection,
    Item,
    Read,
    Nothing,
}

impl Serves {
    fn methods(self) -> Vec<Method> {
        match self {
            Serves::Collection => vec![Method::GET, Method::POST],
            Serves::Item => vec![Method::GET, Method::PATCH, Method::DELETE],
            Serves::Read | Serves::Nothing => vec![Method::GET],
        }
    }
}

fn target(kind: Kind, seed: String) -> BoxedStrategy<(String, Serves)> {
    const ODD: &[&str] = &[
        "/",
        "//branches",
        "/branches/",
        "/BRANCHES",
        "/branches/a/b",
        "/branches//x",
        "/%2e%2e/masteradmins",
        "/branches/../admins",
        "/admins/..%2f..%2fmasteradmins",
        "/masteradmins",
        "/master-admins/",
        "/dashboard/",
        "/me/x",
        "/health?x=%00",
        "/branches;jsessionid=1",
        "/branches%00",
        "/*",
        "/branches/%E0%A4%A",
        "/%F0%9F%98%80",
    ];
    let path = kind.path();
    prop_oneof![
        3 => query().prop_map(move |q| (format!("{path}{q}"), Serves::Collection)),
        4 => (
            prop_oneof![3 => id_segment(), 1 => Just(seed)],
            query()
        )
            .prop_map(move |(id, q)| (format!("{path}/{id}{q}"), Serves::Item)),
        1 => (select(&["/dashboard", "/me", "/health"][..]), query())
            .prop_map(|(p, q)| (format!("{p}{q}"), Serves::Read)),
        1 => select(ODD).prop_map(|p| (p.to_owned(), Serves::Nothing)),
        1 => vec(vec(any::<char>(), 0..20).prop_map(text_of), 1..4).prop_map(|segments| {
            let path = segments.iter().map(|s| format!("/{}", encode(s))).collect();
            (path, Serves::Nothing)
        }),
    ]
    .boxed()
}

fn raw_body() -> BoxedStrategy<Vec<u8>> {
    let texts: Vec<Vec<u8>> = [
        "",
        "{",
        "nul",
        "[",
        "{\"name\":",
        "\u{FEFF}{}",
        "{\"name\":\"\\ud800\",\"location\":\"x\"}",
        "{\"name\":\"a\",\"name\":\"b\",\"location\":\"x\"}",
        "{\"name\":\"a\",\"location\":\"x\"} trailing",
        "{\"quantity\":1e999999}",
        "{\"name\":\"a\u{0}\",\"location\":\"b\"}",
        "null",
        "[]",
        "\"string\"",
        "12",
        "{\"__proto__\":{\"admin\":true}}",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .chain([
        vec![0xff, 0xfe, b'{', b'}'],
        b"{\"name\":\"\xc3\x28\",\"location\":\"x\"}".to_vec(),
        "[".repeat(100_000).into_bytes(),
        "{\"a\":".repeat(50_000).into_bytes(),
    ])
    .collect();
    select(texts).boxed()
}

/// Bodies around and over the 1 MiB limit.
fn huge_body() -> BoxedStrategy<Value> {
    (
        prop_oneof![
            Just(1_100_000_usize),
            Just(1_500_000),
            BODY_LIMIT_BYTES - 64..BODY_LIMIT_BYTES + 64,
            Just(900 * 1024),
        ],
        select(&["a", "é", "\u{200B}", "\0"][..]),
        select(&["name", "location", "username", "$where"][..]),
    )
        .prop_map(|(bytes, filler, key)| {
            let count = bytes / filler.len().max(1);
            json!({ key: filler.repeat(count) })
        })
        .boxed()
}

fn payload(kind: Kind) -> BoxedStrategy<Option<Payload>> {
    let kinds: &'static [Kind] = match kind {
        Kind::Branch => &[Kind::Branch],
        Kind::Customer => &[Kind::Customer],
        Kind::Order => &[Kind::Order],
        Kind::Machine => &[Kind::Machine],
        Kind::MasterAdmin => &[Kind::MasterAdmin],
        Kind::Admin => &[Kind::Admin],
    };
    let fields = kind.fields();
    prop_oneof![
        2 => Just(None),
        6 => blueprint(kinds, 40).prop_map(|b| Some(Payload::Blueprint(b))),
        3 => json_value().prop_map(|v| Some(Payload::Json(v))),
        3 => vec((select(fields), json_value()), 0..5).prop_map(|pairs| {
            let object: Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Some(Payload::Json(Value::Object(object)))
        }),
        1 => (wraps(100..300), select(&["", "name", "items"][..])).prop_map(|(wraps, key)| {
            let deep = wrapped(json!("x"), &wraps);
            let body = if key.is_empty() { deep } else { json!({ key: deep }) };
            Some(Payload::Json(body))
        }),
        1 => raw_body().prop_map(|b| Some(Payload::Raw(b))),
        1 => huge_body().prop_map(|v| Some(Payload::Json(v))),
    ]
    .boxed()
}

fn probe(seeds: &Seeds) -> BoxedStrategy<Probe> {
    let seeds = seeds.clone();
    let auth = prop_oneof![
        12 => Just(Auth::MasterAdmin),
        2 => Just(Auth::Missing),
        1 => Just(Auth::LowerCaseScheme),
        1 => select(&[
            "Bearer ",
            "Bearer x.y.z",
            "Basic YWRtaW46YWRtaW4=",
            "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoibWFzdGVyX2FkbWluIn0.",
        ][..])
        .prop_map(Auth::Literal),
    ];
    let content_type = prop_oneof![
        8 => Just(Some("application/json")),
        1 => Just(None),
        1 => select(&[
            Some("text/plain"),
            Some("application/json; charset=utf-8"),
            Some("application/x-www-form-urlencoded"),
            Some("application/vnd.api+json"),
            Some("multipart/form-data; boundary=x"),
        ][..]),
    ];
    (
        select(&Kind::ALL[..]),
        auth,
        content_type,
        proptest::bool::weighted(0.85),
    )
        .prop_flat_map(move |(kind, auth, content_type, served)| {
            target(kind, seeds.id(kind).to_owned()).prop_flat_map(move |(target, serves)| {
                let method = match served {
                    true => select(serves.methods()).boxed(),
                    false => method(),
                };
                (
                    method,
                    Just(target),
                    Just(auth.clone()),
                    Just(content_type),
                    payload(kind),
                )
            })
        })
        .prop_map(|(method, target, auth, content_type, payload)| Probe {
            method,
            target,
            auth,
            content_type,
            payload,
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// 1. Properties over every route

#[test]
fn any_request_is_answered_in_time_without_a_server_error_and_a_rejected_one_writes_nothing() {
    let harness = Harness::start("hostile_any", false);
    let tally = Tally::default();
    let name = "any request";
    run_property(name, 256, probe(&harness.seeds), |probe| {
        let request = probe.request(&harness);
        let before = harness.snapshot();
        let reply = harness.call(request).map_err(fail)?;
        tally.count(reply.status);
        reply.check(&probe.method).map_err(fail)?;
        let after = harness.snapshot();
        if reply.status.is_client_error() || probe.safe() {
            same_snapshot(&before, &after)
                .map_err(|why| fail(format!("a {} answer, but {why}", reply.status)))?;
        } else {
            // A success changed exactly the one document the request names, as it says.
            let expected = expected_change(&probe, &reply);
            let changes = changes(&before, &after);
            if changes != expected.into_iter().collect::<Vec<_>>() {
                return Err(fail(format!(
                    "a {} answer changed {changes:?}",
                    reply.status
                )));
            }
        }
        Ok(())
    });
    tally.print(name);
}

/// What a successful write must have changed: `database.collection id change`.
fn expected_change(probe: &Probe, reply: &Reply) -> Option<String> {
    let path = probe.target.split('?').next().unwrap_or_default();
    let kind = Kind::ALL.into_iter().find(|k| {
        path == k.path()
            || path
                .strip_prefix(k.path())
                .is_some_and(|r| r.starts_with('/'))
    })?;
    let change = match probe.method.as_str() {
        "POST" => "added",
        "PATCH" => "changed",
        "DELETE" => "removed",
        _ => return None,
    };
    let body: Value = serde_json::from_str(&reply.text).ok()?;
    let id = body["data"]["id"].as_str()?;
    let database = if kind.privileged() {
        "masteradmin"
    } else {
        "main"
    };
    Some(format!("{database}.{} {id} {change}", kind.collection()))
}

/// Every document added, removed or changed between two snapshots.
fn changes(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let by_id = |documents: &[Document]| -> BTreeMap<String, Document> {
        documents
            .iter()
            .map(|d| match d.get_object_id("_id") {
                Ok(id) => (id.to_hex(), d.clone()),
                Err(_) => (format!("{:?}", d.get("_id")), d.clone()),
            })
            .collect()
    };
    let mut changes = Vec::new();
    for (collection, old) in before {
        let old = by_id(old);
        let new = by_id(after.get(collection).map_or(&[][..], Vec::as_slice));
        for (id, document) in &old {
            match new.get(id) {
                None => changes.push(format!("{collection} {id} removed")),
                Some(now) if now != document => changes.push(format!("{collection} {id} changed")),
                Some(_) => {}
            }
        }
        for id in new.keys().filter(|id| !old.contains_key(*id)) {
            changes.push(format!("{collection} {id} added"));
        }
    }
    changes
}

/// A body with a key that starts with `$` or contains a dot, at any depth.
#[derive(Debug, Clone)]
struct Injection {
    base: Blueprint,
    key: String,
    value: Value,
    wraps: Vec<Wrap>,
    site: Site,
    patch: bool,
}

#[derive(Debug, Clone, Copy)]
enum Site {
    TopLevel,
    Field(usize),
    InsideItem,
    WrappedAtTopLevel,
}

fn injection() -> BoxedStrategy<Injection> {
    let key = prop_oneof![
        3 => select(OPERATOR_KEYS)
            .prop_filter("a $ or a dot", |k| k.starts_with('$') || k.contains('.'))
            .prop_map(str::to_owned),
        1 => ("[$]", "[a-zA-Z]{0,8}").prop_map(|(d, rest)| format!("{d}{rest}")),
        1 => ("[a-z]{0,6}", "[a-z]{0,6}").prop_map(|(a, b)| format!("{a}.{b}")),
    ];
    let site = prop_oneof![
        Just(Site::TopLevel),
        (0_usize..4).prop_map(Site::Field),
        Just(Site::InsideItem),
        Just(Site::WrappedAtTopLevel),
    ];
    (
        blueprint(&Kind::ALL, 0),
        key,
        prop_oneof![
            json_leaf(),
            Just(json!("")),
            Just(Value::Null),
            Just(json!(1))
        ],
        wraps(0..200),
        site,
        any::<bool>(),
    )
        .prop_map(|(base, key, value, wraps, site, patch)| Injection {
            base,
            key,
            value,
            wraps,
            site,
            patch,
        })
        .boxed()
}

impl Injection {
    fn body(&self, seeds: &Seeds) -> Value {
        let mut body = self.base.body(&unique_token(), seeds);
        if self.patch {
            // An empty change is a valid PATCH: the injection is then its only content.
            body = json!({});
        }
        let operator = Value::Object(Map::from_iter([(self.key.clone(), self.value.clone())]));
        let object = body.as_object_mut().unwrap();
        match self.site {
            Site::TopLevel => {
                object.insert(self.key.clone(), wrapped(self.value.clone(), &self.wraps));
            }
            Site::Field(field) => {
                let fields = self.base.kind.fields();
                let name = fields[field % fields.len()];
                object.insert(name.into(), wrapped(operator, &self.wraps));
            }
            Site::InsideItem => {
                let mut item = json!({ "sku": "S-1", "quantity": 1, "unitPrice": 1.0 });
                item.as_object_mut()
                    .unwrap()
                    .insert(self.key.clone(), wrapped(self.value.clone(), &self.wraps));
                object.insert("items".into(), json!([item]));
            }
            Site::WrappedAtTopLevel => {
                object.insert(self.key.clone(), wrapped(operator.clone(), &self.wraps));
            }
        }
        body
    }
}

#[test]
fn a_body_with_an_operator_or_dotted_key_at_any_depth_is_a_400_and_writes_nothing() {
    let harness = Harness::start("hostile_ops", false);
    let tally = Tally::default();
    let name = "operator keys";
    run_property(name, 192, injection(), |injection| {
        let kind = injection.base.kind;
        let (method, target) = match injection.patch {
            true => (
                Method::PATCH,
                format!("{}/{}", kind.path(), harness.seeds.id(kind)),
            ),
            false => (Method::POST, kind.path().to_owned()),
        };
        let body = injection.body(&harness.seeds);
        let request = Request::builder()
            .method(method.clone())
            .uri(&target)
            .header(AUTHORIZATION, format!("Bearer {}", harness.master_token))
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        let before = harness.snapshot();
        let reply = harness.call(request).map_err(fail)?;
        tally.count(reply.status);
        reply.check(&method).map_err(fail)?;
        if reply.status != StatusCode::BAD_REQUEST {
            return Err(fail(format!(
                "{method} {target} answered {} instead of 400: {}",
                reply.status,
                shorten(&reply.text, 300)
            )));
        }
        same_snapshot(&before, &harness.snapshot()).map_err(fail)
    });
    tally.print(name);
}

#[test]
fn after_a_mix_of_valid_and_invalid_creates_the_databases_hold_exactly_the_valid_ones() {
    let harness = Harness::start("hostile_seq", false);
    let tally = Tally::default();
    let name = "create sequences";
    let sequence = vec(blueprint(&Kind::ALL, 50), 1..10);
    let nul_gap_reported = Cell::new(false);
    run_property(name, 48, sequence, |blueprints| {
        let before = harness.snapshot();
        let mut created: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
        for blueprint in &blueprints {
            let kind = blueprint.kind;
            let body = blueprint.body(&unique_token(), &harness.seeds);
            let request = Request::builder()
                .method(Method::POST)
                .uri(kind.path())
                .header(AUTHORIZATION, format!("Bearer {}", harness.master_token))
                .header(CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap();
            let reply = harness.call(request).map_err(fail)?;
            tally.count(reply.status);
            reply.check(&Method::POST).map_err(fail)?;
            let expected = match blueprint.valid() {
                true => StatusCode::CREATED,
                false => StatusCode::BAD_REQUEST,
            };
            let nul_in_unique_name = kind == Kind::Branch
                && body["name"]
                    .as_str()
                    .is_some_and(|name| name.contains('\0'));
            if reply.status == StatusCode::CONFLICT
                && expected == StatusCode::CREATED
                && nul_in_unique_name
                && !nul_gap_reported.get()
                && known_server_gap(
                    "a unique index compares strings only up to their first NUL character",
                )
            {
                // MongoDB compares whole strings; the stand-in's SQLite index stops at NUL,
                // so two names that differ after it collide. That create stored nothing.
                nul_gap_reported.set(true);
            }
            let gap = reply.status == StatusCode::CONFLICT && nul_in_unique_name;
            if reply.status != expected && !(gap && nul_gap_reported.get()) {
                return Err(fail(format!(
                    "POST {} {} answered {} instead of {expected}: {}",
                    kind.path(),
                    shorten(&body.to_string(), 300),
                    reply.status,
                    shorten(&reply.text, 300)
                )));
            }
            if reply.status == StatusCode::CREATED {
                let data: Value = serde_json::from_str(&reply.text).unwrap();
                let data = data["data"].clone();
                let id = data["id"].as_str().unwrap().to_owned();
                let database = if kind.privileged() {
                    "masteradmin"
                } else {
                    "main"
                };
                created
                    .entry(format!("{database}.{}", kind.collection()))
                    .or_default()
                    .push((id, data));
            }
        }
        let after = harness.snapshot();
        for (collection, old) in &before {
            let now = &after[collection];
            let new = created.get(collection).map_or(&[][..], Vec::as_slice);
            let kept: Vec<&Document> = now
                .iter()
                .filter(|d| !new.iter().any(|(id, _)| same_id(d, id)))
                .collect();
            if kept.len() != old.len() || kept.iter().zip(old).any(|(a, b)| *a != b) {
                return Err(fail(format!(
                    "{collection}: the documents that were there changed"
                )));
            }
            if now.len() != old.len() + new.len() {
                return Err(fail(format!(
                    "{collection}: {} documents before, {} created, {} after",
                    old.len(),
                    new.len(),
                    now.len()
                )));
            }
            for (id, data) in new {
                let stored = now.iter().find(|d| same_id(d, id)).unwrap();
                for key in ["name", "username", "serialNumber", "email", "location"] {
                    if let Some(shown) = data.get(key).and_then(Value::as_str) {
                        if stored.get_str(key).ok() != Some(shown) {
                            return Err(fail(format!(
                                "{collection} {id}: {key} stored as {:?}, answered {shown:?}",
                                stored.get(key)
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    });
    tally.print(name);
}

fn same_id(document: &Document, id: &str) -> bool {
    document.get_object_id("_id").map(|o| o.to_hex()).as_deref() == Ok(id)
}

#[test]
fn branch_names_that_differ_only_after_a_nul_character_are_two_branches() {
    let harness = Harness::start("hostile_nul", false);
    let tag = unique_token();
    let statuses: Vec<StatusCode> = [format!("Nul\0{tag}a"), format!("Nul\0{tag}b")]
        .iter()
        .map(|name| {
            let body = json!({ "name": name, "location": "Somewhere" });
            let request = Request::post("/branches")
                .header(AUTHORIZATION, format!("Bearer {}", harness.master_token))
                .header(CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let reply = harness.call(request).unwrap();
            reply.check(&Method::POST).unwrap();
            reply.status
        })
        .collect();
    eprintln!("names differing after a NUL: {statuses:?}");
    if statuses[1] == StatusCode::CONFLICT
        && known_server_gap("a unique index compares strings only up to their first NUL character")
    {
        return;
    }
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CREATED]);
}

#[derive(Debug, Clone)]
struct PageProbe {
    kind: Kind,
    limit: Option<String>,
    skip: Option<String>,
    extra: Option<(&'static str, String)>,
    repeated_limit: bool,
}

impl PageProbe {
    fn target(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(limit) = &self.limit {
            pairs.push(format!("limit={}", encode(limit)));
            if self.repeated_limit {
                pairs.push(format!("limit={}", encode(limit)));
            }
        }
        if let Some(skip) = &self.skip {
            pairs.push(format!("skip={}", encode(skip)));
        }
        if let Some((key, value)) = &self.extra {
            pairs.push(format!("{}={}", encode(key), encode(value)));
        }
        match pairs.is_empty() {
            true => self.kind.path().to_owned(),
            false => format!("{}?{}", self.kind.path(), pairs.join("&")),
        }
    }

    /// `Some(page size bound)` when the query is valid.
    fn expected(&self) -> Option<u64> {
        if self.extra.is_some() || (self.repeated_limit && self.limit.is_some()) {
            return None;
        }
        let limit = match &self.limit {
            None => 20,
            Some(text) => text.parse::<u64>().ok().filter(|&n| n > 0)?.min(100),
        };
        match &self.skip {
            Some(text) if text.parse::<u64>().ok()? > i64::MAX as u64 => None,
            _ => Some(limit),
        }
    }
}

#[test]
fn a_list_answers_a_page_for_a_valid_limit_and_skip_and_a_400_for_any_other() {
    let harness = Harness::start("hostile_page", false);
    let tally = Tally::default();
    let name = "limit and skip";
    let strategy = (
        select(&Kind::ALL[..]),
        proptest::option::weighted(0.8, page_value()),
        proptest::option::weighted(0.6, page_value()),
        proptest::option::weighted(
            0.1,
            (
                select(&["$where", "sort", "filter", "a.b", "limit[$gt]"][..]),
                page_value(),
            ),
        ),
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(kind, limit, skip, extra, repeated_limit)| PageProbe {
            kind,
            limit,
            skip,
            extra,
            repeated_limit,
        });
    run_property(name, 256, strategy, |probe| {
        let target = probe.target();
        let request = Request::get(&target)
            .header(AUTHORIZATION, format!("Bearer {}", harness.master_token))
            .body(Body::empty())
            .unwrap();
        let reply = harness.call(request).map_err(fail)?;
        tally.count(reply.status);
        reply.check(&Method::GET).map_err(fail)?;
        match probe.expected() {
            Some(bound) => {
                let body: Value = serde_json::from_str(&reply.text).unwrap();
                let len = body["data"].as_array().map(Vec::len);
                if reply.status != StatusCode::OK || len.is_none_or(|n| n as u64 > bound) {
                    return Err(fail(format!(
                        "GET {target} answered {} with {len:?} records, \
                         expected 200 with at most {bound}: {}",
                        reply.status,
                        shorten(&reply.text, 300)
                    )));
                }
            }
            None if reply.status != StatusCode::BAD_REQUEST => {
                return Err(fail(format!(
                    "GET {target} answered {} instead of 400: {}",
                    reply.status,
                    shorten(&reply.text, 300)
                )));
            }
            None => {}
        }
        Ok(())
    });
    tally.print(name);
}

#[test]
fn a_malformed_id_in_a_path_is_a_400_and_an_unknown_one_a_404_on_every_verb() {
    let harness = Harness::start("hostile_ids", false);
    let tally = Tally::default();
    let name = "ids in paths";
    let strategy = (
        select(&Kind::ALL[..]),
        select(vec![Method::GET, Method::PATCH, Method::DELETE]),
        id_segment(),
    );
    run_property(name, 256, strategy, |(kind, method, segment)| {
        let target = format!("{}/{segment}", kind.path());
        let mut request = Request::builder()
            .method(method.clone())
            .uri(&target)
            .header(AUTHORIZATION, format!("Bearer {}", harness.master_token));
        let mut body = Body::empty();
        if method == Method::PATCH {
            request = request.header(CONTENT_TYPE, "application/json");
            body = Body::from("{}");
        }
        let before = harness.snapshot();
        let reply = harness.call(request.body(body).unwrap()).map_err(fail)?;
        tally.count(reply.status);
        reply.check(&method).map_err(fail)?;
        let expected = match decode(&segment) {
            // `/branches/` is no route.
            _ if segment.is_empty() => StatusCode::NOT_FOUND,
            Some(id) if is_object_id(&id) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        if reply.status != expected {
            return Err(fail(format!(
                "{method} {target} answered {} instead of {expected}: {}",
                reply.status,
                shorten(&reply.text, 300)
            )));
        }
        same_snapshot(&before, &harness.snapshot()).map_err(fail)
    });
    tally.print(name);
}

#[test]
fn a_body_over_one_mebibyte_is_a_413_and_one_just_under_a_400_on_every_create_and_patch_route() {
    let harness = Harness::start("hostile_big", false);
    let tally = Tally::default();
    let before = harness.snapshot();
    for kind in Kind::ALL {
        let item = format!("{}/{}", kind.path(), harness.seeds.id(kind));
        for (method, target) in [
            (Method::POST, kind.path().to_owned()),
            (Method::PATCH, item),
        ] {
            for (size, expected) in [
                (BODY_LIMIT_BYTES * 3 / 2, StatusCode::PAYLOAD_TOO_LARGE),
                (BODY_LIMIT_BYTES + 1, StatusCode::PAYLOAD_TOO_LARGE),
                (BODY_LIMIT_BYTES - 64, StatusCode::BAD_REQUEST),
            ] {
                // `{"name":"aaa…"}`: exactly `size` bytes.
                let body = format!("{{\"name\":\"{}\"}}", "a".repeat(size - 11));
                assert_eq!(body.len(), size);
                let request = Request::builder()
                    .method(method.clone())
                    .uri(&target)
                    .header(AUTHORIZATION, format!("Bearer {}", harness.master_token))
                    .header(CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap();
                let reply = harness.call(request).unwrap();
                tally.count(reply.status);
                reply.check(&method).unwrap();
                assert_eq!(
                    reply.status, expected,
                    "{method} {target} with {size} bytes: {}",
                    reply.text
                );
            }
        }
    }
    same_snapshot(&before, &harness.snapshot()).unwrap();
    tally.print("body limit");
}

// ---------------------------------------------------------------------------------------------
// 2. Role isolation

/// Credentials that must never reach the masteradmin database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forged {
    User,
    Admin,
    UserWithRoleHeader,
    Expired,
    OtherSecret,
    NoneAlgorithm,
    EmptySignature,
}

impl Forged {
    const ALL: [Forged; 7] = [
        Forged::User,
        Forged::Admin,
        Forged::UserWithRoleHeader,
        Forged::Expired,
        Forged::OtherSecret,
        Forged::NoneAlgorithm,
        Forged::EmptySignature,
    ];

    /// Whether the token verifies (to a role that is not master_admin).
    fn verifies(self) -> bool {
        matches!(
            self,
            Forged::User | Forged::Admin | Forged::UserWithRoleHeader
        )
    }

    fn apply(
        self,
        request: axum::http::request::Builder,
        keys: &JwtKeys,
        master_id: &str,
    ) -> axum::http::request::Builder {
        let bearer = |token: String| format!("Bearer {token}");
        let master_claims =
            |exp: u64| json!({ "sub": master_id, "role": "master_admin", "exp": exp }).to_string();
        let later = seconds_since_epoch() + 3600;
        match self {
            Forged::User => request.header(
                AUTHORIZATION,
                bearer(keys.issue(master_id, CallerRole::User, TOKEN_TTL)),
            ),
            Forged::Admin => request.header(
                AUTHORIZATION,
                bearer(keys.issue(master_id, CallerRole::Admin, TOKEN_TTL)),
            ),
            Forged::UserWithRoleHeader => request
                .header(
                    AUTHORIZATION,
                    bearer(keys.issue(master_id, CallerRole::User, TOKEN_TTL)),
                )
                .header("x-user-role", "master_admin")
                .header("x-role", "master_admin")
                .header("x-user-id", master_id),
            Forged::Expired => {
                let token = jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                    &json!({
                        "sub": master_id,
                        "role": "master_admin",
                        "exp": seconds_since_epoch() - 3600,
                    }),
                    &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
                )
                .unwrap();
                request.header(AUTHORIZATION, bearer(token))
            }
            Forged::OtherSecret => {
                let other = JwtKeys::new(&SecretString::from("not-the-service-secret"));
                request.header(
                    AUTHORIZATION,
                    bearer(other.issue(master_id, CallerRole::MasterAdmin, TOKEN_TTL)),
                )
            }
            Forged::NoneAlgorithm => {
                let token = format!(
                    "{}.{}.",
                    base64url(br#"{"alg":"none","typ":"JWT"}"#),
                    base64url(master_claims(later).as_bytes())
                );
                request.header(AUTHORIZATION, bearer(token))
            }
            Forged::EmptySignature => {
                let token = format!(
                    "{}.{}.",
                    base64url(br#"{"alg":"HS256","typ":"JWT"}"#),
                    base64url(master_claims(later).as_bytes())
                );
                request.header(AUTHORIZATION, bearer(token))
            }
        }
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn seconds_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Every route with every verb it serves (and one it does not), with a body where one is read.
fn isolation_routes(seeds: &Seeds) -> Vec<(Method, String, Option<Value>, Kind)> {
    let mut routes = Vec::new();
    for kind in Kind::ALL {
        let item = format!("{}/{}", kind.path(), seeds.id(kind));
        let valid = Blueprint {
            kind,
            look: Look {
                decor: "Isolation".into(),
                padded: false,
                username_tail: String::new(),
                email_local: "iso".into(),
                phone: "+33 1 23 45 67 89".into(),
                status: None,
                items: vec![("I-1".into(), 1, 1.0)],
                admin_branch: AdminBranch::Seeded,
            },
            flaw: None,
        }
        .body(&unique_token(), seeds);
        let change = match kind {
            Kind::Branch => json!({ "location": "Pwned" }),
            Kind::Customer | Kind::Machine => json!({ "name": "Pwned" }),
            Kind::Order => json!({ "status": "cancelled" }),
            Kind::MasterAdmin | Kind::Admin => json!({ "fullName": "Pwned" }),
        };
        routes.push((Method::GET, kind.path().to_owned(), None, kind));
        routes.push((Method::POST, kind.path().to_owned(), Some(valid), kind));
        routes.push((Method::GET, item.clone(), None, kind));
        routes.push((Method::PATCH, item.clone(), Some(change), kind));
        routes.push((Method::PUT, item.clone(), Some(json!({})), kind));
        routes.push((Method::DELETE, item, None, kind));
    }
    routes
}

#[test]
fn no_forged_foreign_or_lesser_credential_reads_or_writes_the_masteradmin_database() {
    let harness = Harness::start("hostile_roles", true);
    let manager = harness.manager().clone();
    let keys = harness.application.keys().clone();
    let seeds = harness.seeds.clone();
    let master_id = seeds.id(Kind::MasterAdmin).to_owned();
    let send = |forged: Forged, method: &Method, target: &str, body: Option<&Value>| {
        let mut request = Request::builder().method(method.clone()).uri(target);
        request = forged.apply(request, &keys, &master_id);
        let body = match body {
            Some(value) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        harness.call(request.body(body).unwrap()).unwrap()
    };

    // Business routes create the main client first, so that a second client can only be
    // the masteradmin one.
    let warm_up = send(Forged::User, &Method::GET, "/branches", None);
    assert_eq!(warm_up.status, StatusCode::OK, "{}", warm_up.text);
    assert_eq!(manager.client_count(), 1);

    let masteradmin_before = harness.masteradmin_snapshot();
    let mut requests = 0;
    let tally = Tally::default();
    for forged in Forged::ALL {
        let mut routes = isolation_routes(&seeds);
        for target in ["/dashboard", "/me"] {
            routes.push((Method::GET, target.to_owned(), None, Kind::MasterAdmin));
        }
        for (method, target, body, kind) in routes {
            let reply = send(forged, &method, &target, body.as_ref());
            requests += 1;
            tally.count(reply.status);
            let what = format!("{forged:?} {method} {target}");
            reply
                .check(&method)
                .unwrap_or_else(|why| panic!("{what}: {why}"));
            let lower = reply.text.to_lowercase();
            for marker in seeds.masteradmin_markers() {
                assert!(
                    !lower.contains(&marker.to_lowercase()),
                    "{what} answered masteradmin data ({marker}): {}",
                    reply.text
                );
            }
            let privileged = kind.privileged() || !target.starts_with(kind.path());
            let status = reply.status;
            if method == Method::PUT {
                // No route serves it: refusing it before or after authentication both do.
                assert!(
                    [401, 403, 405].contains(&status.as_u16()),
                    "{what}: {status}"
                );
            } else if !forged.verifies() {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.text);
            } else if privileged {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {}", reply.text);
            } else {
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status),
                    "{what}: a {forged:?} token may use business data, got {status}"
                );
            }
            assert_eq!(
                (
                    manager.client_count(),
                    manager.state(Role::MasterAdmin) == ConnectionState::Disconnected
                ),
                (1, true),
                "{what} made the service connect to the masteradmin database"
            );
            same_snapshot(&masteradmin_before, &harness.masteradmin_snapshot())
                .unwrap_or_else(|why| panic!("{what} wrote the masteradmin database: {why}"));
        }
    }
    tally.print("role isolation");
    eprintln!(
        "role isolation: {requests} requests with {} kinds of credential",
        Forged::ALL.len()
    );

    // The detectors detect: a master admin's read connects and shows the data.
    let master = format!("Bearer {}", harness.master_token);
    let reply = harness
        .call(
            Request::get("/admins")
                .header(AUTHORIZATION, &master)
                .body(Body::empty())
                .unwrap(),
        )
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.text.contains(&seeds.admin_username), "{}", reply.text);
    assert_eq!(manager.client_count(), 2);
    let reply = harness
        .call(
            Request::patch(format!("/admins/{}", seeds.id(Kind::Admin)))
                .header(AUTHORIZATION, &master)
                .header(CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"fullName":"Changed"}"#))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(same_snapshot(&masteradmin_before, &harness.masteradmin_snapshot()).is_err());

    // `/health` pings both databases for anyone, by design, and shows no data of either.
    let masteradmin_now = harness.masteradmin_snapshot();
    for forged in Forged::ALL {
        let reply = send(forged, &Method::GET, "/health", None);
        assert_eq!(reply.status, StatusCode::OK, "{forged:?}: {}", reply.text);
        let lower = reply.text.to_lowercase();
        for marker in seeds.masteradmin_markers() {
            assert!(!lower.contains(&marker.to_lowercase()), "{}", reply.text);
        }
    }
    same_snapshot(&masteradmin_now, &harness.masteradmin_snapshot()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 3. Secrets

/// Log lines, captured in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// What must never be shown, and what a percent-encoded form of the password decodes to.
const SHOWN_NEVER: [&str; 3] = [PASSWORD, SECRET, "S3cret%50ass"];

fn assert_hidden(what: &str, text: &str) {
    for secret in SHOWN_NEVER {
        assert!(
            !text.contains(secret),
            "{what} shows {secret:?}: {}",
            shorten(text, 2000)
        );
    }
}

/// Requests over every kind of failure: database down or refusing the login (503), bad
/// tokens (401), bad bodies (400), health; returns the bodies after checking them.
async fn failing_requests(router: &Router, keys: &JwtKeys, master_id: &str) -> Vec<String> {
    let master = format!(
        "Bearer {}",
        keys.issue(master_id, CallerRole::MasterAdmin, TOKEN_TTL)
    );
    let other = JwtKeys::new(&SecretString::from("another-secret"));
    let forged = format!(
        "Bearer {}",
        other.issue(master_id, CallerRole::MasterAdmin, TOKEN_TTL)
    );
    let unknown_id = ObjectId::new().to_hex();
    let branch = json!({ "name": "Secret test", "location": "Nowhere" }).to_string();
    let master_admin =
        json!({ "username": "secret.test", "fullName": "S T", "email": "s@t.example" }).to_string();
    let cases: Vec<(Method, String, &str, Option<String>)> = vec![
        (Method::GET, "/health".into(), "", None),
        (Method::GET, "/branches".into(), &master, None),
        (
            Method::POST,
            "/branches".into(),
            &master,
            Some(branch.clone()),
        ),
        (
            Method::GET,
            format!("/branches/{unknown_id}"),
            &master,
            None,
        ),
        (
            Method::PATCH,
            format!("/branches/{unknown_id}"),
            &master,
            Some(branch.clone()),
        ),
        (
            Method::DELETE,
            format!("/orders/{unknown_id}"),
            &master,
            None,
        ),
        (Method::GET, "/admins".into(), &master, None),
        (
            Method::POST,
            "/master-admins".into(),
            &master,
            Some(master_admin),
        ),
        (Method::GET, "/dashboard".into(), &master, None),
        (Method::GET, "/me".into(), &master, None),
        (Method::GET, "/branches".into(), &forged, None),
        (Method::GET, "/admins".into(), "Bearer x.y.z", None),
        (Method::GET, "/me".into(), "", None),
        (
            Method::POST,
            "/branches".into(),
            &master,
            Some(r#"{"name":{"$gt":""}}"#.into()),
        ),
        (Method::GET, "/branches?limit=-1".into(), &master, None),
        (Method::GET, "/nowhere".into(), &master, None),
    ];
    let mut bodies = Vec::new();
    for (method, target, authorization, body) in cases {
        let mut request = Request::builder().method(method.clone()).uri(&target);
        if !authorization.is_empty() {
            request = request.header(AUTHORIZATION, authorization);
        }
        let body = match body {
            Some(text) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Body::from(text)
            }
            None => Body::empty(),
        };
        let reply = answer(router, request.body(body).unwrap()).await.unwrap();
        reply
            .check_shape(&method)
            .unwrap_or_else(|why| panic!("{method} {target}: {why}"));
        assert_ne!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {target}: {}",
            reply.text
        );
        eprintln!("secrets: {method} {target} -> {}", reply.status);
        bodies.push(format!(
            "{method} {target} {}: {}",
            reply.status, reply.text
        ));
    }
    bodies
}

#[test]
fn passwords_and_the_jwt_secret_appear_in_no_log_body_or_debug_output() {
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::TRACE)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(logs.clone())
                .with_ansi(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(logs.clone()),
        );
    let _default = tracing::subscriber::set_default(subscriber);
    // One thread: the subscriber is this thread's default, and every task runs here.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = test_server_uri();
    let port = server
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .unwrap();
    let dead = free_port();
    let mut shown: Vec<(String, String)> = Vec::new();

    runtime.block_on(async {
        // Main down, masteradmin on the live server refusing the login; then the reverse with
        // the password percent-encoded (it decodes to the same text).
        let layouts = [
            (
                format!("mongodb://app:{PASSWORD}@127.0.0.1:{dead}/hostile_dead"),
                format!("mongodb://admin:{PASSWORD}@127.0.0.1:{port}/hostile_scram"),
            ),
            (
                format!("mongodb://app:S3cret%50ass@127.0.0.1:{port}/hostile_scram"),
                format!("mongodb://admin:S3cret%50ass@127.0.0.1:{dead}/hostile_dead"),
            ),
        ];
        for (main, masteradmin) in layouts {
            let settings = MongoSettings::new(main)
                .unwrap()
                .with_masteradmin_uri(masteradmin)
                .unwrap()
                .with_server_selection_timeout(DEAD_SELECTION_TIMEOUT);
            shown.push(("MongoSettings".into(), format!("{settings:?}")));
            shown.push((
                "RoleSettings".into(),
                format!("{:?}", settings.role(Role::Main)),
            ));
            let config = AppConfig {
                ping_timeout: Duration::from_secs(2),
                ..app_config(settings)
            };
            shown.push(("AppConfig".into(), format!("{config:?}")));
            let application = Application::build(config).await.unwrap();
            let router = app::http::router(application.state.clone());
            let master_id = ObjectId::new().to_hex();
            for body in failing_requests(&router, application.keys(), &master_id).await {
                shown.push(("a response body".into(), body));
            }
            let Backend::Mongo(manager) = &application.backend else {
                unreachable!("configured with MongoDB")
            };
            for role in Role::ALL {
                let error = manager.ping(role).await.unwrap_err();
                shown.push(("a ping error".into(), format!("{error:?} {error}")));
                let api = ApiError::from(error);
                shown.push(("an ApiError".into(), format!("{api:?} {api}")));
                let count = MongoRepository::<Branch>::new(manager.role(role))
                    .count()
                    .await
                    .unwrap_err();
                shown.push(("a repository error".into(), format!("{count:?} {count}")));
            }
            shown.push(("ConnectionManager".into(), format!("{manager:?}")));
            shown.push((
                "RoleConnection".into(),
                format!("{:?}", manager.role(Role::MasterAdmin)),
            ));
            shown.push(("Application".into(), format!("{application:?}")));
            shown.push(("AppState".into(), format!("{:?}", application.state)));
            application.backend.shutdown().await;
            shown.push(("a shut-down manager".into(), format!("{manager:?}")));
        }

        // A 500: a stored document the domain refuses, on a database without a password.
        let database = unique_database_name("hostile_500");
        let settings = MongoSettings::new(uri_with_database(&server, &database))
            .unwrap()
            .with_server_selection_timeout(SELECTION_TIMEOUT);
        let application = Application::build(app_config(settings)).await.unwrap();
        let raw = raw_client().await;
        let corrupt = ObjectId::new();
        raw.database(&database)
            .collection::<Document>("branches")
            .insert_one(doc! { "_id": corrupt, "name": 5, "__v": 0 })
            .await
            .unwrap();
        let router = app::http::router(application.state.clone());
        let master = application
            .keys()
            .issue("x", CallerRole::MasterAdmin, TOKEN_TTL);
        for target in [
            "/branches".to_owned(),
            format!("/branches/{}", corrupt.to_hex()),
        ] {
            let request = Request::get(&target)
                .header(AUTHORIZATION, format!("Bearer {master}"))
                .body(Body::empty())
                .unwrap();
            let reply = answer(&router, request).await.unwrap();
            reply.check_shape(&Method::GET).unwrap();
            eprintln!(
                "secrets: GET {target} on a corrupt document -> {}",
                reply.status
            );
            shown.push(("a body over a corrupt document".into(), reply.text));
        }
        let _ = raw.database(&database).drop().await;
        application.backend.shutdown().await;
        raw.shutdown().await;
    });

    // Configuration errors, from code, from the environment's names and from flags.
    let secret_option = format!("authMechanismProperties=SERVICE_NAME:{PASSWORD}");
    let malformed = [
        format!("mongodb://app:{PASSWORD}@/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:notaport/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?maxPoolSize=lots"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?authMechanism=BOGUS"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?tls=maybe"),
        format!("mongodb://app:{PASSWORD}@x@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}:x@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}%@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db name"),
        format!("mongodb+srv://app:{PASSWORD}@127.0.0.1:{port}/db"),
        format!("mongodb://:{PASSWORD}@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port},/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?{secret_option}"),
        format!("mysql://app:{PASSWORD}@127.0.0.1/db"),
        format!("app:{PASSWORD}@127.0.0.1/db"),
    ];
    let mut errors = 0;
    for uri in &malformed {
        for result in [
            MongoSettings::new(uri.as_str()),
            MongoSettings::from_lookup(|name| match name {
                "MONGO_URI" => Some(format!("mongodb://127.0.0.1:{port}/ok")),
                "MASTER_ADMIN_MONGO_URI" => Some(uri.clone()),
                _ => None,
            }),
        ] {
            match result {
                Ok(settings) => shown.push((format!("settings of {uri}"), format!("{settings:?}"))),
                Err(error) => {
                    errors += 1;
                    shown.push((format!("the error of {uri}"), format!("{error:?} {error}")));
                }
            }
        }
        let args = ["app", "--mongo-uri", uri.as_str(), "--jwt-secret", SECRET];
        let cli = Cli::try_parse_from(args).unwrap();
        shown.push(("Cli".into(), format!("{cli:?}")));
        match cli.settings.app_config() {
            Ok(config) => shown.push(("AppConfig from flags".into(), format!("{config:?}"))),
            Err(error) => shown.push(("a flag error".into(), format!("{error:?} {error}"))),
        }
        let bad_port = [
            "app",
            "--mongo-uri",
            uri.as_str(),
            "--jwt-secret",
            SECRET,
            "--port",
            "x",
        ];
        let error = Cli::try_parse_from(bad_port).unwrap_err();
        shown.push(("a clap error".into(), format!("{error:?} {error}")));
    }
    let no_secret = AppConfig {
        jwt_secret: None,
        ..app_config(
            MongoSettings::new(format!("mongodb://app:{PASSWORD}@127.0.0.1:{dead}/db")).unwrap(),
        )
    };
    let startup = runtime.block_on(Application::build(no_secret)).unwrap_err();
    shown.push(("a start-up error".into(), format!("{startup:?} {startup}")));

    let logs = logs.text();
    for (what, text) in &shown {
        assert_hidden(what, text);
    }
    assert_hidden("the logs", &logs);
    assert!(
        logs.contains("/branches") && logs.contains("503"),
        "the logs were not captured: {}",
        shorten(&logs, 2000)
    );
    eprintln!(
        "secrets: {} outputs ({errors} configuration errors) and {} bytes of logs checked",
        shown.len(),
        logs.len()
    );
}
