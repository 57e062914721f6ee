//! A Lambda Runtime API of our own, on 127.0.0.1, so that the real `app lambda` binary runs
//! as it does on AWS: it long-polls `GET …/invocation/next` for an event, handles it, and
//! posts the answer to `…/invocation/{id}/response` (or `/error`).
//!
//! Each [`FakeRuntime::invoke`] hands out one event and waits for its answer, so invocations
//! run one at a time, as in one Lambda execution environment. The events are
//! `aws_lambda_events` types ([`http_api_event`]), serialised as API Gateway sends them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::http::{header, HeaderValue, Method};
use serde_json::Value;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// The function ARN handed out with each event.
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:back-office";
/// How long an invocation may take before the caller gives up on it.
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
    ///
    /// # Errors
    ///
    /// When no port can be bound.
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

    /// The variables the Lambda service sets for a function named `function` on this runtime
    /// API, to give to the process.
    pub fn environment(&self, function: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
        ]
        .map(|(name, value)| (name.to_owned(), value))
        .into()
    }

    /// The request id the next [`FakeRuntime::invoke`] hands out: `invocation-1`, then
    /// `invocation-2`…
    pub fn next_request_id(&self) -> String {
        format!("invocation-{}", self.invocations + 1)
    }

    /// Hands `event` to the function and waits for its response: the handler's result (for
    /// API Gateway, `{"statusCode": …, "body": …}`).
    ///
    /// # Errors
    ///
    /// On the function's error report, after 30 s, or as soon as `alive` (checked every
    /// 100 ms) fails.
    pub async fn invoke(
        &mut self,
        event: &ApiGatewayV2httpRequest,
        mut alive: impl FnMut() -> Result<(), String>,
    ) -> Result<Value, String> {
        let id = self.next_request_id();
        self.invocations += 1;
        let stopped = || "the fake Lambda runtime has stopped".to_owned();
        let body = serde_json::to_string(event).map_err(|e| e.to_string())?;
        self.events
            .send(Event {
                id: id.clone(),
                body,
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

/// An API Gateway HTTP API (v2) event for `method path` (`path` may carry a query) with
/// `token` as the bearer token, if any, and a JSON `body`, if any: what API Gateway sends a
/// function without an authorizer, so the app checks the token itself.
pub fn http_api_event(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> ApiGatewayV2httpRequest {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".into());
    event.route_key = Some("$default".into());
    event.raw_path = Some(raw_path.into());
    event.raw_query_string = Some(query.into());
    event.query_string_parameters = query.parse().unwrap_or_default();
    if let Some(token) = token {
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            event.headers.insert(header::AUTHORIZATION, value);
        }
    }
    if body.is_some() {
        event.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    event.body = body;
    event.request_context = request_context(method, raw_path);
    event
}

/// What API Gateway says about the request it forwards.
fn request_context(method: Method, path: &str) -> ApiGatewayV2httpRequestContext {
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method;
    http.path = Some(path.into());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some("127.0.0.1".into());
    http.user_agent = Some("testkit".into());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some("$default".into());
    context.account_id = Some("123456789012".into());
    context.stage = Some("$default".into());
    context.request_id = Some("gateway".into());
    context.apiid = Some("api".into());
    context.domain_name = Some("api.example".into());
    context.domain_prefix = Some("api".into());
    context.time = Some("12/Mar/2020:19:03:58 +0000".into());
    context.time_epoch = 1_583_348_638_390;
    context.http = http;
    context
}

/// The HTTP status of an API Gateway response, if it has one.
pub fn status_of(response: &Value) -> Option<u64> {
    response.get("statusCode")?.as_u64()
}

#[cfg(test)]
mod tests {
    use lambda_http::request::LambdaRequest;
    use lambda_http::RequestExt;

    use super::*;

    /// `method path` with `body` on a new connection: the request id header and the body.
    async fn call(address: SocketAddr, method: &str, path: &str, body: &str) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let id = head
            .lines()
            .find_map(|line| line.strip_prefix("lambda-runtime-aws-request-id: "))
            .unwrap_or_default()
            .to_owned();
        (id, body.to_owned())
    }

    /// A function that answers one event with `answer` on the path ending in `outcome`.
    fn function(address: SocketAddr, outcome: &'static str, answer: &'static str) {
        tokio::spawn(async move {
            let next = "/2018-06-01/runtime/invocation/next";
            let (id, event) = call(address, "GET", next, "").await;
            let event: Value = serde_json::from_str(&event).unwrap();
            assert_eq!(event["rawPath"], "/dashboard");
            let path = format!("/2018-06-01/runtime/invocation/{id}/{outcome}");
            call(address, "POST", &path, answer).await;
        });
    }

    fn dashboard() -> ApiGatewayV2httpRequest {
        http_api_event(Method::GET, "/dashboard", Some("t"), None)
    }

    #[tokio::test]
    async fn an_invocation_gets_the_functions_response() {
        let mut runtime = FakeRuntime::start().await.unwrap();
        function(runtime.address(), "response", r#"{"statusCode": 200}"#);
        let answer = runtime.invoke(&dashboard(), || Ok(())).await.unwrap();
        assert_eq!(status_of(&answer), Some(200));
        assert_eq!(runtime.next_request_id(), "invocation-2");
    }

    #[tokio::test]
    async fn an_error_report_fails_the_invocation() {
        let mut runtime = FakeRuntime::start().await.unwrap();
        function(runtime.address(), "error", r#"{"errorType": "boom"}"#);
        let error = runtime.invoke(&dashboard(), || Ok(())).await.unwrap_err();
        assert!(
            error.contains("invocation-1") && error.contains("boom"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_dead_function_fails_the_invocation_without_waiting_for_the_timeout() {
        let mut runtime = FakeRuntime::start().await.unwrap();
        let started = Instant::now();
        let error = runtime
            .invoke(&dashboard(), || Err("exited".to_owned()))
            .await
            .unwrap_err();
        assert_eq!(error, "exited");
        assert!(started.elapsed() < ANSWER_TIMEOUT);
    }

    #[test]
    fn events_read_as_lambda_http_reads_an_http_api_request() {
        let event = http_api_event(
            Method::POST,
            "/branches?limit=2",
            Some("tok"),
            Some(r#"{"name":"Lyon"}"#.into()),
        );
        let json = serde_json::to_string(&event).unwrap();
        let read: LambdaRequest = serde_json::from_str(&json).unwrap();
        assert!(matches!(read, LambdaRequest::ApiGatewayV2(_)), "{read:?}");
        let request = lambda_http::http::Request::from(read);
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().path(), "/branches");
        assert_eq!(request.query_string_parameters().first("limit"), Some("2"));
        assert_eq!(request.headers()[header::AUTHORIZATION], "Bearer tok");
    }
}
