//! `app lambda` against a Lambda Runtime API of the test's own, on 127.0.0.1: it answers the
//! invocations it is given, and after each one writes that invocation's metrics to stdout as
//! CloudWatch Embedded Metric Format documents, labelled as Prometheus labels them (by route
//! template, never by id).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use axum::http::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use testkit::lambda_runtime::{http_api_event, FakeRuntime};

const SECRET: &str = "lambda-test-secret-of-32-bytes!!";
const BRANCH_ID: &str = "65f0a1b2c3d4e5f6a7b8c9d0";

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
    let mut runtime = FakeRuntime::start().await.unwrap();
    let keys = JwtKeys::new(&SecretString::from(SECRET), TokenPolicy::default()).unwrap();
    let token = keys.issue("caller", CallerRole::USER, Duration::from_secs(300));

    let child = testkit::process::command(env!("CARGO_BIN_EXE_app"))
        .args(["lambda", "--backend", "memory"])
        .env("AUTH_JWT_SECRET", SECRET)
        .envs(runtime.environment("back-office"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let documents = documents(&mut running.0);

    // The second event is handed out only once the first one's metrics are out: they are
    // written after each invocation, not when the environment stops.
    let get = |path: &str| http_api_event(Method::GET, path, Some(&token), None);
    let mut answers = Vec::new();
    let mut invoke_and_wait = async |path: &str| {
        let id = runtime.next_request_id();
        let answer = runtime.invoke(&get(path), || Ok(())).await.unwrap();
        answers.push((id.clone(), answer["statusCode"].clone()));
        until_requests_of(&documents, &id)
    };
    let first = invoke_and_wait(&format!("/branches/{BRANCH_ID}")).await;
    let second = invoke_and_wait("/health/live").await;

    assert_eq!(
        answers,
        [
            ("invocation-1".to_owned(), json!(404)),
            ("invocation-2".to_owned(), json!(200))
        ]
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
