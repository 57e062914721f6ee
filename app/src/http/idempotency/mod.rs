//! `Idempotency-Key` on `POST`: a client that retries a create after a timeout gets the first
//! answer again instead of a second record (orders have no natural unique key to catch it).
//!
//! How it behaves, as the payment APIs that made the header common behave:
//!
//! - A key is 1 to 255 visible ASCII characters (`!` to `~`); anything else, or the header
//!   given twice, is a `400` `invalid_idempotency_key`. Without the header nothing changes.
//! - Authentication comes first: a request without a valid token is a `401`, key or not.
//! - A key is scoped by the caller (the token's subject and role), the method and the path, so
//!   two callers, or two collections, never see each other's answers under the same key.
//! - The request body (and its `Content-Type`) is hashed with SHA-256. The same key with
//!   another body is a `422` `idempotency_key_reused`.
//! - **What is stored**: the answer of every request whose handler began its work (its body
//!   was valid and it went to the database), whatever its status, server errors included: a
//!   blind retry of those is the duplicate keys exist to prevent. Refusals made before the work
//!   begins are not stored, since a retry gets the same answer anyway: a bad token, a bad body
//!   or parameters, a `409` `idempotency_in_progress`. A flood of bad requests stores nothing.
//!   A replay carries `Idempotent-Replayed: true`. An answer over [`MAX_STORED_BODY_BYTES`] is
//!   answered but not stored.
//! - **Where**: on MongoDB, in the database of the route's own role (collection
//!   `idempotencyRecords`), shared by every instance and every Lambda execution environment;
//!   in memory, in the process, each caller keeping at most `IDEMPOTENCY_MAX_KEYS` answers.
//! - **Concurrent retries**: a retry that arrives while the first attempt holds the key, on any
//!   instance, waits with bounded back-off for its answer, up to the request timeout (on Lambda,
//!   up to the invocation's deadline), then gets a `409` `idempotency_in_progress` with
//!   `Retry-After`.
//! - **Dead claims**: an attempt whose instance died holds its key for a lease
//!   (`IDEMPOTENCY_LEASE_MS`, by default the request timeout and ten seconds); then the next
//!   retry runs. So does
//!   a retry after an attempt cut off by the request timeout once its work began: the key is
//!   kept for the lease rather than given up at once, since that work may still land.
//! - Answers are replayed for `IDEMPOTENCY_WINDOW_S` (24 h by default).

use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};

mod layer;
mod stores;

pub use self::layer::{layer, RouteStore, WorkStarted};
pub use self::stores::IdempotencyStores;
use super::error::ErrorBody;
use crate::auth::CallerRole;
use ports::IdempotencyKey;

/// The request header that carries the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The response header set on an answer replayed from the store, so that a client (or a
/// person reading a trace) can tell a replay from a first answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The longest accepted key, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// What [`idempotency_key`] accepts, as the API document publishes it.
pub const KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// How long a stored answer is replayed unless configured: 24 hours, longer than any client's
/// retry schedule.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How many answers each caller keeps in the in-memory store unless configured.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

/// The largest answer body that is stored. A `POST` answers one record, far smaller; the cap
/// bounds what one key costs to keep.
pub const MAX_STORED_BODY_BYTES: usize = 64 * 1024;

/// How much longer than the request timeout a claim holds its key by default: room for the
/// clocks of two instances to disagree (a lease is read against each instance's own clock).
pub const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// How long answers and claims are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// How long an answer is replayed after it was stored (`IDEMPOTENCY_WINDOW_S`).
    pub window: Duration,
    /// The most answers each caller keeps in the in-memory store (`IDEMPOTENCY_MAX_KEYS`); its
    /// oldest is forgotten first. MongoDB keeps every answer for its window.
    pub max_keys: usize,
    /// How long a claim holds its key if its request never finishes (`IDEMPOTENCY_LEASE_MS`);
    /// `None`: the request timeout plus [`LEASE_MARGIN`]. At least the request timeout.
    pub lease: Option<Duration>,
}

impl Default for IdempotencyConfig {
    /// [`DEFAULT_WINDOW`], [`DEFAULT_MAX_KEYS`], a lease of the request timeout.
    fn default() -> Self {
        Self {
            window: DEFAULT_WINDOW,
            max_keys: DEFAULT_MAX_KEYS,
            lease: None,
        }
    }
}

/// Why the middleware answers instead of the route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    /// `400`: the key is empty, too long, not visible ASCII, or given twice.
    #[error(
        "the Idempotency-Key header must be given once, as 1 to {MAX_KEY_LEN} visible ASCII \
         characters"
    )]
    InvalidKey,
    /// `422`: the key was used with another body (by this caller, on this route).
    #[error(
        "this Idempotency-Key was already used with another request body; use a new key for \
         a new request"
    )]
    KeyReused,
    /// `409`: another request with this key is still running; retry after `retry_after`.
    #[error("a request with this Idempotency-Key is still running; retry later")]
    InProgress {
        /// When a retry may find its answer, or its claim expired.
        retry_after: Duration,
    },
}

