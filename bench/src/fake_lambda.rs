//! A Lambda Runtime API of the benchmark's own, on 127.0.0.1, so that the release `app
//! lambda` binary runs as it does on AWS: it long-polls `GET …/invocation/next` for an event,
//! handles it, and posts the answer to `…/invocation/{id}/response` (or `/error`). Each
//! [`FakeRuntime::invoke`] hands out one API Gateway HTTP API (v2) event and waits for that
//! answer, so invocations run one at a time, as in one Lambda execution environment.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// The function ARN handed out with each event.
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bench";
/// How long an invocation may take before the benchmark gives up on it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// How often, while waiting for an answer, the function's process is checked.
const ALIVE_CHECK: Duration = Duration::from_millis(100);

/// An event waiting for the function.
struct Event {
    id: String,
    body: String,
}

/// What the function posted.
#[derive(Debug)]
enum Answer {
    /// `…/invocation/{id}/response`: the handler's result.
    Response { id: String, body: Value },
    /// `…/invocation/{id}/error`, or `…/init/error` (no id): the runtime's failure report.
    Error { id: Option<String>, body: String },
}

/// The server side: the events to hand out, where answers go.
#[derive(Clone)]
struct Shared {
    events: Arc<Mutex<mpsc::UnboundedReceiver<Event>>>,
    answers: mpsc::UnboundedSender<Answer>,
}

/// The fake runtime API, listening until dropped.
pub struct FakeRuntime {
    address: SocketAddr,
    events: mpsc::UnboundedSender<Event>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: JoinHandle<()>,
    invocations: u64,
}

impl FakeRuntime {
    /// Listens on a free loopback port.
    pub async fn start() -> Result<FakeRuntime, String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("fake Lambda runtime: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let (events, queue) = mpsc::unbounded_channel();
        let (posted, answers) = mpsc::unbounded_channel();
        let shared = Shared {
            events: Arc::new(Mutex::new(queue)),
            answers: posted,
        };
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_fail))
            .with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(FakeRuntime {
            address,
            events,
            answers,
            server,
            invocations: 0,
        })
    }

    /// What `AWS_LAMBDA_RUNTIME_API` is set to: `127.0.0.1:PORT`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Hands `event` to the function and waits for its response: the handler's result (for
    /// API Gateway, `{"statusCode": …, "body": …}`). Fails on an error report, after
    /// [`ANSWER_TIMEOUT`], or as soon as `alive` (checked every [`ALIVE_CHECK`]) fails.
    pub async fn invoke(
        &mut self,
        event: String,
        mut alive: impl FnMut() -> Result<(), String>,
    ) -> Result<Value, String> {
        self.invocations += 1;
        let id = format!("bench-{}", self.invocations);
        let stopped = || "the fake Lambda runtime has stopped".to_owned();
        self.events
            .send(Event {
                id: id.clone(),
                body: event,
            })
            .map_err(|_| stopped())?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            match tokio::time::timeout(ALIVE_CHECK, self.answers.recv()).await {
                Ok(Some(Answer::Response { id: answered, body })) if answered == id => {
                    return Ok(body)
                }
                Ok(Some(Answer::Response { id: answered, .. })) => {
                    return Err(format!("a response for {answered} while waiting for {id}"))
                }
                Ok(Some(Answer::Error { id: failed, body })) => {
                    let what =
                        failed.map_or_else(|| "init".to_owned(), |id| format!("invocation {id}"));
                    return Err(format!("the function reported a {what} error: {body}"));
                }
                Ok(None) => return Err(stopped()),
                Err(_) if Instant::now() >= deadline => {
                    return Err(format!("no answer to {id} within {ANSWER_TIMEOUT:?}"))
                }
                Err(_) => alive()?,
            }
        }
    }
}

