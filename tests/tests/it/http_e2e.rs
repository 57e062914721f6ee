//! End to end over HTTP: requests go through `app::http::router` with `oneshot` (no socket) to
//! MongoDB repositories on the test server, with the `main` and `masteradmin` roles on two
//! databases of their own. What a request stored is then read back with a separate driver
//! client, so a test sees the database, not only the status code.
//!
//! The harness is [`tests::service::TestService`]: every response body is checked on the way
//! in for JSON, a connection string, the password of the URIs or the JWT secret
//! (`Reply::read`), whatever the test is about.

use std::time::{Duration, Instant};

use adapters_mongo::MongoSettings;
use app::auth::CallerRole;
use app::config::AppConfig;
use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::{Method, Request, StatusCode};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::Bson;
use serde_json::{json, Value};
use testkit::server::{
    free_port, stalled_listener, test_server_uri, unique_database_name, uri_with_database,
};
use tests::service::{
    count, expired_token, foreign_token, stored, with_json_body, TestService, PASSWORD,
    SELECTION_TIMEOUT,
};

/// For a role whose server is down: how long an operation waits before answering 503. The
/// timeout applies to the live role too, whose first handshake with the test server can take
/// a few hundred milliseconds on a loaded machine: 300 ms made the live role flaky.
const DEAD_SELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// `main` and `masteradmin` on two fresh databases of the test server.
async fn with_two_databases() -> TestService {
    TestService::on_fresh_databases("e2e").await
}

/// Only `MONGO_URI`: both roles work in the one database.
async fn with_one_database() -> TestService {
    let server = test_server_uri();
    let database = unique_database_name("e2e_single");
    let settings = MongoSettings::new(uri_with_database(&server, &database))
        .expect("a valid main URI")
        .with_server_selection_timeout(SELECTION_TIMEOUT);
    TestService::looking_at(TestService::config(settings), &database, &database).await
}

/// `down` on a port where nothing listens (its URI carries [`PASSWORD`]), the other role
/// on a fresh database of the test server.
async fn with_role_down(down: ports::Role) -> TestService {
    let server = test_server_uri();
    let up = unique_database_name("e2e_up");
    let dead = format!(
        "mongodb://app:{PASSWORD}@127.0.0.1:{}/e2e_down",
        free_port()
    );
    let live = uri_with_database(&server, &up);
    let (main_uri, masteradmin_uri) = match down {
        ports::Role::MAIN => (dead, live),
        ports::Role::MASTERADMIN => (live, dead),
        other => panic!("two-database services have main and masteradmin, not {other}"),
    };
    let settings = MongoSettings::new(main_uri)
        .expect("a valid main URI")
        .with_masteradmin_uri(masteradmin_uri)
        .expect("a valid masteradmin URI")
        .with_server_selection_timeout(DEAD_SELECTION_TIMEOUT);
    TestService::looking_at(TestService::config(settings), &up, &up).await
}

/// `main` on a server that accepts connections and never answers, with a short request
/// timeout and a long server-selection timeout: the request timeout answers first.
async fn with_main_stalled(port: u16, request_timeout: Duration) -> TestService {
    let server = test_server_uri();
    let up = unique_database_name("e2e_up");
    let settings = MongoSettings::new(format!("mongodb://127.0.0.1:{port}/e2e_stalled"))
        .expect("a valid main URI")
        .with_masteradmin_uri(uri_with_database(&server, &up))
        .expect("a valid masteradmin URI")
        .with_server_selection_timeout(Duration::from_secs(30));
    let config = AppConfig {
        request_timeout,
        ..TestService::config(settings)
    };
    TestService::looking_at(config, &up, &up).await
}

/// A stored number, whichever BSON numeric type holds it.
fn number(value: Option<&Bson>) -> f64 {
    match value {
        Some(Bson::Int32(n)) => f64::from(*n),
        Some(Bson::Int64(n)) => *n as f64,
        Some(Bson::Double(n)) => *n,
        other => panic!("not a number: {other:?}"),
    }
}

fn branch(name: &str) -> Value {
    json!({ "name": name, "location": "12 rue de la Forge" })
}

fn master_admin(username: &str, full_name: &str) -> Value {
    json!({ "username": username, "fullName": full_name, "email": format!("{username}@example.com") })
}

fn admin(username: &str) -> Value {
    json!({ "username": username, "fullName": "Branch Admin", "email": format!("{username}@example.com") })
}

