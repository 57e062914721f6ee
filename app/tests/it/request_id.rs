//! Request ids: every response carries `x-request-id`; a caller's well-formed one is echoed,
//! a `traceparent`'s trace id is used, and a malformed or oversized one is replaced.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tests::service::TestService;
use tower::ServiceExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The status and `x-request-id` of a request to `target` with `headers`.
async fn request_id(target: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let service = TestService::in_memory().await;
    let mut request = Request::builder().uri(target);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = service
        .router()
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let ids: Vec<_> = response.headers().get_all("x-request-id").iter().collect();
    assert_eq!(ids.len(), 1, "one x-request-id: {ids:?}");
    (response.status(), ids[0].to_str().unwrap().to_owned())
}

fn is_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[tokio::test]
async fn every_response_carries_a_request_id_even_errors_and_unknown_routes() {
    for target in ["/health/live", "/branches", "/nowhere"] {
        let (status, id) = request_id(target, &[]).await;
        assert!(is_generated(&id), "{target} ({status}): {id:?}");
    }
    let (_, first) = request_id("/health/live", &[]).await;
    let (_, second) = request_id("/health/live", &[]).await;
    assert_ne!(first, second, "a new id per request");
}

#[tokio::test]
async fn a_well_formed_x_request_id_is_echoed() {
    for given in [
        "req-42",
        "3f2c1e6a-aa1b-4c8e-9d2f-0123456789ab",
        &"a".repeat(128),
    ] {
        let (_, id) = request_id("/branches", &[("x-request-id", given)]).await;
        assert_eq!(id, given);
    }
}

#[tokio::test]
async fn a_traceparent_gives_its_trace_id_before_any_x_request_id() {
    let traceparent = format!("00-{TRACE_ID}-00f067aa0ba902b7-01");
    let (_, id) = request_id("/health/live", &[("traceparent", &traceparent)]).await;
    assert_eq!(id, TRACE_ID);
    let both = [
        ("traceparent", traceparent.as_str()),
        ("x-request-id", "req-42"),
    ];
    let (_, id) = request_id("/health/live", &both).await;
    assert_eq!(id, TRACE_ID);
    // A malformed traceparent is ignored: the x-request-id is used, else a new id.
    let bad = format!("00-{TRACE_ID}-0000000000000000-01");
    let (_, id) = request_id(
        "/health/live",
        &[("traceparent", &bad), ("x-request-id", "req-42")],
    )
    .await;
    assert_eq!(id, "req-42");
    let (_, id) = request_id("/health/live", &[("traceparent", &bad)]).await;
    assert!(is_generated(&id), "{id:?}");
}

#[tokio::test]
async fn a_malformed_or_oversized_x_request_id_is_replaced_by_a_generated_one() {
    let oversized = "a".repeat(129);
    for given in [oversized.as_str(), "two words", "", "tab\there"] {
        let (_, id) = request_id("/health/live", &[("x-request-id", given)]).await;
        assert!(is_generated(&id), "{given:?} gave {id:?}");
    }
    // Not visible ASCII (obs-text bytes a header may carry).
    let service = TestService::in_memory().await;
    let mut request = Request::builder()
        .uri("/health/live")
        .body(Body::empty())
        .unwrap();
    request.headers_mut().insert(
        "x-request-id",
        axum::http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    );
    let response = service.router().clone().oneshot(request).await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(is_generated(id), "{id:?}");
}