impl Drop for FakeRuntime {
    /// Stops accepting; a poll still open ends when its event queue (dropped here) closes.
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Hands out the next event, waiting for one as the real API does.
async fn next(State(shared): State<Shared>) -> Response {
    let Some(event) = shared.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let headers = [
        ("lambda-runtime-aws-request-id", event.id),
        (
            "lambda-runtime-deadline-ms",
            (now_ms + ANSWER_TIMEOUT.as_millis()).to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            FUNCTION_ARN.to_owned(),
        ),
        ("lambda-runtime-trace-id", "Root=1-0-0".to_owned()),
    ];
    (headers, event.body).into_response()
}

async fn respond(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = shared.answers.send(Answer::Response { id, body });
    StatusCode::ACCEPTED
}

async fn fail(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    let _ = shared.answers.send(Answer::Error { id: Some(id), body });
    StatusCode::ACCEPTED
}

async fn init_fail(State(shared): State<Shared>, body: String) -> StatusCode {
    let _ = shared.answers.send(Answer::Error { id: None, body });
    StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (v2) event for `GET path` with `token` as the bearer token: what
/// API Gateway sends a function without an authorizer, so the app checks the token itself.
pub fn get_event(path: &str, token: &str) -> String {
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
                      "sourceIp": "127.0.0.1", "userAgent": "bench" },
        },
        "isBase64Encoded": false,
    })
    .to_string()
}

/// The HTTP status of an API Gateway response, if it has one.
pub fn status_of(response: &Value) -> Option<u64> {
    response.get("statusCode")?.as_u64()
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::{Method, Request};
    use hyper_util::rt::TokioIo;

    use super::*;

    /// `method path` with `body` on a new connection: the request id header and the body.
    async fn call(address: SocketAddr, method: Method, path: &str, body: &str) -> (String, String) {
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", address.to_string())
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let id = response
            .headers()
            .get("lambda-runtime-aws-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (id, String::from_utf8(body.to_vec()).unwrap())
    }

    /// A function that answers one event with `answer` on the path ending in `outcome`.
    fn function(address: SocketAddr, outcome: &'static str, answer: &'static str) {
        tokio::spawn(async move {
            let next = "/2018-06-01/runtime/invocation/next";
            let (id, event) = call(address, Method::GET, next, "").await;
            let event: Value = serde_json::from_str(&event).unwrap();
            assert_eq!(event["rawPath"], "/dashboard");
            let path = format!("/2018-06-01/runtime/invocation/{id}/{outcome}");
            call(address, Method::POST, &path, answer).await;
        });
    }

    #[tokio::test]
    async fn an_invocation_gets_the_functions_response() {
        let mut runtime = FakeRuntime::start().await.unwrap();
        function(runtime.address(), "response", r#"{"statusCode": 200}"#);
        let answer = runtime
            .invoke(get_event("/dashboard", "t"), || Ok(()))
            .await
            .unwrap();
        assert_eq!(status_of(&answer), Some(200));
    }

    #[tokio::test]
    async fn an_error_report_fails_the_invocation() {
        let mut runtime = FakeRuntime::start().await.unwrap();
        function(runtime.address(), "error", r#"{"errorType": "boom"}"#);
        let error = runtime
            .invoke(get_event("/dashboard", "t"), || Ok(()))
            .await
            .unwrap_err();
        assert!(
            error.contains("bench-1") && error.contains("boom"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_dead_function_fails_the_invocation_without_waiting_for_the_timeout() {
        let mut runtime = FakeRuntime::start().await.unwrap();
        let error = runtime
            .invoke(get_event("/dashboard", "t"), || Err("exited".to_owned()))
            .await
            .unwrap_err();
        assert_eq!(error, "exited");
    }

    #[test]
    fn events_carry_the_path_and_the_bearer_token() {
        let event: Value = serde_json::from_str(&get_event("/branches/abc", "tok")).unwrap();
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["rawPath"], "/branches/abc");
        assert_eq!(event["requestContext"]["http"]["method"], "GET");
        assert_eq!(event["headers"]["authorization"], "Bearer tok");
    }
}
