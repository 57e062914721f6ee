//! `Idempotency-Key` on `POST` and CORS, through the whole router on the in-memory backend.

use app::auth::CallerRole;
use app::config::AppConfig;
use app::http::cors::CorsConfig;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use domain::{Branch, BranchName, Location};
use http_body_util::BodyExt;
use ports::Role;
use serde_json::{json, Value};
use tests::service::TestService;
use tower::ServiceExt;

const ALLOWED: &str = "https://a.example";

/// The back office in memory, with CORS for the origins `cors` lists.
async fn application(cors: &str) -> TestService {
    TestService::start(AppConfig {
        cors: CorsConfig::parse(cors).unwrap(),
        ..TestService::memory_config()
    })
    .await
}

fn token(application: &TestService, subject: &str) -> String {
    application.token_for(subject, CallerRole::USER)
}

/// A branch the customers belong to: customers reference a branch that must exist.
async fn branch(application: &TestService) -> String {
    let branch = Branch::new(
        BranchName::parse("Lyon").unwrap(),
        Location::parse("Forge").unwrap(),
    );
    let repository = application
        .application()
        .state
        .registry
        .repository::<Branch>(Role::MAIN);
    repository
        .unwrap()
        .create(branch)
        .await
        .unwrap()
        .id()
        .to_string()
}

