//! The billing service, tested as its team would: a mock-based unit test of its rule across
//! roles, the shared repository contract on its own model (memory and the test server), and
//! the service end to end, checking that invoices land in the billing database only.
#![allow(clippy::unwrap_used)] // test set-up: a failure here is the assertion failing

use std::sync::Arc;
use std::time::Duration;

use adapters_memory::MemoryRepository;
use adapters_mongo::{ConnectionManager, MongoRepository, MongoSettings};
use app::auth::CallerRole;
use app::service::Application;
use axum::http::StatusCode;
use billing::{Invoice, InvoiceStatus, BILLING};
use domain::{Branch, Id};
use mongodb::bson::{doc, Bson};
use ports::{MockRepository, RepositoryError, Role};
use registry::{Backend, Registry};
use serde_json::{json, Value};
use testkit::server::{test_server_uri, unique_database_name, uri_with_database};
use tests::contract::any_model;
use tests::service::TestService;

fn invoice(n: u32) -> Invoice {
    let branch = Id::from_bytes([7; 12]);
    Invoice::new(
        branch,
        &format!("INV-{n:04}"),
        1_250 + i64::from(n),
        InvoiceStatus::Draft,
    )
    .unwrap()
}

#[tokio::test]
async fn an_invoice_for_a_branch_that_main_does_not_know_is_refused_before_billing_is_written() {
    let mut branches = MockRepository::<Branch>::new();
    branches.expect_get().times(1).returning(|id| {
        Err(RepositoryError::NotFound {
            model: "Branch",
            id: id.to_string(),
        })
    });
    let mut invoices = MockRepository::<Invoice>::new();
    invoices.expect_create().never();
    let registry = Registry::new(Backend::memory([Role::MAIN, Role::MASTERADMIN, BILLING]))
        .bind_repository::<Branch>(Role::MAIN, Arc::new(branches))
        .bind_repository::<Invoice>(BILLING, Arc::new(invoices));

    let result = registry
        .repository::<Invoice>(BILLING)
        .unwrap()
        .create(invoice(1))
        .await;
    assert_eq!(
        result.unwrap_err(),
        RepositoryError::MissingReference {
            field: "branchId",
            model: "Branch",
            id: invoice(1).branch_id().to_string(),
        }
    );
}

#[tokio::test]
async fn invoices_honour_the_repository_contract_in_memory() {
    any_model::declared(&MemoryRepository::<Invoice>::new()).await;
}

/// Settings with `main`, `masteradmin` and `billing` each on a fresh database of the test
/// server, and the names of those databases.
fn three_databases(prefix: &str) -> (MongoSettings, [String; 3]) {
    let names =
        ["main", "admin", "billing"].map(|r| unique_database_name(&format!("{prefix}_{r}")));
    let server = test_server_uri();
    let settings = MongoSettings::new(uri_with_database(&server, &names[0]))
        .unwrap()
        .with_masteradmin_uri(uri_with_database(&server, &names[1]))
        .unwrap()
        .with_role_uri(BILLING, uri_with_database(&server, &names[2]))
        .unwrap()
        .with_server_selection_timeout(Duration::from_secs(5));
    (settings, names)
}

#[tokio::test]
async fn invoices_honour_the_repository_contract_on_the_test_server() {
    let (settings, _) = three_databases("bill_contract");
    let manager = ConnectionManager::new(settings);
    let invoices = MongoRepository::<Invoice>::new(manager.role(BILLING).unwrap());
    any_model::declared(&invoices).await;
    manager.shutdown().await;
}

/// The billing service on MongoDB with `settings`, through the workspace's test harness: every
/// answer it reads is checked against the contract the service publishes at `/openapi.json`
/// (its status documented, its body valid), so the end-to-end test below also checks that
/// invoices are documented as they are served.
async fn on_mongodb(settings: MongoSettings) -> TestService {
    TestService::start_service(TestService::config(settings), billing::service()).await
}

#[tokio::test]
async fn invoices_posted_to_the_service_land_in_the_billing_database_and_nowhere_else() {
    let (settings, [main, admin, billing]) = three_databases("bill_e2e");
    let service = on_mongodb(settings).await;
    let token = service.token(CallerRole::USER);

    let branch = service.create_branch(&token, "Lyon").await;
    let body = json!({"branchId": branch, "number": "INV-2026-0001", "amountCents": 125_000});
    let created = service.post("/invoices", &token, body.clone()).await;
    assert_eq!(created.data(StatusCode::CREATED)["status"], "draft");
    let again = service.post("/invoices", &token, body).await;
    again.error(StatusCode::CONFLICT, "duplicate");

    let client = mongodb::Client::with_uri_str(test_server_uri())
        .await
        .unwrap();
    let invoices_in = |database: &str| {
        client
            .database(database)
            .collection::<mongodb::bson::Document>("invoices")
    };
    let stored = invoices_in(&billing)
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get_str("number").unwrap(), "INV-2026-0001");
    assert_eq!(stored.get("amountCents"), Some(&Bson::Int32(125_000)));
    for elsewhere in [&main, &admin] {
        assert_eq!(
            invoices_in(elsewhere)
                .count_documents(doc! {})
                .await
                .unwrap(),
            0,
            "{elsewhere}"
        );
    }
    service.finish().await;
}

#[tokio::test]
async fn the_published_contract_documents_invoices_from_their_declaration_alone() {
    let service =
        TestService::start_service(TestService::memory_config(), billing::service()).await;
    let document = service.contract().document();

    let methods = |path: &str| -> Vec<String> {
        let item = document["paths"][path].as_object();
        let mut methods: Vec<String> = item
            .map(|item| item.keys().cloned().collect())
            .unwrap_or_default();
        methods.sort();
        methods
    };
    assert_eq!(methods("/invoices"), ["get", "post"]);
    assert_eq!(methods("/invoices/{id}"), ["delete", "get", "patch"]);
    let filters: Vec<&Value> = document["paths"]["/invoices"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|parameter| &parameter["name"])
        .collect();
    assert!(filters.contains(&&json!("branchId")), "{filters:?}");
    assert!(filters.contains(&&json!("status")), "{filters:?}");
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["NewInvoice"]["required"],
        json!(["branchId", "number", "amountCents"])
    );
    assert!(
        schemas["InvoiceChange"]["properties"]
            .get("number")
            .is_none(),
        "fixed"
    );
    assert_eq!(
        schemas["Invoice"]["properties"]["status"]["enum"],
        json!(["draft", "issued", "paid", "void"])
    );
}

#[tokio::test]
async fn a_billing_service_on_mongodb_without_the_billing_role_does_not_start() {
    let settings = MongoSettings::new("mongodb://127.0.0.1:1/main").unwrap();
    let error = Application::build_service(TestService::config(settings), billing::service())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("billing") && message.contains("main, masteradmin"),
        "{message}"
    );
}
