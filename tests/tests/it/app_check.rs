//! `app check` against the test server (`MONGO_TEST_URI`): databases seeded with documents as
//! Mongoose writes them, good ones, one that cannot be read (a field of another BSON type) and
//! one that reads but that today's rules would refuse, checked through the library function
//! the command runs, on the registry `serve` builds (`EXTRA_BINDINGS` included).
// A failed unwrap in a test is the assertion failing, with its value shown.

use app::auth::CallerRole;
use app::check::{check, CheckSummary};
use app::config::AppConfig;
use app::stored_data::StoredDataError;
use axum::http::Method;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::Database;
use ports::Role;
use tests::service::{FreshDatabases, TestService};

/// The application `serve` would build on two fresh databases, with `bindings` as
/// `EXTRA_BINDINGS`, and a client of the test's own on both.
async fn service(prefix: &str, bindings: &str) -> TestService {
    let databases = FreshDatabases::new(prefix);
    let config = AppConfig {
        bindings: bindings.to_owned(),
        ..TestService::config(databases.settings())
    };
    TestService::looking_at(config, &databases.main, &databases.masteradmin).await
}

/// The (model, role) pairs `app check` read, sorted.
fn checked(summary: &CheckSummary) -> Vec<(String, Role)> {
    let mut checked: Vec<_> = summary
        .collections
        .iter()
        .map(|c| (c.model.clone(), c.role))
        .collect();
    checked.sort();
    checked
}

async fn insert(database: &Database, collection: &str, documents: Vec<Document>) {
    database
        .collection::<Document>(collection)
        .insert_many(documents)
        .await
        .unwrap();
}

/// A document as Mongoose saves it: `_id`, the fields, timestamps and `__v`.
fn mongoose(id: ObjectId, fields: Document) -> Document {
    let mut document = doc! { "_id": id };
    document.extend(fields);
    document.extend(doc! { "createdAt": DateTime::now(), "updatedAt": DateTime::now(), "__v": 0 });
    document
}

fn customer(id: ObjectId, branch: ObjectId, email: &str) -> Document {
    mongoose(
        id,
        doc! { "branchId": branch, "name": "Forge & Co", "email": email, "phone": "+33 4 72 00 00 00" },
    )
}

fn machine(id: ObjectId, branch: ObjectId, serial: impl Into<Bson>) -> Document {
    mongoose(
        id,
        doc! { "branchId": branch, "name": "Press", "serialNumber": serial.into(), "status": "running" },
    )
}

/// Good documents in every collection of both roles.
async fn seed_good(app: &TestService) -> ObjectId {
    let branch = ObjectId::new();
    insert(
        app.main(),
        "branches",
        vec![
            mongoose(
                branch,
                doc! { "name": "Lyon", "location": "12 rue de la Forge" },
            ),
            // Written before timestamps and versions: still readable.
            doc! { "_id": ObjectId::new(), "name": "Nantes", "location": "Quai" },
        ],
    )
    .await;
    insert(
        app.main(),
        "customers",
        vec![customer(ObjectId::new(), branch, "ada@example.com")],
    )
    .await;
    insert(
        app.main(),
        "machines",
        vec![
            machine(ObjectId::new(), branch, "SN-1"),
            machine(ObjectId::new(), branch, "SN-2"),
        ],
    )
    .await;
    let item = |sku: &str, quantity: i32, price: f64| {
        doc! { "_id": ObjectId::new(), "sku": sku, "quantity": quantity, "unitPrice": price }
    };
    insert(
        app.main(),
        "orders",
        vec![mongoose(
            ObjectId::new(),
            doc! {
                "branchId": branch, "customerId": ObjectId::new(),
                "items": [item("BOLT-M8", 3, 0.1), item("NUT-M8", 2, 19.99)],
                "status": "in_production", "total": 40.28, "notes": "not modelled here",
            },
        )],
    )
    .await;
    let account = |username: &str| {
        doc! {
            "username": username, "fullName": "Ada Lovelace", "email": "ada@example.com",
            "password": "$2b$10$hash",
        }
    };
    insert(
        app.masteradmin(),
        "masteradmins",
        vec![mongoose(ObjectId::new(), account("root"))],
    )
    .await;
    let mut admin = account("ops");
    admin.insert("branchId", Bson::Null);
    insert(
        app.masteradmin(),
        "admins",
        vec![mongoose(ObjectId::new(), admin)],
    )
    .await;
    branch
}

/// (documents, unreadable, would fail) of `model` on `role`.
fn counts(summary: &CheckSummary, model: &str, role: Role) -> (u64, u64, u64) {
    let found = summary
        .collections
        .iter()
        .find(|c| c.model == model && c.role == role)
        .unwrap_or_else(|| panic!("{model}@{role} was not checked: {summary:#?}"));
    let report = &found.report;
    (report.documents, report.unreadable, report.refused)
}

async fn run_check(
    app: &TestService,
    role: Option<Role>,
) -> (Result<CheckSummary, StoredDataError>, String) {
    let (mut out, mut progress) = (Vec::new(), Vec::new());
    let result = check(
        &app.application().state.registry,
        role,
        &mut out,
        &mut progress,
    )
    .await;
    let out = String::from_utf8(out).unwrap();
    println!("{out}");
    (result, out)
}

