//! The Lambda front door: API Gateway events, REST API (payload 1.0) and HTTP API (payload
//! 2.0), parsed by `lambda_http` as the runtime parses them and served by
//! `app::lambda::lambda_router`: on the in-memory backend, and on the test server to show that
//! invocations reuse one database client.
//!
//! Behind an authorizer the caller is who the authorizer says, with no `Authorization`
//! header; without one, the bearer token is checked as over HTTP.

use app::auth::CallerRole;
use app::lambda::lambda_router;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use tests::service::{Reply, TestService};
use tower::ServiceExt;

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
async fn invoke(service: &TestService, event: &str) -> Reply {
    let request = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let response = lambda_router(service.application())
        .oneshot(request)
        .await
        .expect("the router is infallible");
    Reply::read(response).await
}

/// A branch body with `name`.
fn branch(name: &str) -> Value {
    json!({ "name": name, "location": "Via Nizza 8" })
}

#[tokio::test]
async fn a_rest_api_event_whose_authorizer_says_master_admin_reaches_the_dashboard_without_a_token()
{
    let service = TestService::in_memory().await;
    let event = rest_api_event(
        "GET",
        "/dashboard",
        Some(lambda_authorizer(
            "6650c0ffee0000000000abcd",
            "master_admin",
        )),
        headers(&[("Host", "wt6mne2s9k.execute-api.us-west-2.amazonaws.com")]),
    );

    let Reply { status, body } = invoke(&service, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "data": { "totalAdmins": 0, "totalBranches": 0, "totalOrders": 0 } })
    );
}

#[tokio::test]
async fn a_rest_api_event_whose_authorizer_says_user_or_admin_is_forbidden_the_dashboard() {
    let service = TestService::in_memory().await;
    for role in ["user", "admin"] {
        let event = rest_api_event(
            "GET",
            "/dashboard",
            Some(lambda_authorizer("u-1", role)),
            json!({}),
        );
        invoke(&service, &event)
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        // The business routes stay open to them.
        let event = rest_api_event(
            "GET",
            "/branches",
            Some(lambda_authorizer("u-1", role)),
            json!({}),
        );
        assert_eq!(invoke(&service, &event).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn an_event_without_an_authorizer_or_a_token_is_unauthorized() {
    let service = TestService::in_memory().await;
    let events = [
        rest_api_event("GET", "/dashboard", None, json!({})),
        rest_api_event("GET", "/branches", None, json!({})),
        http_api_event("GET", "/dashboard", None, json!({})),
        http_api_event("GET", "/branches", None, json!({})),
    ];
    for event in events {
        invoke(&service, &event)
            .await
            .error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn an_authorizer_context_with_an_unknown_role_or_no_subject_grants_nothing() {
    let service = TestService::in_memory().await;
    let contexts = [
        json!({ "sub": "x", "role": "superuser" }),
        json!({ "sub": "x", "role": "MASTER_ADMIN" }),
        json!({ "role": "master_admin" }),
        json!({ "sub": "x" }),
    ];
    for context in contexts {
        let event = rest_api_event("GET", "/dashboard", Some(context.clone()), json!({}));
        let reply = invoke(&service, &event).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{context}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn an_http_api_event_with_jwt_authorizer_claims_reaches_the_dashboard() {
    let service = TestService::in_memory().await;
    let token = service.token_for("setup", CallerRole::MASTER_ADMIN);
    service.create("/branches", &token, branch("Turin")).await;

    let event = http_api_event(
        "GET",
        "/dashboard",
        Some(jwt_authorizer("6650c0ffee0000000000abcd", "master_admin")),
        headers(&[("host", "id.execute-api.us-east-1.amazonaws.com")]),
    );
    let Reply { status, body } = invoke(&service, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["totalBranches"], 1, "{body}");

    let event = http_api_event(
        "GET",
        "/dashboard",
        Some(jwt_authorizer("u-1", "user")),
        json!({}),
    );
    invoke(&service, &event)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn an_http_api_event_with_a_lambda_authorizer_context_reaches_the_dashboard() {
    let service = TestService::in_memory().await;
    let authorizer =
        json!({ "lambda": { "sub": "6650c0ffee0000000000abcd", "role": "master_admin" } });
    let event = http_api_event("GET", "/dashboard", Some(authorizer), json!({}));

    let Reply { status, body } = invoke(&service, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn without_an_authorizer_the_bearer_token_is_checked_and_role_headers_are_ignored() {
    let service = TestService::in_memory().await;
    let user = service.token_for("u-1", CallerRole::USER);
    let master = service.token_for("m-1", CallerRole::MASTER_ADMIN);

    let forged = headers(&[
        ("authorization", &format!("Bearer {user}")),
        ("x-user-role", "master_admin"),
    ]);
    for event in [
        rest_api_event("GET", "/master-admins", None, forged.clone()),
        http_api_event("GET", "/master-admins", None, forged),
    ] {
        invoke(&service, &event)
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
    }
    let bearer = headers(&[("authorization", &format!("Bearer {master}"))]);
    for event in [
        rest_api_event("GET", "/master-admins", None, bearer.clone()),
        http_api_event("GET", "/master-admins", None, bearer),
    ] {
        let Reply { status, body } = invoke(&service, &event).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn a_lambda_answer_carries_the_same_json_as_the_http_answer() {
    let service = TestService::in_memory().await;
    let setup = service.token_for("setup", CallerRole::MASTER_ADMIN);
    let grace = service
        .create(
            "/master-admins",
            &setup,
            json!({ "username": "grace", "fullName": "Grace Hopper", "email": "grace@example.com" }),
        )
        .await;
    for name in ["Lyon", "Turin", "Porto"] {
        service.create("/branches", &setup, branch(name)).await;
    }
    let token = service.token_for(&grace, CallerRole::MASTER_ADMIN);
    let missing = "/branches/0123456789abcdef01234567";

    for path in ["/dashboard", "/me", "/branches", "/master-admins", missing] {
        let over_http = service.get(path, &token).await;
        let rest = invoke(
            &service,
            &rest_api_event(
                "GET",
                path,
                Some(lambda_authorizer(&grace, "master_admin")),
                json!({}),
            ),
        )
        .await;
        let http_api = invoke(
            &service,
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
    let Reply { status, body: me } = service.get("/me", &token).await;
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
    let service = TestService::in_memory().await;
    let event = rest_api_event_on_stage(
        "Prod",
        "/dashboard",
        lambda_authorizer("6650c0ffee0000000000abcd", "master_admin"),
    );

    let Reply { status, body } = invoke(&service, &event).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["totalBranches"], 0, "{body}");
}

#[tokio::test]
async fn every_invocation_of_an_execution_environment_reuses_its_one_database_client() {
    let service = TestService::on_fresh_databases("lambda_reuse").await;
    // As `app::lambda::run` does: the application and its router are built once, before the
    // first event, and serve every invocation that execution environment receives.
    let router = lambda_router(service.application());
    assert_eq!(
        service.manager().client_count(),
        0,
        "nothing connects before the first event"
    );
    for invocation in 0..5 {
        let authorizer = lambda_authorizer("0123456789abcdef01234567", "master_admin");
        let event = rest_api_event("GET", "/dashboard", Some(authorizer), json!({}));
        let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
        let response = router.clone().oneshot(request).await.expect("infallible");
        let reply = Reply::read(response).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "invocation {invocation}: {:?}",
            reply.body
        );
    }
    assert_eq!(
        service.manager().client_count(),
        1,
        "both roles, five invocations, one client"
    );
    service.finish().await;
}
