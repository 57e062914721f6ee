//! One HTTP/1.1 request to a server under test, on a connection of its own, read to the end:
//! what a client of the real process (or of two) sends, through hyper's client.
//!
//! ```no_run
//! # async fn example(address: std::net::SocketAddr) {
//! use testkit::http::{send, Call};
//!
//! let answer = send(address, Call::post("/branches", r#"{"name":"Lyon"}"#).bearer("token"))
//!     .await
//!     .unwrap();
//! assert_eq!(answer.status(), 201);
//! # }
//! ```

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request to send: method, path (with its query), headers and body.
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Call {
    /// `GET path`.
    pub fn get(path: &str) -> Self {
        Self::new(Method::GET, path, Bytes::new())
    }

    /// `POST path` with the JSON `body`.
    pub fn post(path: &str, body: impl Into<String>) -> Self {
        Self::new(Method::POST, path, Bytes::from(body.into()))
            .header(CONTENT_TYPE, "application/json")
    }

    fn new(method: Method, path: &str, body: Bytes) -> Self {
        Self {
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body,
        }
    }

    /// The same request with the header `name: value` added.
    ///
    /// # Panics
    ///
    /// When `value` cannot be a header value.
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.push((name, value));
        self
    }

    /// The same request with `Authorization: Bearer token`.
    pub fn bearer(self, token: &str) -> Self {
        self.header(AUTHORIZATION, &format!("Bearer {token}"))
    }
}

/// Sends `call` to `address` and reads the whole answer.
///
/// # Errors
///
/// When the connection or the exchange fails.
pub async fn send(address: SocketAddr, call: Call) -> Result<Response<Bytes>, String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect {address}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(call.method)
        .uri(call.path)
        .header(HOST, address.to_string());
    for (name, value) in call.headers {
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(call.body))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, body))
}