fn customer(branch: &str, name: &str) -> Value {
    json!({
        "branchId": branch,
        "name": name,
        "email": "buyer@example.com",
        "phone": "+33 4 72 00 00 00",
    })
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn call(application: &TestService, request: Request<Body>) -> Reply {
    let response = application.router().clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn post(token: &str, key: Option<&str>, body: &Value) -> Request<Body> {
    let mut request = Request::post("/customers")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.body(Body::from(body.to_string())).unwrap()
}

async fn customers(application: &TestService) -> u64 {
    application
        .application()
        .state
        .registry
        .count_by_name(Role::MAIN, "customers")
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_answers_the_first_result_and_creates_one_record() {
    let application = application("").await;
    let branch = branch(&application).await;
    let token = token(&application, "caller-one");
    let body = customer(&branch, "Acme");
    let first = call(&application, post(&token, Some("order-7f3a"), &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let retry = call(&application, post(&token, Some("order-7f3a"), &body)).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert!(first.headers.get("idempotent-replayed").is_none());
    for header in ["location", "etag", "content-type"] {
        assert_eq!(
            retry.headers.get(header),
            first.headers.get(header),
            "{header}"
        );
    }
    assert_eq!(customers(&application).await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_422_and_another_caller_has_keys_of_its_own() {
    let application = application("").await;
    let branch = branch(&application).await;
    let one = token(&application, "caller-one");
    let two = token(&application, "caller-two");
    let first = call(
        &application,
        post(&one, Some("k-1"), &customer(&branch, "Acme")),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);

    let reused = call(
        &application,
        post(&one, Some("k-1"), &customer(&branch, "Other")),
    )
    .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["error"]["code"], "idempotency_key_reused");
    assert!(reused.body["error"]["message"].is_string());
    assert_eq!(customers(&application).await, 1);

    let theirs = call(
        &application,
        post(&two, Some("k-1"), &customer(&branch, "Acme")),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert!(theirs.headers.get("idempotent-replayed").is_none());
    assert_ne!(theirs.body["data"]["id"], first.body["data"]["id"]);
    assert_eq!(customers(&application).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_with_one_key_create_exactly_one_record() {
    let application = application("").await;
    let branch = branch(&application).await;
    let token = token(&application, "caller-one");
    let router = application.router().clone();
    let body = customer(&branch, "Acme");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let request = post(&token, Some("same-key"), &body);
            let router = router.clone();
            tokio::spawn(async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = response.into_body().collect().await.unwrap().to_bytes();
                (status, bytes)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert_eq!(customers(&application).await, 1);
    for (status, bytes) in &answers {
        assert_eq!(*status, StatusCode::CREATED);
        assert_eq!(bytes, &answers[0].1);
    }
}

#[tokio::test]
async fn a_malformed_key_is_a_400_and_no_key_creates_a_record_per_request() {
    let application = application("").await;
    let branch = branch(&application).await;
    let token = token(&application, "caller-one");
    let too_long = "k".repeat(256);
    for bad in ["", "with space", too_long.as_str()] {
        let reply = call(
            &application,
            post(&token, Some(bad), &customer(&branch, "Acme")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(reply.body["error"]["code"], "invalid_idempotency_key");
    }
    assert_eq!(customers(&application).await, 0);
    for _ in 0..2 {
        let reply = call(&application, post(&token, None, &customer(&branch, "Acme"))).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert!(reply.headers.get("idempotent-replayed").is_none());
    }
    assert_eq!(customers(&application).await, 2);
}

#[tokio::test]
async fn a_refused_body_or_token_keeps_nothing_so_the_key_then_creates_once() {
    let application = application("").await;
    let branch = branch(&application).await;
    let token = token(&application, "caller-one");
    let invalid = json!({ "name": "Acme", "extra": true });
    for _ in 0..2 {
        let refused = call(&application, post(&token, Some("k"), &invalid)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.headers.get("idempotent-replayed").is_none());
    }
    let anonymous = call(
        &application,
        post("not-a-token", Some("k"), &customer(&branch, "A")),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let created = call(
        &application,
        post(&token, Some("k"), &customer(&branch, "A")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let again = call(
        &application,
        post(&token, Some("k"), &customer(&branch, "A")),
    )
    .await;
    assert_eq!((again.status, &again.body), (created.status, &created.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(customers(&application).await, 1);
}

#[tokio::test]
async fn a_bad_key_without_a_token_is_the_401_of_authentication_first() {
    let application = application("").await;
    let branch = branch(&application).await;
    let reply = call(
        &application,
        post("not-a-token", Some("with space"), &customer(&branch, "A")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/customers")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,idempotency-key",
        )
        .body(Body::empty())
        .unwrap()
}

fn list(application: &TestService, origin: &str) -> Request<Body> {
    Request::get("/customers")
        .header("origin", origin)
        .header(
            "authorization",
            format!("Bearer {}", token(application, "caller-one")),
        )
        .body(Body::empty())
        .unwrap()
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn an_allowed_origin_gets_the_cors_headers_and_the_exposed_ones() {
    let application = application(&format!("{ALLOWED}, https://b.example")).await;
    let reply = call(&application, preflight(ALLOWED)).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(reply.headers["access-control-allow-origin"], ALLOWED);
    let allowed_headers = reply.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["authorization", "content-type", "if-match", "if-none-match"] {
        assert!(allowed_headers.contains(header), "{allowed_headers}");
    }
    assert!(allowed_headers.contains("idempotency-key"));
    let methods = reply.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );

    let reply = call(&application, list(&application, ALLOWED)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["access-control-allow-origin"], ALLOWED);
    let exposed = reply.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["etag", "location", "link"] {
        assert!(exposed.contains(header), "{exposed}");
    }
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    let application = application(ALLOWED).await;
    let reply = call(&application, preflight("https://evil.example")).await;
    assert_eq!(cors_headers(&reply.headers), Vec::<String>::new());
    let reply = call(&application, list(&application, "https://evil.example")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(cors_headers(&reply.headers), Vec::<String>::new());
}

#[tokio::test]
async fn without_the_setting_there_are_no_cors_headers_at_all() {
    let application = application("").await;
    let reply = call(&application, preflight(ALLOWED)).await;
    assert_eq!(cors_headers(&reply.headers), Vec::<String>::new());
    let reply = call(&application, list(&application, ALLOWED)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(cors_headers(&reply.headers), Vec::<String>::new());
}
