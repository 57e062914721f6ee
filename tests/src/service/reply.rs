//! A response as the tests read it, checked on the way in.

use axum::http::StatusCode;
use axum::response::Response;
use http_body_util::BodyExt;
use ports::Role;
use serde_json::{json, Value};

use super::NEVER_SHOWN;

/// A response: its status and its JSON body.
///
/// Reading one checks what holds for every body, whatever the test is about: it is JSON, and
/// it shows none of [`NEVER_SHOWN`] (a connection string, the password, the JWT secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// Reads `response` to its end and checks its body.
    ///
    /// # Panics
    ///
    /// When the body cannot be read, is not JSON, or shows one of [`NEVER_SHOWN`].
    pub async fn read(response: Response) -> Self {
        let (status, _, bytes) = parts_of(response).await;
        Self::from_bytes(status, &bytes)
    }

    /// The reply of `status` with the body `bytes` (read by a client of the test's own),
    /// checked as [`Reply::read`] checks it.
    ///
    /// # Panics
    ///
    /// When the body is not JSON, or shows one of [`NEVER_SHOWN`].
    pub fn from_bytes(status: StatusCode, bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        for shown in NEVER_SHOWN {
            assert!(
                !text.contains(shown),
                "a {status} body shows {shown:?}: {text}"
            );
        }
        let body = serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("a {status} body is not JSON ({e}): {text}"));
        Self { status, body }
    }

    /// The `data` of a success with `status`.
    ///
    /// # Panics
    ///
    /// When the status is another, or the body has no `data`.
    pub fn data(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
            .get("data")
            .cloned()
            .unwrap_or_else(|| panic!("a success body without data: {}", self.body))
    }

    /// The message of an error with `status` and `code`, after checking that the body is
    /// `{"error": {"code", "message"}}`, with `fields` for a body's field errors, and nothing
    /// else.
    ///
    /// # Panics
    ///
    /// When the status or code is another, the body has another shape, or the message is
    /// blank.
    pub fn error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        let shape = self
            .body
            .as_object()
            .map(|body| (body.len(), body.get("error").and_then(Value::as_object)));
        let Some((1, Some(error))) = shape else {
            panic!("not an error body: {}", self.body);
        };
        let fields = error.get("fields").map(|fields| {
            field_errors(fields).unwrap_or_else(|| panic!("malformed fields: {}", self.body))
        });
        let expected_len = if fields.is_some() { 3 } else { 2 };
        assert_eq!(
            error.len(),
            expected_len,
            "error has other fields: {}",
            self.body
        );
        assert_eq!(error.get("code"), Some(&json!(code)), "{}", self.body);
        let message = error.get("message").and_then(Value::as_str);
        match message {
            Some(message) if !message.trim().is_empty() => message.to_owned(),
            _ => panic!("an error without a message: {}", self.body),
        }
    }

    /// The message of a `503` from the database layer (code `unavailable`), checked to name
    /// the `role` whose database failed.
    ///
    /// # Panics
    ///
    /// As [`Reply::error`], and when the message does not name `the {role} database`.
    pub fn unavailable(&self, role: Role) -> String {
        let message = self.error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        assert!(
            message.contains(&format!("the {role} database")),
            "the message does not name the {role} database: {message}"
        );
        message
    }
}

/// The `(field, message)` pairs of an error's `fields`, when it is a non-empty list of
/// `{"field", "message"}` objects and nothing else.
pub fn field_errors(fields: &Value) -> Option<Vec<(String, String)>> {
    let list = fields.as_array().filter(|list| !list.is_empty())?;
    list.iter()
        .map(|entry| {
            let entry = entry.as_object().filter(|entry| entry.len() == 2)?;
            let text = |key| entry.get(key).and_then(Value::as_str).map(str::to_owned);
            Some((text("field")?, text("message")?))
        })
        .collect()
}

/// A response's status, headers and whole body, for a test that looks at all three.
///
/// # Panics
///
/// When the body cannot be read.
pub async fn parts_of(
    response: Response,
) -> (StatusCode, axum::http::HeaderMap, axum::body::Bytes) {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a readable body")
        .to_bytes();
    (status, headers, bytes)
}
