//! The Lambda front door: API Gateway events, REST API (payload 1.0) and HTTP API (payload
//! 2.0), parsed by `lambda_http` as the runtime parses them and served by
//! `app::lambda::lambda_router`, on the in-memory backend.
//!
//! Behind an authorizer the caller is who the authorizer says, with no `Authorization`
//! header; without one, the bearer token is checked as over HTTP.

use std::time::Duration;

use app::auth::CallerRole;
use app::backend::Application;
use app::config::{AppConfig, BackendConfig};
use app::lambda::lambda_router;
use app::registry::Bindings;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

const SECRET: &str = "lambda-events-secret-0123456789";
const TOKEN_TTL: Duration = Duration::from_secs(600);

/// The service on the in-memory backend. A secret is given, so no demo records are written.
async fn application() -> Application {
    let config = AppConfig {
        backend: BackendConfig::Memory,
        jwt_secret: Some(SecretString::from(SECRET)),
        bindings: Bindings::default(),
        request_timeout: Duration::from_secs(10),
        ping_timeout: Duration::from_secs(1),
    };
    Application::build(config)
        .await
        .expect("the application builds")
}

/// A REST API (payload 1.0) proxy event. `authorizer` is the context a Lambda authorizer
/// returned, which API Gateway puts flat in `requestContext.authorizer`.
fn rest_api_event(method: &str, path: &str, authorizer: Option<Value>, headers: Value) -> String {
    let mut context = json!({
        "accountId": "123456789012",
        "resourceId": "us4z18",
        "requestId": "41b45ea3-70b5-11e6-b7bd-69b5aaebc7d9",
        "requestTimeEpoch": 1583798639428_u64,
        "identity": { "sourceIp": "192.168.100.1", "userAgent": "tests" },
        "resourcePath": "/{proxy+}",
        "httpMethod": method,
        "apiId": "wt6mne2s9k",
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": null,
        "pathParameters": { "proxy": path.trim_start_matches('/') },
        "stageVariables": null,
        "requestContext": context,
        "body": null,
        "isBase64Encoded": false,
    })
    .to_string()
}

/// The same event as API Gateway sends it from the stage `stage` of a deployed REST API.
fn rest_api_event_on_stage(stage: &str, path: &str, authorizer: Value) -> String {
    let mut event: Value =
        serde_json::from_str(&rest_api_event("GET", path, Some(authorizer), json!({})))
            .expect("the event is JSON");
    event["requestContext"]["stage"] = json!(stage);
    event.to_string()
}

/// An HTTP API (payload 2.0) event on the `$default` stage. `authorizer` is
/// `requestContext.authorizer`: `{"jwt": {"claims": …}}` or `{"lambda": {…}}`.
fn http_api_event(method: &str, path: &str, authorizer: Option<Value>, headers: Value) -> String {
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": "api-id",
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.168.100.1",
            "userAgent": "tests",
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390_u64,
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false,
    })
    .to_string()
}

/// The authorizer context of a REST API Lambda authorizer.
fn lambda_authorizer(sub: &str, role: &str) -> Value {
    json!({ "principalId": sub, "sub": sub, "role": role, "integrationLatency": 12 })
}

/// The `requestContext.authorizer` of an HTTP API JWT authorizer.
fn jwt_authorizer(sub: &str, role: &str) -> Value {
    json!({ "jwt": { "claims": { "sub": sub, "role": role, "iss": "https://issuer.example" }, "scopes": null } })
}

fn headers(pairs: &[(&str, &str)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), json!(value)))
        .collect();
    Value::Object(map)
}

/// Serves `event` as the Lambda runtime would: parsed by `lambda_http`, then the router.
async fn invoke(application: &Application, event: &str) -> (StatusCode, Value) {
    let request = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let response = lambda_router(application)
        .oneshot(request)
        .await
        .expect("the router is infallible");
    read(response).await
}

