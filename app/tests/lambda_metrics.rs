//! `app lambda` against a Lambda Runtime API of the test's own, on 127.0.0.1: it answers the
//! invocations it is given, and after each one writes that invocation's metrics to stdout as
//! CloudWatch Embedded Metric Format documents, labelled as Prometheus labels them (by route
//! template, never by id).
#![allow(clippy::unwrap_used)] // test set-up: a failure here is a broken test, shown by the panic

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::sync::Notify;

const SECRET: &str = "lambda-test-secret-of-32-bytes!!";
const BRANCH_ID: &str = "65f0a1b2c3d4e5f6a7b8c9d0";

/// The runtime API's side: events waiting to be fetched, and what the function answered.
#[derive(Clone, Default)]
struct Runtime {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    queued: Arc<Notify>,
    answers: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Runtime {
    fn queue(&self, request_id: &str, event: String) {
        let mut events = self.events.lock().unwrap();
        events.push_back((request_id.to_owned(), event));
        self.queued.notify_one();
    }

    fn router(self) -> Router {
        Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(answered),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(answered))
            .with_state(self)
    }
}

/// Hands out the next event, waiting for one as the real API does.
async fn next(State(runtime): State<Runtime>) -> impl IntoResponse {
    loop {
        let waiting = runtime.queued.notified();
        if let Some((id, event)) = runtime.events.lock().unwrap().pop_front() {
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            let headers = [
                ("lambda-runtime-aws-request-id", id),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:back-office".to_owned(),
                ),
                ("lambda-runtime-trace-id", "Root=1-0-0".to_owned()),
            ];
            return (headers, event);
        }
        waiting.await;
    }
}

async fn answered(
    State(runtime): State<Runtime>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    runtime.answers.lock().unwrap().push((id, body));
    StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (v2) event for `GET path`.
fn event(path: &str, token: &str) -> String {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "authorization": format!("Bearer {token}") },
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example",
            "domainPrefix": "api", "requestId": "gateway", "routeKey": "$default",
            "stage": "$default", "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1_583_348_638_390_u64,
            "http": { "method": "GET", "path": path, "protocol": "HTTP/1.1",
                      "sourceIp": "127.0.0.1", "userAgent": "tests" },
        },
        "isBase64Encoded": false,
    })
    .to_string()
}

/// The child, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the child's stdout on a thread of its own, passing on each EMF document.
fn documents(child: &mut Child) -> mpsc::Receiver<Value> {
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(document) = serde_json::from_str::<Value>(&line) {
                if document.get("_aws").is_some() && send.send(document).is_err() {
                    return;
                }
            }
        }
    });
    receive
}

/// The documents written until one carries `http_requests_total` for `request_id`.
fn until_requests_of(documents: &mpsc::Receiver<Value>, request_id: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let document = documents
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no metrics for {request_id}; saw {seen:?}"));
        let done =
            document["requestId"] == request_id && document.get("http_requests_total").is_some();
        seen.push(document);
        if done {
            return seen;
        }
    }
}

fn looks_like_an_object_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocation_is_answered_then_its_metrics_are_written_as_emf_by_route_template() {
    let runtime = Runtime::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = runtime.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let keys = JwtKeys::new(&SecretString::from(SECRET), TokenPolicy::default()).unwrap();
    let token = keys.issue("caller", CallerRole::User, Duration::from_secs(300));

    let child = Command::new(env!("CARGO_BIN_EXE_app"))
        .args(["lambda", "--backend", "memory"])
        .env_remove("MONGO_URI")
        .env("AUTH_JWT_SECRET", SECRET)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "back-office")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let documents = documents(&mut running.0);

    // The second event is queued only once the first one's metrics are out: they are written
    // after each invocation, not when the environment stops.
    runtime.queue(
        "invocation-1",
        event(&format!("/branches/{BRANCH_ID}"), &token),
    );
    let first = until_requests_of(&documents, "invocation-1");
    runtime.queue("invocation-2", event("/health/live", &token));
    let second = until_requests_of(&documents, "invocation-2");

    let answers = runtime.answers.lock().unwrap().clone();
    let statuses: Vec<(&str, &Value)> = answers
        .iter()
        .map(|(id, body)| (id.as_str(), &body["statusCode"]))
        .collect();
    assert_eq!(
        statuses,
        [("invocation-1", &json!(404)), ("invocation-2", &json!(200))]
    );

    let requests = |documents: &[Value]| -> Value {
        let document = documents
            .iter()
            .find(|d| d.get("http_requests_total").is_some())
            .unwrap()
            .clone();
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "BackOffice"
        );
        assert_eq!(document["function"], "back-office");
        document
    };
    assert_eq!(requests(&first)["route"], "/branches/{id}");
    assert_eq!(requests(&first)["status"], "4xx");
    assert_eq!(requests(&second)["route"], "/health/live");
    let cold_starts = first
        .iter()
        .chain(&second)
        .filter(|d| d.get("cold_starts_total").is_some())
        .count();
    assert_eq!(cold_starts, 1, "one cold start: {first:?}");
    for document in first.iter().chain(&second) {
        let values = document.as_object().unwrap().values();
        for value in values.filter_map(Value::as_str) {
            assert!(
                !looks_like_an_object_id(value),
                "an id as a label: {document}"
            );
        }
    }
}
