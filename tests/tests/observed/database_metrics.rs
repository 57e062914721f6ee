//! Prometheus metrics of the database clients, through `app::http::router` to the test
//! server: the pool gauges, command counts and durations, the client's state and the health
//! pings appear labelled with the roles the client serves (`main,masteradmin`, sharing one
//! client), and no label carries an id.
//!
//! The `metrics` recorder is global to the process: this test has the process to itself and
//! installs the recorder before any client is created. (The HTTP metrics have a binary of their
//! own in `app`, for the same reason.)

use app::auth::CallerRole;
use app::http::metrics;
use axum::http::{Method, StatusCode};
use serde_json::json;
use testkit::prometheus::Scrape;
use tests::service::TestService;

#[tokio::test]
async fn pool_command_state_and_ping_metrics_name_the_roles_of_the_shared_client() {
    let _alone = testkit::alone::alone();
    let handle = metrics::install().expect("the only recorder of this binary");
    let app = TestService::on_fresh_databases("metrics_mongo").await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    let created = app
        .send(
            Method::POST,
            "/branches",
            Some(&token),
            Some(json!({"name": "Metrics", "location": "Dock 3"})),
        )
        .await
        .data(StatusCode::CREATED);
    let id = created["id"].as_str().expect("an id").to_owned();
    for _ in 0..3 {
        app.send(Method::GET, &format!("/branches/{id}"), Some(&token), None)
            .await
            .data(StatusCode::OK);
    }
    app.send(Method::GET, "/admins", Some(&token), None)
        .await
        .data(StatusCode::OK);
    app.health().await.data(StatusCode::OK);

    let roles = ("roles", "main,masteradmin");
    // The driver checks a connection in from a task of its own, just after the reply: wait
    // for the last one.
    let mut output = handle.render();
    let value = |output: &str, name: &str, labels: &[(&str, &str)]| {
        Scrape::parse(output).value(name, labels)
    };
    for _ in 0..50 {
        if value(&output, "mongodb_pool_checked_out_connections", &[roles]) == Some(0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        output = handle.render();
    }
    let at_least_one = |name: &str, labels: &[(&str, &str)]| {
        let found = value(&output, name, labels);
        assert!(found >= Some(1.0), "{name} {labels:?}: {found:?}\n{output}");
    };
    at_least_one("mongodb_pool_open_connections", &[roles]);
    at_least_one("mongodb_pool_max_size", &[roles]);
    assert_eq!(
        value(&output, "mongodb_pool_checked_out_connections", &[roles]),
        Some(0.0),
        "every connection is back in the pool\n{output}"
    );
    assert_eq!(
        value(&output, "mongodb_pool_waiting_checkouts", &[roles]),
        Some(0.0),
        "{output}"
    );
    at_least_one(
        "mongodb_commands_total",
        &[roles, ("command", "insert"), ("outcome", "succeeded")],
    );
    let finds = value(
        &output,
        "mongodb_command_duration_seconds_count",
        &[roles, ("command", "find")],
    );
    assert!(
        finds >= Some(4.0),
        "three reads and a list: {finds:?}\n{output}"
    );
    assert_eq!(
        value(
            &output,
            "mongodb_client_state",
            &[roles, ("state", "connected")]
        ),
        Some(1.0),
        "{output}"
    );
    assert_eq!(
        value(
            &output,
            "mongodb_client_state",
            &[roles, ("state", "disconnected")]
        ),
        Some(0.0),
        "{output}"
    );
    at_least_one("mongodb_ping_duration_seconds_count", &[roles]);
    at_least_one(
        "http_requests_total",
        &[("route", "/branches/{id}"), ("status", "2xx")],
    );
    assert!(!output.contains(&id), "a record's id in a label:\n{output}");
    app.finish().await;
}
