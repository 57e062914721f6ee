//! Prometheus metrics: requests counted by route template and status class, never by id; the
//! API's own listener has no `/metrics`; the metrics listener serves them.
//!
//! The `metrics` recorder is global to the process, so these tests have their own binary and
//! share one recorder (`install` is idempotent): each test uses requests no other test here
//! makes before asserting exact counts. (The database metrics have a binary of their own in
//! `tests`, for the same reason.)
#![allow(clippy::unwrap_used)] // test set-up: a failure here is a broken test, shown by the panic

use std::time::Duration;

use app::auth::CallerRole;
use app::config::Cli;
use app::http::{self, metrics, ServeLimits};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use clap::Parser;
use http_body_util::BodyExt;
use testkit::prometheus::Scrape;
use tests::service::TestService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// The back office in memory, its router and a token of an ordinary user.
async fn back_office() -> (Router, String) {
    let service = TestService::in_memory().await;
    let token = service.token(CallerRole::USER);
    (service.router().clone(), token)
}

/// Sends `method target` (with `body` as JSON if given) and returns the status, the
/// `Location` header and the body.
async fn send(
    router: &Router,
    token: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let request = Request::builder()
        .method(method)
        .uri(target)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |body| Body::from(body.to_owned())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|value| value.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The rendered metrics, through the metrics listener's router.
async fn scrape() -> (Scrape, String) {
    let handle = metrics::install().unwrap();
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = metrics::router(handle).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (Scrape::parse(&text), text)
}

/// 24 hexadecimal digits: the shape of an ObjectId.
fn looks_like_object_id(text: &str) -> bool {
    text.as_bytes()
        .windows(24)
        .any(|window| window.iter().all(u8::is_ascii_hexdigit))
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_class_and_never_by_id() {
    // Another test answers an unmatched route too: one at a time, and counted from here.
    let _alone = testkit::alone::alone();
    metrics::install().unwrap();
    let unmatched_before = scrape()
        .await
        .0
        .value(
            "http_requests_total",
            &[("method", "GET"), ("route", "unmatched"), ("status", "4xx")],
        )
        .unwrap_or(0.0);
    let (router, token) = back_office().await;
    let mut ids = Vec::new();
    for name in ["Metrics North", "Metrics South"] {
        let body = format!(r#"{{"name": "{name}", "location": "Dock 1"}}"#);
        let (status, location, reply) =
            send(&router, &token, "POST", "/branches", Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        ids.push(location.unwrap());
    }
    for location in ids.iter().chain(&ids).chain(&ids[..1]) {
        let (status, _, reply) = send(&router, &token, "GET", location, None).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    let unknown = "/branches/65f0a1b2c3d4e5f6a7b8c9d0";
    assert_eq!(
        send(&router, &token, "GET", unknown, None).await.0,
        StatusCode::NOT_FOUND
    );
    let nowhere = "/nowhere/65f0a1b2c3d4e5f6a7b8c9d1";
    assert_eq!(
        send(&router, &token, "GET", nowhere, None).await.0,
        StatusCode::NOT_FOUND
    );

    let (scraped, output) = scrape().await;
    let requests = |method, route, status| {
        scraped.value(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(
        requests("GET", "/branches/{id}", "2xx"),
        Some(5.0),
        "{output}"
    );
    assert_eq!(
        requests("GET", "/branches/{id}", "4xx"),
        Some(1.0),
        "{output}"
    );
    assert_eq!(requests("POST", "/branches", "2xx"), Some(2.0), "{output}");
    assert_eq!(
        requests("GET", "unmatched", "4xx"),
        Some(unmatched_before + 1.0),
        "{output}"
    );
    let timed = scraped.value(
        "http_request_duration_seconds_count",
        &[
            ("method", "GET"),
            ("route", "/branches/{id}"),
            ("status", "2xx"),
        ],
    );
    assert_eq!(timed, Some(5.0), "{output}");

    let values: Vec<&str> = scraped.label_values().collect();
    assert!(values.contains(&"/branches/{id}"), "{values:?}");
    let ids: Vec<&str> = values
        .into_iter()
        .filter(|value| looks_like_object_id(value))
        .collect();
    assert!(ids.is_empty(), "label values that look like ids: {ids:?}");
}

#[tokio::test]
async fn health_pings_are_timed_per_client_with_the_roles_it_serves() {
    metrics::install().unwrap();
    let (router, token) = back_office().await;
    let (status, _, reply) = send(&router, &token, "GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (scraped, output) = scrape().await;
    // In memory each role is a client of its own; on MongoDB roles sharing a client are
    // pinged once, labelled `roles="main,masteradmin"` (tests/tests/metrics.rs).
    for roles in ["main", "masteradmin"] {
        let pings = scraped.value("mongodb_ping_duration_seconds_count", &[("roles", roles)]);
        assert!(pings >= Some(1.0), "{roles}: {output}");
    }
}

#[tokio::test]
async fn the_api_has_no_metrics_route_and_no_metrics_port_is_the_default() {
    let _alone = testkit::alone::alone();
    let (router, token) = back_office().await;
    let (status, _, _) = send(&router, &token, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        Cli::try_parse_from(["app"]).unwrap().settings.metrics_port,
        None
    );
    let settings = Cli::try_parse_from(["app", "--metrics-port", "9464"]).unwrap();
    assert_eq!(settings.settings.metrics_port, Some(9464));
}

#[tokio::test]
async fn the_metrics_listener_serves_the_prometheus_text_on_its_own_port() {
    let handle = metrics::install().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(http::serve(
        listener,
        metrics::router(handle),
        ServeLimits::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut raw))
        .await
        .unwrap()
        .unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("# TYPE"), "{raw}");
    let _ = stop.send(());
    serving.await.unwrap();
}