/// An order of `items` by `customer` at `branch`.
fn order_at(branch: &str, customer: &str, items: Value) -> Value {
    json!({ "branchId": branch, "customerId": customer, "items": items })
}

/// An order of `items` referencing made-up records: what a refusal of its items is tested on.
fn order(items: Value) -> Value {
    order_at(&ObjectId::new().to_hex(), &ObjectId::new().to_hex(), items)
}

#[tokio::test]
async fn a_branch_created_over_http_is_stored_in_the_main_database_only() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::USER);

    let id = app.create("/branches", &token, branch("Lyon")).await;

    let document = stored(app.main(), "branches", &id)
        .await
        .expect("the branch is in the main database");
    assert_eq!(document.get_str("name"), Ok("Lyon"));
    assert_eq!(document.get_str("location"), Ok("12 rue de la Forge"));
    assert_eq!(count(app.masteradmin(), "branches").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_master_admin_created_over_http_is_stored_in_the_masteradmin_database_only() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);

    let id = app
        .create(
            "/master-admins",
            &token,
            master_admin("grace", "Grace Hopper"),
        )
        .await;

    let document = stored(app.masteradmin(), "masteradmins", &id)
        .await
        .expect("the master admin is in the masteradmin database");
    assert_eq!(document.get_str("fullName"), Ok("Grace Hopper"));
    assert_eq!(count(app.main(), "masteradmins").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn the_dashboard_counts_what_was_created_in_both_databases() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let mut branches = Vec::new();
    for name in ["Lyon", "Turin", "Porto"] {
        branches.push(app.create("/branches", &token, branch(name)).await);
    }
    for username in ["ada", "alan"] {
        app.create("/admins", &token, admin(username)).await;
    }
    let customer = json!({
        "branchId": branches[0], "name": "Acme", "email": "buyer@acme.example",
        "phone": "+33 4 72 00 00 00",
    });
    let customer = app.create("/customers", &token, customer).await;
    let item = json!([{ "sku": "GEAR-40", "quantity": 2, "unitPrice": 18.5 }]);
    for _ in 0..4 {
        let order = order_at(&branches[0], &customer, item.clone());
        app.create("/orders", &token, order).await;
    }
    // As the Node.js handler counts them: `totalAdmins` is the number of master admins, and
    // branch admins are not among them.
    app.create(
        "/master-admins",
        &token,
        master_admin("grace", "Grace Hopper"),
    )
    .await;

    let dashboard = app.get("/dashboard", &token).await.data(StatusCode::OK);

    assert_eq!(
        dashboard,
        json!({ "totalAdmins": 1, "totalBranches": 3, "totalOrders": 4 })
    );
    assert_eq!(count(app.masteradmin(), "masteradmins").await, 1);
    assert_eq!(count(app.masteradmin(), "admins").await, 2);
    assert_eq!(count(app.main(), "branches").await, 3);
    assert_eq!(count(app.main(), "orders").await, 4);
    app.finish().await;
}

#[tokio::test]
async fn me_returns_the_calling_master_admins_full_name_and_the_branch_count() {
    let app = with_two_databases().await;
    let setup = app.token(CallerRole::MASTER_ADMIN);
    let grace = app
        .create(
            "/master-admins",
            &setup,
            master_admin("grace", "Grace Hopper"),
        )
        .await;
    for name in ["Lyon", "Turin"] {
        app.create("/branches", &setup, branch(name)).await;
    }

    let token = app.token_for(&grace, CallerRole::MASTER_ADMIN);
    let me = app.get("/me", &token).await.data(StatusCode::OK);

    assert_eq!(
        me,
        json!({ "fullName": "Grace Hopper", "totalBranches": 2 })
    );

    let stranger = app.token_for(&ObjectId::new().to_hex(), CallerRole::MASTER_ADMIN);
    app.get("/me", &stranger)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    app.finish().await;
}