/// Serves an HTTP request through the plain router, as `app serve` does.
async fn over_http(application: &Application, request: Request<Body>) -> (StatusCode, Value) {
    let response = app::http::router(application.state.clone())
        .oneshot(request)
        .await
        .expect("the router is infallible");
    read(response).await
}

async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a readable body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "a {status} body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

fn http_get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("a valid request")
}

/// Creates a branch through the HTTP router and returns its id.
async fn create_branch(application: &Application, token: &str, name: &str) -> String {
    let request = Request::post("/branches")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "name": name, "location": "Via Nizza 8" }).to_string(),
        ))
        .expect("a valid request");
    let (status, body) = over_http(application, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().expect("an id").to_owned()
}

/// Creates a master admin through the HTTP router and returns its id.
async fn create_master_admin(application: &Application, token: &str) -> String {
    let request = Request::post("/master-admins")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": "grace", "fullName": "Grace Hopper", "email": "grace@example.com" })
                .to_string(),
        ))
        .expect("a valid request");
    let (status, body) = over_http(application, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().expect("an id").to_owned()
}

fn assert_error(reply: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(reply.0, status, "{}", reply.1);
    assert_eq!(reply.1["error"]["code"], code, "{}", reply.1);
    assert!(reply.1["error"]["message"].is_string(), "{}", reply.1);
}

#[tokio::test]
async fn a_rest_api_event_whose_authorizer_says_master_admin_reaches_the_dashboard_without_a_token()
{
    let application = application().await;
    let event = rest_api_event(
        "GET",
        "/dashboard",
        Some(lambda_authorizer(
            "6650c0ffee0000000000abcd",
            "master_admin",
        )),
        headers(&[("Host", "wt6mne2s9k.execute-api.us-west-2.amazonaws.com")]),
    );

    let (status, body) = invoke(&application, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "data": { "totalAdmins": 0, "totalBranches": 0, "totalOrders": 0 } })
    );
}