impl IdempotencyError {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            IdempotencyError::InvalidKey => StatusCode::BAD_REQUEST,
            IdempotencyError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            IdempotencyError::InProgress { .. } => StatusCode::CONFLICT,
        }
    }

    /// The `error.code` of the body.
    pub fn code(&self) -> &'static str {
        match self {
            IdempotencyError::InvalidKey => "invalid_idempotency_key",
            IdempotencyError::KeyReused => "idempotency_key_reused",
            IdempotencyError::InProgress { .. } => "idempotency_in_progress",
        }
    }
}

impl IntoResponse for IdempotencyError {
    /// The API's error shape, `{"error": {"code", "message"}}`, and `Retry-After` in whole
    /// seconds (at least one) on a `409`.
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.code(), self.to_string());
        let mut response = (self.status(), Json(body)).into_response();
        if let IdempotencyError::InProgress { retry_after } = self {
            let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The key of `headers`: `None` without the header.
///
/// # Errors
/// [`IdempotencyError::InvalidKey`] for a key given twice, empty, longer than
/// [`MAX_KEY_LEN`], or with a character outside `!`..=`~`.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, IdempotencyError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(IdempotencyError::InvalidKey);
    }
    let bytes = value.as_bytes();
    let visible = bytes.iter().all(|byte| (b'!'..=b'~').contains(byte));
    if bytes.is_empty() || bytes.len() > MAX_KEY_LEN || !visible {
        return Err(IdempotencyError::InvalidKey);
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// The SHA-256 of a request's `Content-Type` and body.
fn fingerprint(headers: &HeaderMap, body: &[u8]) -> ports::Fingerprint {
    let mut hasher = Sha256::new();
    let content_type = headers.get(CONTENT_TYPE).map_or(&[][..], |v| v.as_bytes());
    hasher.update((content_type.len() as u64).to_be_bytes());
    hasher.update(content_type);
    hasher.update(body);
    hasher.finalize().into()
}

/// The key a caller's `Idempotency-Key` is kept under: scoped by the caller's role and
/// subject, the method and the path, so that no caller ever reaches another's answer. The
/// record's `_id` is the hash of all of them; an operator (or a test) finds a caller's record
/// with it.
pub fn scoped_key(
    role: CallerRole,
    subject: &str,
    method: &Method,
    path: &str,
    key: &str,
) -> IdempotencyKey {
    IdempotencyKey {
        id: record_id(&[role.as_str(), subject, method.as_str(), path, key]),
        caller: format!("{}:{subject}", role.as_str()),
    }
}

/// The record's identity: the SHA-256, in hex, of every part of the scope, each prefixed by
/// its length so that no two scopes spell the same input.
fn record_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters_given_once() {
        let parse = |value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_bytes(value).unwrap());
            idempotency_key(&headers)
        };
        assert_eq!(parse(b"a-1_B.~!"), Ok(Some("a-1_B.~!".into())));
        assert_eq!(
            parse(&[b'k'; 255]).map(|k| k.map(|k| k.len())),
            Ok(Some(255))
        );
        for bad in [
            &b""[..],
            &[b'k'; 256],
            b"with space",
            b"tab\there",
            b"caf\xc3\xa9",
        ] {
            assert_eq!(parse(bad), Err(IdempotencyError::InvalidKey), "{bad:?}");
        }
        assert_eq!(idempotency_key(&HeaderMap::new()), Ok(None));
        let mut twice = HeaderMap::new();
        twice.append(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        twice.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert_eq!(idempotency_key(&twice), Err(IdempotencyError::InvalidKey));
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn record_ids_differ_whenever_a_part_or_a_boundary_differs() {
        let id = record_id(&["user", "abc", "POST", "/orders", "k-1"]);
        assert_eq!(id.len(), 64);
        assert_eq!(id, record_id(&["user", "abc", "POST", "/orders", "k-1"]));
        for other in [
            record_id(&["user", "abd", "POST", "/orders", "k-1"]),
            record_id(&["user", "abc", "POST", "/orders", "k-2"]),
            record_id(&["user", "ab", "cPOST", "/orders", "k-1"]),
            record_id(&["admin", "abc", "POST", "/orders", "k-1"]),
        ] {
            assert_ne!(id, other);
        }
    }

    #[test]
    fn an_in_progress_answer_is_a_409_with_retry_after_in_whole_seconds() {
        let response = IdempotencyError::InProgress {
            retry_after: Duration::from_millis(1_200),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()["retry-after"], "2");
    }
}