#[tokio::test]
async fn malformed_injected_and_invalid_requests_are_400_and_store_nothing() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let bad_bodies = [
        ("/branches", r#"{"name": "Lyon", "location": "#.to_owned()),
        ("/branches", "not json at all".to_owned()),
        (
            "/branches",
            json!({ "name": "Lyon", "location": "x", "extra": 1 }).to_string(),
        ),
        (
            "/branches",
            json!({ "name": { "$gt": "" }, "location": "x" }).to_string(),
        ),
        (
            "/branches",
            json!({ "$where": "sleep(1000)", "name": "Lyon", "location": "x" }).to_string(),
        ),
        ("/branches", branch("").to_string()),
        ("/branches", branch("   ").to_string()),
        (
            "/orders",
            order(json!([{ "sku": "GEAR-40", "quantity": 0, "unitPrice": 1.0 }])).to_string(),
        ),
        ("/orders", order(json!([])).to_string()),
        (
            "/master-admins",
            json!({ "username": { "$ne": null }, "fullName": "X", "email": "x@example.com" })
                .to_string(),
        ),
    ];
    for (path, body) in bad_bodies {
        let reply = app
            .send_text(Method::POST, path, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path} {body}");
        reply.error(StatusCode::BAD_REQUEST, "bad_request");
    }

    let bad_paths = [
        "/branches/not-an-id",
        "/branches/0123456789abcdef0123456",
        "/branches/0123456789abcdef0123456z",
        "/orders/%7B%22%24gt%22%3A%22%22%7D",
        "/branches?limit=abc",
        "/branches?limit=0",
        "/branches?%24where=1",
    ];
    for path in bad_paths {
        let reply = app.get(path, &token).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        reply.error(StatusCode::BAD_REQUEST, "bad_request");
    }
    let id = app.create("/branches", &token, branch("Lyon")).await;
    app.patch(&format!("/branches/{id}"), &token, json!({ "name": "" }))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    app.patch(
        &format!("/branches/{id}"),
        &token,
        json!({ "$set": { "name": "x" } }),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "bad_request");

    assert_eq!(count(app.main(), "branches").await, 1);
    assert_eq!(count(app.main(), "orders").await, 0);
    assert_eq!(count(app.masteradmin(), "masteradmins").await, 0);
    let unchanged = stored(app.main(), "branches", &id)
        .await
        .expect("the branch is still stored");
    assert_eq!(unchanged.get_str("name"), Ok("Lyon"));
    app.finish().await;
}