#[tokio::test]
async fn check_counts_every_collection_and_fails_on_a_document_that_cannot_be_read() {
    let app = service("check_bad", "admins@main").await;
    let branch = seed_good(&app).await;
    let (unreadable, legacy) = (ObjectId::new(), ObjectId::new());
    insert(
        app.main(),
        "machines",
        vec![machine(unreadable, branch, 42)],
    )
    .await;
    insert(
        app.main(),
        "customers",
        vec![customer(legacy, branch, "ops@localhost")],
    )
    .await;

    let (result, out) = run_check(&app, None).await;
    let summary = result.unwrap();

    assert_eq!(counts(&summary, "branches", Role::MAIN), (2, 0, 0));
    assert_eq!(counts(&summary, "customers", Role::MAIN), (2, 0, 1));
    assert_eq!(counts(&summary, "machines", Role::MAIN), (3, 1, 0));
    assert_eq!(counts(&summary, "orders", Role::MAIN), (1, 0, 0));
    assert_eq!(
        counts(&summary, "masterAdmins", Role::MASTERADMIN),
        (1, 0, 0)
    );
    assert_eq!(counts(&summary, "admins", Role::MASTERADMIN), (1, 0, 0));
    // EXTRA_BINDINGS: admins also on main, whose database holds none.
    assert_eq!(counts(&summary, "admins", Role::MAIN), (0, 0, 0));
    assert_eq!(
        checked(&summary),
        app.bindings(),
        "every binding is checked"
    );
    assert_eq!((summary.unreadable(), summary.would_fail()), (1, 1));
    assert!(!summary.passed(), "an unreadable document fails the check");

    let machines = &summary
        .collections
        .iter()
        .find(|c| c.model == "machines")
        .unwrap()
        .report;
    assert_eq!(machines.collection, "machines");
    let finding = &machines.unreadable_samples[0];
    assert_eq!(
        (finding.id.as_str(), finding.field.as_str()),
        (unreadable.to_hex().as_str(), "serialNumber")
    );
    let line = out
        .lines()
        .find(|l| l.contains("cannot be read: "))
        .unwrap_or_else(|| panic!("no unreadable document in the output:\n{out}"));
    assert!(
        line.contains(&unreadable.to_hex()) && line.contains("serialNumber"),
        "{line}"
    );
    let line = out
        .lines()
        .find(|l| l.contains("would fail validation: "))
        .unwrap_or_else(|| panic!("no invalid document in the output:\n{out}"));
    assert!(
        line.contains(&legacy.to_hex()) && line.contains("email"),
        "{line}"
    );
    assert!(out.contains("FAILED: 1 document cannot be read"), "{out}");
    app.finish().await;
}

#[tokio::test]
async fn check_passes_on_clean_databases_and_can_be_limited_to_one_role() {
    let app = service("check_clean", "").await;
    seed_good(&app).await;

    let (result, out) = run_check(&app, None).await;
    let summary = result.unwrap();
    assert!(summary.passed(), "{out}");
    assert_eq!(
        (
            summary.documents(),
            summary.unreadable(),
            summary.would_fail()
        ),
        (8, 0, 0)
    );
    assert_eq!(
        checked(&summary),
        app.bindings(),
        "every binding is checked"
    );
    assert!(summary.refused_indexes.is_empty(), "{out}");
    assert!(!out.contains("FAILED"), "{out}");

    let (result, out) = run_check(&app, Some(Role::MASTERADMIN)).await;
    let summary = result.unwrap();
    let on_masteradmin: Vec<(String, Role)> = app
        .bindings()
        .into_iter()
        .filter(|(_, role)| *role == Role::MASTERADMIN)
        .collect();
    assert!(!on_masteradmin.is_empty());
    assert_eq!(checked(&summary), on_masteradmin, "{out}");

    let billing = Role::new("billing").unwrap();
    let (result, _) = run_check(&app, Some(billing)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, StoredDataError::UnknownRole(_)) && err.to_string().contains("billing"),
        "{err}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_large_collection_shows_progress_on_stderr() {
    let app = service("check_large", "").await;
    let branches: Vec<Document> = (0..app::check::PROGRESS_EVERY + 1)
        .map(|n| doc! { "_id": ObjectId::new(), "name": format!("Branch {n}"), "location": "Quai" })
        .collect();
    insert(app.main(), "branches", branches).await;

    let (mut out, mut progress) = (Vec::new(), Vec::new());
    let registry = &app.application().state.registry;
    let summary = check(registry, Some(Role::MAIN), &mut out, &mut progress)
        .await
        .unwrap();

    assert_eq!(
        counts(&summary, "branches", Role::MAIN),
        (app::check::PROGRESS_EVERY + 1, 0, 0)
    );
    let progress = String::from_utf8(progress).unwrap();
    assert_eq!(
        progress.trim(),
        format!(
            "main/branches: {} documents read…",
            app::check::PROGRESS_EVERY
        ),
        "one line per {} documents",
        app::check::PROGRESS_EVERY
    );
    app.finish().await;
}

#[tokio::test]
async fn legacy_duplicates_under_a_unique_field_are_reported_as_a_refused_index() {
    let app = service("check_duplicates", "").await;
    let twins = (0..2)
        .map(|_| doc! { "_id": ObjectId::new(), "name": "Lyon", "location": "Quai" })
        .collect();
    insert(app.main(), "branches", twins).await;

    let (result, out) = run_check(&app, Some(Role::MAIN)).await;
    let summary = result.unwrap();
    assert_eq!(summary.refused_indexes, ["branches@main"], "{out}");
    assert!(out.contains("indexes refused"), "{out}");
    assert!(summary.passed(), "both documents read: {out}");

    let master = app.token(CallerRole::MASTER_ADMIN);
    let health = app.get("/health", &master).await;
    let refused = &health.body["data"]["indexesRefused"];
    assert_eq!(refused[0]["model"], "branches", "{}", health.body);
    assert_eq!(refused[0]["role"], "main", "{}", health.body);
    let anonymous = app.call(tests::service::request(Method::GET, "/health", None, None));
    let anonymous = anonymous.await;
    assert!(
        anonymous.body["data"].get("indexesRefused").is_none(),
        "{}",
        anonymous.body
    );
    app.finish().await;
}
