//! Handler tests on `mockall` doubles of the ports: each expectation fails the test if a
//! handler calls the wrong repository, calls it too often, or calls it when it must not.

use std::sync::Arc;
use std::time::Duration;

use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use app::http::idempotency::IdempotencyStores;
use app::http::{back_office_routes, router, AppState, Shared};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::{Branch, BranchName, Id, Location, MasterAdmin, Order, Record, Version};
use http_body_util::BodyExt;
use ports::{MockRepository, RepositoryError, Role};
use registry::{Backend, Registry};
use secrecy::SecretString;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Harness {
    registry: Registry,
    keys: JwtKeys,
}

impl Harness {
    fn new() -> Self {
        Self {
            registry: Registry::new(Backend::memory(Role::DEFAULTS)),
            keys: JwtKeys::new(
                &SecretString::from("handler-test-secret-of-32-bytes!"),
                TokenPolicy::default(),
            )
            .unwrap(),
        }
    }

    fn bind<T: domain::Entity>(mut self, role: Role, mock: MockRepository<T>) -> Self {
        self.registry = self.registry.bind_repository(role, Arc::new(mock));
        self
    }

    async fn call(self, role: CallerRole, request: Request<Body>) -> (StatusCode, Value) {
        let token = self
            .keys
            .issue("0123456789abcdef01234567", role, Duration::from_secs(60));
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let idempotency = IdempotencyStores::on(
            self.registry.backend(),
            &Default::default(),
            Duration::from_secs(5),
        );
        let state = AppState::new(Shared {
            registry: Arc::new(self.registry),
            mounts: back_office_routes().into(),
            keys: self.keys,
            ping_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            idempotency,
            cors: Default::default(),
        });
        let response = router(state)
            .oneshot(Request::from_parts(parts, body))
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn send(method: &str, uri: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn counting<T: domain::Entity>(count: u64) -> MockRepository<T> {
    let mut mock = MockRepository::new();
    mock.expect_count().times(1).returning(move || Ok(count));
    mock
}

fn branch(name: &str) -> Branch {
    Branch::new(
        BranchName::parse(name).unwrap(),
        Location::parse("Lyon").unwrap(),
    )
}

#[tokio::test]
async fn the_dashboard_counts_master_admins_on_masteradmin_and_branches_and_orders_on_main() {
    let harness = Harness::new()
        .bind::<MasterAdmin>(Role::MASTERADMIN, counting(2))
        .bind::<Branch>(Role::MAIN, counting(5))
        .bind::<Order>(Role::MAIN, counting(11));
    let (status, body) = harness
        .call(CallerRole::MASTER_ADMIN, get("/dashboard"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": {"totalAdmins": 2, "totalBranches": 5, "totalOrders": 11}})
    );
}

#[tokio::test]
async fn the_dashboard_answers_503_naming_the_role_whose_database_is_down() {
    let mut admins = MockRepository::<MasterAdmin>::new();
    admins.expect_count().returning(|| {
        Err(RepositoryError::Unavailable {
            role: Role::MASTERADMIN,
            reason: "timed out".into(),
        })
    });
    let mut branches = MockRepository::<Branch>::new();
    branches.expect_count().returning(|| Ok(1));
    let mut orders = MockRepository::<Order>::new();
    orders.expect_count().returning(|| Ok(1));
    let harness = Harness::new()
        .bind(Role::MASTERADMIN, admins)
        .bind(Role::MAIN, branches)
        .bind(Role::MAIN, orders);
    let (status, body) = harness
        .call(CallerRole::MASTER_ADMIN, get("/dashboard"))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("masteradmin"), "{message}");
}

#[tokio::test]
async fn an_invalid_body_is_rejected_before_any_repository_call() {
    let mut branches = MockRepository::<Branch>::new();
    branches.expect_create().times(0);
    let harness = Harness::new().bind(Role::MAIN, branches);
    let request = send(
        "POST",
        "/branches",
        json!({"name": "  ", "location": "Lyon"}),
    );
    let (status, body) = harness.call(CallerRole::USER, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "name: must not be empty");
}

#[tokio::test]
async fn a_patch_saves_the_record_it_read_with_the_change_applied_and_the_version_read() {
    let stored = Record::restore(
        Id::generate(),
        branch("Old name"),
        domain::Timestamp::now(),
        domain::Timestamp::now(),
        Version::new(3),
    );
    let id = stored.id();
    let mut branches = MockRepository::<Branch>::new();
    let read = stored.clone();
    branches
        .expect_get()
        .withf(move |asked| *asked == id)
        .times(1)
        .returning(move |_| Ok(read.clone()));
    branches
        .expect_update()
        .withf(|record| {
            record.version() == Version::new(3) && record.entity().name().as_str() == "New name"
        })
        .times(1)
        .returning(|record| Ok(record.saved()));
    let harness = Harness::new().bind(Role::MAIN, branches);
    let request = send(
        "PATCH",
        &format!("/branches/{id}"),
        json!({"name": "New name"}),
    );
    let (status, body) = harness.call(CallerRole::ADMIN, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "New name");
    assert_eq!(
        body["data"]["location"], "Lyon",
        "fields not in the patch are kept"
    );
}

#[tokio::test]
async fn a_caller_without_the_master_admin_role_never_reaches_the_masteradmin_repositories() {
    for role in [CallerRole::USER, CallerRole::ADMIN] {
        let mut admins = MockRepository::<MasterAdmin>::new();
        admins.expect_list().times(0);
        admins.expect_create().times(0);
        let harness = Harness::new().bind(Role::MASTERADMIN, admins);
        let mut request = get("/admins");
        request
            .headers_mut()
            .insert("x-user-role", "master_admin".parse().unwrap());
        let (status, body) = harness.call(role, request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
}

#[tokio::test]
async fn a_repository_bug_is_a_500_whose_body_hides_the_cause() {
    let mut branches = MockRepository::<Branch>::new();
    branches.expect_get().returning(|_| {
        Err(RepositoryError::Internal(
            "document 42 in branches: bad name".into(),
        ))
    });
    let harness = Harness::new().bind(Role::MAIN, branches);
    let uri = format!("/branches/{}", Id::<Branch>::generate());
    let (status, body) = harness.call(CallerRole::USER, get(&uri)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"error": {"code": "internal", "message": "internal error"}})
    );
}

#[tokio::test]
async fn a_malformed_id_in_the_path_is_a_400_without_a_repository_call() {
    let mut branches = MockRepository::<Branch>::new();
    branches.expect_get().times(0);
    let harness = Harness::new().bind(Role::MAIN, branches);
    let (status, body) = harness
        .call(CallerRole::USER, get("/branches/not-an-id"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a valid id"));
}
