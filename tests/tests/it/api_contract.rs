//! The harness's contract check holds the service to its own `/openapi.json`: an answer with
//! an undocumented field or status fails the test that reads it, and every documented
//! operation is served.

use app::auth::CallerRole;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use tests::service::TestService;

async fn a_branch(app: &TestService) -> (String, Value) {
    let token = app.token(CallerRole::USER);
    let id = app.create_branch(&token, "Lyon").await;
    let path = format!("/branches/{id}");
    let body = app.get(&path, &token).await.body;
    (path, body)
}

#[tokio::test]
#[should_panic(expected = "its documented schema")]
async fn an_answer_with_a_field_the_document_does_not_name_fails_the_test() {
    let app = TestService::in_memory().await;
    let (path, mut body) = a_branch(&app).await;
    app.contract()
        .check(&Method::GET, &path, StatusCode::OK, &body);
    body["data"]["discount"] = json!(5);
    app.contract()
        .check(&Method::GET, &path, StatusCode::OK, &body);
}

#[tokio::test]
#[should_panic(expected = "undocumented 418")]
async fn an_answer_with_a_status_the_document_does_not_list_fails_the_test() {
    let app = TestService::in_memory().await;
    let (path, body) = a_branch(&app).await;
    app.contract()
        .check(&Method::GET, &path, StatusCode::IM_A_TEAPOT, &body);
}

/// Every operation the document lists is served: called with no token, none answers the
/// router's "no such route" or "method not allowed".
#[tokio::test]
async fn every_documented_operation_is_served_and_every_route_is_documented() {
    let app = TestService::in_memory().await;
    let paths = app.contract().document()["paths"]
        .as_object()
        .expect("paths")
        .clone();
    for route in [
        "/branches",
        "/branches/{id}",
        "/customers",
        "/customers/{id}",
        "/orders",
        "/orders/{id}",
        "/machines",
        "/machines/{id}",
        "/master-admins",
        "/master-admins/{id}",
        "/admins",
        "/admins/{id}",
        "/dashboard",
        "/me",
        "/counts",
        "/health",
        "/health/live",
        "/health/ready",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(route), "{route} is not documented");
    }
    for (template, item) in paths {
        let path = template.replace("{id}", "65f0a1b2c3d4e5f6a7b8c9d0");
        for method in item.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("a method");
            let reply = app.send(method.clone(), &path, None, None).await;
            let code = &reply.body["error"]["code"];
            assert!(
                code != "method_not_allowed" && reply.body["error"]["message"] != "no such route",
                "{method} {template} is documented but not served: {}",
                reply.body
            );
        }
    }
}