#[tokio::test]
async fn missing_malformed_expired_and_foreign_tokens_are_401() {
    let app = with_two_databases().await;
    let expired = expired_token("e2e");
    let foreign = foreign_token("e2e", CallerRole::MASTER_ADMIN);
    let valid = app.token(CallerRole::MASTER_ADMIN);
    let authorizations = [
        None,
        Some("Bearer not-a-jwt".to_owned()),
        Some("Bearer ".to_owned()),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {foreign}")),
        Some(format!("Basic {valid}")),
        Some(valid.clone()),
    ];

    for path in ["/branches", "/master-admins", "/dashboard", "/me"] {
        for authorization in &authorizations {
            let mut request = Request::builder().uri(path);
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value);
            }
            let reply = app
                .call(request.body(Body::empty()).expect("a valid request"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{path} with {authorization:?}"
            );
            reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
        }
    }
    let reply = app
        .send(Method::POST, "/branches", None, Some(branch("Lyon")))
        .await;
    reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(count(app.main(), "branches").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn users_and_admins_are_403_on_the_masteradmin_routes_the_dashboard_and_me() {
    let app = with_two_databases().await;
    for role in [CallerRole::USER, CallerRole::ADMIN] {
        let token = app.token(role);
        for path in ["/master-admins", "/admins", "/dashboard", "/me"] {
            let reply = app.get(path, &token).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role:?} GET {path}");
            reply.error(StatusCode::FORBIDDEN, "forbidden");
        }
        app.post("/master-admins", &token, master_admin("eve", "Eve"))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        app.post("/admins", &token, admin("eve"))
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        // The business routes stay open to them.
        app.get("/branches", &token).await.data(StatusCode::OK);
    }
    assert_eq!(count(app.masteradmin(), "masteradmins").await, 0);
    assert_eq!(count(app.masteradmin(), "admins").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn unknown_ids_and_unknown_routes_are_404() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    app.create("/branches", &token, branch("Lyon")).await;
    let unknown = ObjectId::new().to_hex();

    for collection in ["/branches", "/orders", "/master-admins", "/admins"] {
        let path = format!("{collection}/{unknown}");
        app.get(&path, &token)
            .await
            .error(StatusCode::NOT_FOUND, "not_found");
        app.delete(&path, &token)
            .await
            .error(StatusCode::NOT_FOUND, "not_found");
    }
    app.patch(
        &format!("/branches/{unknown}"),
        &token,
        json!({ "name": "Turin" }),
    )
    .await
    .error(StatusCode::NOT_FOUND, "not_found");
    app.get("/no-such-route", &token)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    app.send(Method::GET, "/branches/a/b", None, None)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");

    assert_eq!(count(app.main(), "branches").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn a_taken_unique_key_is_409_duplicate_and_stores_nothing() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let lyon = app.create("/branches", &token, branch("Lyon")).await;
    let turin = app.create("/branches", &token, branch("Turin")).await;

    app.post("/branches", &token, branch("Lyon"))
        .await
        .error(StatusCode::CONFLICT, "duplicate");
    app.patch(
        &format!("/branches/{turin}"),
        &token,
        json!({ "name": "Lyon" }),
    )
    .await
    .error(StatusCode::CONFLICT, "duplicate");
    app.create(
        "/master-admins",
        &token,
        master_admin("grace", "Grace Hopper"),
    )
    .await;
    // Usernames are case-insensitive.
    app.post("/master-admins", &token, master_admin("Grace", "Grace Two"))
        .await
        .error(StatusCode::CONFLICT, "duplicate");

    assert_eq!(count(app.main(), "branches").await, 2);
    let turin = stored(app.main(), "branches", &turin)
        .await
        .expect("Turin is still stored");
    assert_eq!(turin.get_str("name"), Ok("Turin"));
    assert!(stored(app.main(), "branches", &lyon).await.is_some());
    assert_eq!(count(app.masteradmin(), "masteradmins").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413_and_stores_nothing() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let huge = branch(&"x".repeat(app::http::BODY_LIMIT_BYTES + 1));

    app.post("/branches", &token, huge.clone())
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    app.post("/master-admins", &token, huge)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    assert_eq!(count(app.main(), "branches").await, 0);
    assert_eq!(count(app.masteradmin(), "masteradmins").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_role_whose_server_is_down_answers_503_quickly_without_its_uri_or_password() {
    let app = with_role_down(ports::Role::MAIN).await;
    let token = app.token(CallerRole::MASTER_ADMIN);

    let started = Instant::now();
    let message = app
        .post("/branches", &token, branch("Lyon"))
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(message.contains("main"), "{message}");
    app.get("/branches", &token)
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let message = app
        .get("/dashboard", &token)
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(message.contains("main"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );

    // The role that is up still works.
    app.create(
        "/master-admins",
        &token,
        master_admin("grace", "Grace Hopper"),
    )
    .await;
    assert_eq!(count(app.masteradmin(), "masteradmins").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn a_503_body_does_not_show_the_database_servers_address() {
    let app = with_role_down(ports::Role::MAIN).await;
    let token = app.token(CallerRole::USER);

    let message = app
        .get("/branches", &token)
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");

    // The client learns which role is down, not where its server is nor how the driver sees
    // the topology: that goes to the log.
    assert!(message.contains("main"), "{message}");
    assert!(
        !message.contains("127.0.0.1") && !message.contains("Topology"),
        "the 503 body shows the database server: {message}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_request_that_outlives_the_request_timeout_is_503_with_an_error_body() {
    let (port, _stalled) = stalled_listener().await;
    let app = with_main_stalled(port, Duration::from_millis(500)).await;
    let token = app.token(CallerRole::USER);

    let started = Instant::now();
    let reply = app.get("/branches", &token).await;

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    reply.error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    app.finish().await;
}

#[tokio::test]
async fn a_forged_role_header_does_not_open_the_masteradmin_database() {
    let app = with_two_databases().await;
    let user = app.token(CallerRole::USER);
    let forged = |method: Method, token: Option<&str>, body: Option<Value>| {
        let mut request = Request::builder()
            .method(method)
            .uri("/master-admins")
            .header("x-user-role", "master_admin")
            .header("x-role", "master_admin");
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        with_json_body(request, body.map(|value| value.to_string()))
    };

    app.call(forged(Method::GET, Some(&user), None))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    let body = master_admin("mallory", "Mallory");
    app.call(forged(Method::POST, Some(&user), Some(body.clone())))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    app.call(forged(Method::POST, None, Some(body)))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");

    assert_eq!(count(app.masteradmin(), "masteradmins").await, 0);
    assert_eq!(count(app.main(), "masteradmins").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn without_a_masteradmin_uri_master_admins_are_stored_in_the_main_database() {
    let app = with_one_database().await;
    let token = app.token(CallerRole::MASTER_ADMIN);

    let grace = app
        .create(
            "/master-admins",
            &token,
            master_admin("grace", "Grace Hopper"),
        )
        .await;
    let lyon = app.create("/branches", &token, branch("Lyon")).await;

    let document = stored(app.main(), "masteradmins", &grace)
        .await
        .expect("the master admin is in the main database");
    assert_eq!(document.get_str("username"), Ok("grace"));
    assert!(stored(app.main(), "branches", &lyon).await.is_some());
    let me = app
        .get("/me", &app.token_for(&grace, CallerRole::MASTER_ADMIN))
        .await
        .data(StatusCode::OK);
    assert_eq!(
        me,
        json!({ "fullName": "Grace Hopper", "totalBranches": 1 })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_order_goes_through_create_read_update_list_and_delete() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::ADMIN);
    let lyon = app.create("/branches", &token, branch("Lyon")).await;
    let acme = app
        .create(
            "/customers",
            &token,
            json!({
                "branchId": lyon,
                "name": "Acme Tooling",
                "email": "buyer@acme.example",
                "phone": "+33 4 72 00 00 00",
            }),
        )
        .await;
    let new_order = |sku: &str| {
        json!({
            "branchId": lyon,
            "customerId": acme,
            "items": [
                { "sku": sku, "quantity": 3, "unitPrice": 0.1 },
                { "sku": "BOLT-M8", "quantity": 2, "unitPrice": 19.99 },
            ],
        })
    };

    // Create.
    let created = app
        .post("/orders", &token, new_order("GEAR-40"))
        .await
        .data(StatusCode::CREATED);
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["status"], "pending");
    assert_eq!(created["total"], 40.28);
    let path = format!("/orders/{id}");
    let document = stored(app.main(), "orders", &id)
        .await
        .expect("the order is stored");
    assert_eq!(document.get_str("status"), Ok("pending"));
    assert_eq!(number(document.get("total")), 40.28);
    assert_eq!(number(document.get("__v")), 0.0);

    // Read.
    let read = app.get(&path, &token).await.data(StatusCode::OK);
    assert_eq!(read, created);

    // Update: new items recompute the total; then production starts.
    let changed = app
        .patch(
            &path,
            &token,
            json!({ "items": [{ "sku": "GEAR-40", "quantity": 10, "unitPrice": 2.5 }] }),
        )
        .await
        .data(StatusCode::OK);
    assert_eq!(changed["total"], 25.0);
    assert_eq!(changed["items"].as_array().map(Vec::len), Some(1));
    let started = app
        .patch(&path, &token, json!({ "status": "in_production" }))
        .await
        .data(StatusCode::OK);
    assert_eq!(started["status"], "in_production");
    assert_eq!(started["total"], 25.0);
    assert_eq!(started["createdAt"], created["createdAt"]);
    let document = stored(app.main(), "orders", &id)
        .await
        .expect("the order is stored");
    assert_eq!(document.get_str("status"), Ok("in_production"));
    assert_eq!(number(document.get("total")), 25.0);
    assert_eq!(number(document.get("__v")), 2.0);
    // Items are frozen once production has started: the record's state refuses the change.
    app.patch(
        &path,
        &token,
        json!({ "items": [{ "sku": "GEAR-40", "quantity": 1, "unitPrice": 1.0 }] }),
    )
    .await
    .error(StatusCode::CONFLICT, "state_conflict");
    assert_eq!(app.get(&path, &token).await.data(StatusCode::OK), started);
    let completed = app
        .patch(&path, &token, json!({ "status": "completed" }))
        .await
        .data(StatusCode::OK);
    let reopened = app
        .patch(&path, &token, json!({ "status": "cancelled" }))
        .await
        .error(StatusCode::CONFLICT, "state_conflict");
    assert!(reopened.contains("status"), "{reopened}");
    assert_eq!(app.get(&path, &token).await.data(StatusCode::OK), completed);

    // An order starts pending: a create may not jump the flow.
    let mut jumped = new_order("SKU-J");
    jumped["status"] = json!("completed");
    let refused = app
        .post("/orders", &token, jumped)
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        refused.contains("status: must be pending when created"),
        "{refused}"
    );

    // List, in creation order, by pages.
    let second = app.create("/orders", &token, new_order("SKU-2")).await;
    let third = app.create("/orders", &token, new_order("SKU-3")).await;
    let ids = |page: Value| -> Vec<String> {
        page.as_array()
            .expect("a list")
            .iter()
            .map(|record| record["id"].as_str().expect("an id").to_owned())
            .collect()
    };
    let all = app.get("/orders", &token).await.data(StatusCode::OK);
    assert_eq!(ids(all), [id.as_str(), second.as_str(), third.as_str()]);
    let page = app
        .get("/orders?limit=2&skip=1", &token)
        .await
        .data(StatusCode::OK);
    assert_eq!(ids(page), [second.as_str(), third.as_str()]);
    let page = app
        .get("/orders?limit=1", &token)
        .await
        .data(StatusCode::OK);
    assert_eq!(ids(page), [id.as_str()]);
    let page = app.get("/orders?skip=3", &token).await.data(StatusCode::OK);
    assert_eq!(page, json!([]));

    // Delete.
    let deleted = app.delete(&path, &token).await.data(StatusCode::OK);
    assert_eq!(deleted, json!({ "id": id, "deleted": true }));
    app.get(&path, &token)
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(stored(app.main(), "orders", &id).await.is_none());
    assert_eq!(count(app.main(), "orders").await, 2);
    assert_eq!(count(app.masteradmin(), "orders").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn health_is_200_with_both_roles_connected_when_the_server_is_up() {
    let app = with_two_databases().await;

    let health = app
        .send(Method::GET, "/health", None, None)
        .await
        .data(StatusCode::OK);
    // Latencies are for master admins; anyone sees up or down.
    let master = app.token(CallerRole::MASTER_ADMIN);
    let detailed = app
        .send(Method::GET, "/health", Some(&master), None)
        .await
        .data(StatusCode::OK);

    assert_eq!(health["status"], "ok", "{health}");
    for role in ["main", "masteradmin"] {
        assert_eq!(health["roles"][role]["state"], "connected", "{health}");
        assert_eq!(health["roles"][role]["up"], true, "{health}");
        assert!(health["roles"][role].get("pingMs").is_none(), "{health}");
        assert!(detailed["roles"][role]["pingMs"].is_number(), "{detailed}");
    }
    app.finish().await;
}

#[tokio::test]
async fn health_is_503_and_names_the_role_whose_server_is_down() {
    for (down, up) in [
        (ports::Role::MASTERADMIN, "main"),
        (ports::Role::MAIN, "masteradmin"),
    ] {
        let app = with_role_down(down).await;

        let reply = app.send(Method::GET, "/health", None, None).await;

        let health = reply.data(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(health["status"], "degraded", "{health}");
        let down = &health["roles"][down.as_str()];
        assert_ne!(down["state"], "connected", "{health}");
        assert!(down["error"].is_string(), "{health}");
        assert!(down.get("pingMs").is_none(), "{health}");
        assert_eq!(health["roles"][up]["state"], "connected", "{health}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_list_leaves_out_a_stored_document_it_cannot_read_and_says_so() {
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let good = app.create("/branches", &token, branch("Lyon")).await;
    let broken = ObjectId::new();
    app.main()
        .collection::<mongodb::bson::Document>("branches")
        .insert_one(mongodb::bson::doc! { "_id": broken, "name": 5, "location": "x" })
        .await
        .unwrap();

    let listed = app.get("/branches", &token).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["meta"], json!({ "unreadable": 1 }));
    let ids: Vec<&Value> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["id"])
        .collect();
    assert_eq!(ids, [&json!(good)]);
    let by_id = app
        .get(&format!("/branches/{}", broken.to_hex()), &token)
        .await;
    assert_eq!(by_id.status, StatusCode::INTERNAL_SERVER_ERROR);
    app.finish().await;
}

#[tokio::test]
async fn a_reference_to_a_record_that_does_not_exist_is_a_422_naming_the_field_and_stores_nothing()
{
    let app = with_two_databases().await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let lyon = app.create("/branches", &token, branch("Lyon")).await;
    let item = json!([{ "sku": "GEAR-40", "quantity": 1, "unitPrice": 1.0 }]);
    // A branch's id where a customer's belongs: the id exists, not as a customer.
    let refused = [
        (
            "/orders",
            order_at(&lyon, &lyon, item.clone()),
            "customerId",
        ),
        (
            "/machines",
            json!({ "branchId": ObjectId::new().to_hex(), "name": "Press", "serialNumber": "SN-1" }),
            "branchId",
        ),
        (
            "/customers",
            json!({ "branchId": ObjectId::new().to_hex(), "name": "Acme",
                    "email": "a@example.com", "phone": "+33 4 72 00 00 00" }),
            "branchId",
        ),
    ];
    for (path, body, field) in refused {
        let reply = app.post(path, &token, body).await;
        let message = reply.error(StatusCode::UNPROCESSABLE_ENTITY, "reference_not_found");
        assert!(message.starts_with(field), "{path}: {message}");
    }
    for collection in ["orders", "machines", "customers"] {
        assert_eq!(count(app.main(), collection).await, 0, "{collection}");
    }
    app.finish().await;
}