#[tokio::test]
async fn a_rest_api_event_whose_authorizer_says_user_or_admin_is_forbidden_the_dashboard() {
    let application = application().await;
    for role in ["user", "admin"] {
        let event = rest_api_event(
            "GET",
            "/dashboard",
            Some(lambda_authorizer("u-1", role)),
            json!({}),
        );
        assert_error(
            &invoke(&application, &event).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        // The business routes stay open to them.
        let event = rest_api_event(
            "GET",
            "/branches",
            Some(lambda_authorizer("u-1", role)),
            json!({}),
        );
        assert_eq!(invoke(&application, &event).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn an_event_without_an_authorizer_or_a_token_is_unauthorized() {
    let application = application().await;
    let events = [
        rest_api_event("GET", "/dashboard", None, json!({})),
        rest_api_event("GET", "/branches", None, json!({})),
        http_api_event("GET", "/dashboard", None, json!({})),
        http_api_event("GET", "/branches", None, json!({})),
    ];
    for event in events {
        assert_error(
            &invoke(&application, &event).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
    }
}

#[tokio::test]
async fn an_authorizer_context_with_an_unknown_role_or_no_subject_grants_nothing() {
    let application = application().await;
    let contexts = [
        json!({ "sub": "x", "role": "superuser" }),
        json!({ "sub": "x", "role": "MASTER_ADMIN" }),
        json!({ "role": "master_admin" }),
        json!({ "sub": "x" }),
    ];
    for context in contexts {
        let event = rest_api_event("GET", "/dashboard", Some(context.clone()), json!({}));
        let reply = invoke(&application, &event).await;
        assert_eq!(reply.0, StatusCode::UNAUTHORIZED, "{context}: {}", reply.1);
    }
}

#[tokio::test]
async fn an_http_api_event_with_jwt_authorizer_claims_reaches_the_dashboard() {
    let application = application().await;
    let token = application
        .keys()
        .issue("setup", CallerRole::MasterAdmin, TOKEN_TTL);
    create_branch(&application, &token, "Turin").await;

    let event = http_api_event(
        "GET",
        "/dashboard",
        Some(jwt_authorizer("6650c0ffee0000000000abcd", "master_admin")),
        headers(&[("host", "id.execute-api.us-east-1.amazonaws.com")]),
    );
    let (status, body) = invoke(&application, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["totalBranches"], 1, "{body}");

    let event = http_api_event(
        "GET",
        "/dashboard",
        Some(jwt_authorizer("u-1", "user")),
        json!({}),
    );
    assert_error(
        &invoke(&application, &event).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

#[tokio::test]
async fn an_http_api_event_with_a_lambda_authorizer_context_reaches_the_dashboard() {
    let application = application().await;
    let authorizer =
        json!({ "lambda": { "sub": "6650c0ffee0000000000abcd", "role": "master_admin" } });
    let event = http_api_event("GET", "/dashboard", Some(authorizer), json!({}));

    let (status, body) = invoke(&application, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn without_an_authorizer_the_bearer_token_is_checked_and_role_headers_are_ignored() {
    let application = application().await;
    let user = application.keys().issue("u-1", CallerRole::User, TOKEN_TTL);
    let master = application
        .keys()
        .issue("m-1", CallerRole::MasterAdmin, TOKEN_TTL);

    let forged = headers(&[
        ("authorization", &format!("Bearer {user}")),
        ("x-user-role", "master_admin"),
    ]);
    for event in [
        rest_api_event("GET", "/master-admins", None, forged.clone()),
        http_api_event("GET", "/master-admins", None, forged),
    ] {
        assert_error(
            &invoke(&application, &event).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    let bearer = headers(&[("authorization", &format!("Bearer {master}"))]);
    for event in [
        rest_api_event("GET", "/master-admins", None, bearer.clone()),
        http_api_event("GET", "/master-admins", None, bearer),
    ] {
        let (status, body) = invoke(&application, &event).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn a_lambda_answer_carries_the_same_json_as_the_http_answer() {
    let application = application().await;
    let setup = application
        .keys()
        .issue("setup", CallerRole::MasterAdmin, TOKEN_TTL);
    let grace = create_master_admin(&application, &setup).await;
    for name in ["Lyon", "Turin", "Porto"] {
        create_branch(&application, &setup, name).await;
    }
    let token = application
        .keys()
        .issue(&grace, CallerRole::MasterAdmin, TOKEN_TTL);
    let missing = "/branches/0123456789abcdef01234567";

    for path in ["/dashboard", "/me", "/branches", "/master-admins", missing] {
        let over_http = over_http(&application, http_get(path, &token)).await;
        let rest = invoke(
            &application,
            &rest_api_event(
                "GET",
                path,
                Some(lambda_authorizer(&grace, "master_admin")),
                json!({}),
            ),
        )
        .await;
        let http_api = invoke(
            &application,
            &http_api_event(
                "GET",
                path,
                Some(jwt_authorizer(&grace, "master_admin")),
                json!({}),
            ),
        )
        .await;
        assert_eq!(rest, over_http, "{path}: REST API event");
        assert_eq!(http_api, over_http, "{path}: HTTP API event");
    }
    let (status, me) = over_http(&application, http_get("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({ "data": { "fullName": "Grace Hopper", "totalBranches": 3 } })
    );
}

/// API Gateway sends a REST API's events with the stage (`Prod` is SAM's default) in
/// `requestContext.stage` and the path without it. `lambda_http` puts the stage back in front
/// of the path (`/Prod/dashboard`), which the router does not serve unless the front door
/// removes it.
#[tokio::test]
async fn a_rest_api_event_from_a_named_stage_reaches_the_route() {
    let application = application().await;
    let event = rest_api_event_on_stage(
        "Prod",
        "/dashboard",
        lambda_authorizer("6650c0ffee0000000000abcd", "master_admin"),
    );

    let (status, body) = invoke(&application, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["totalBranches"], 0, "{body}");
}
