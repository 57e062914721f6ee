//! `Idempotency-Key` on `POST`: a client that retries a create after a timeout gets the first
//! answer again instead of a second record (orders have no natural unique key to catch it).
//!
//! How it behaves:
//!
//! - A key is 1 to 255 visible ASCII characters (`!` to `~`); anything else, or the header
//!   given twice, is a `400` `invalid_idempotency_key`. Without the header nothing changes.
//! - A key is scoped by the caller (the token's subject and role) and by the path, so two
//!   callers, or two collections, never see each other's answers under the same key.
//! - The request body (and its `Content-Type`) is hashed with SHA-256. The same key with
//!   another body is a `422` `idempotency_key_reused`.
//! - A retry that arrives while the first request is still running **waits** for it (within
//!   `REQUEST_TIMEOUT_MS`, like any request) and then answers what it answered; it never runs
//!   the handler a second time.
//! - Stored and replayed: `2xx` answers and the client errors that follow from the body alone
//!   (`400`, `413`, `422`), with their status, headers (`Location`, `ETag`, …) and body, and
//!   an `Idempotent-Replayed: true` header on the replay. Anything else (`401`, `403`, `409`,
//!   `5xx`, a `503` timeout) is not stored: a retry runs again and may succeed. A first
//!   request cut off by `REQUEST_TIMEOUT_MS` is forgotten the same way, even if its write
//!   had reached the database: that one case can still make a duplicate.
//! - Stored answers live for a window (`IDEMPOTENCY_WINDOW_S`, 24 h by default) in a store of
//!   at most `IDEMPOTENCY_MAX_KEYS` keys; when it is full the oldest finished key goes first.
//!   An answer body over [`MAX_STORED_BODY_BYTES`] is answered but not stored.
//!
//! The store is [`MemoryIdempotencyStore`], in this process's memory, behind the
//! [`IdempotencyStore`] trait so that a shared store (a database collection, Redis) can replace
//! it. **With several instances (ECS tasks, Lambda execution environments) a retry that reaches
//! another instance than the first attempt is not deduplicated**, and a restart forgets every
//! key.
//!
//! A request whose caller cannot be identified passes through untouched: the route's guard
//! answers it `401`, and nothing is stored.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};

mod store;

pub use self::store::{
    Begin, Fingerprint, IdempotencyStore, MemoryIdempotencyStore, ScopedKey, StoredResponse,
};
use super::error::{ApiError, ErrorBody};
use super::{AppState, BODY_LIMIT_BYTES};
use crate::auth::Identity;

/// The request header that carries the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The response header set on an answer replayed from the store, so that a client (or a
/// person reading a trace) can tell a replay from a first answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The longest accepted key, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// How long a stored answer is replayed unless configured: 24 hours, longer than any client's
/// retry schedule.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How many keys the in-memory store keeps unless configured.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

/// The largest answer body that is stored. A `POST` answers one record, far smaller; the cap
/// bounds the store's memory to about `max_keys` × this.
pub const MAX_STORED_BODY_BYTES: usize = 64 * 1024;

/// How the in-memory store is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// How long an answer is replayed after it was stored (`IDEMPOTENCY_WINDOW_S`).
    pub window: Duration,
    /// The most keys kept at once (`IDEMPOTENCY_MAX_KEYS`); the oldest finished one is
    /// forgotten first when it is full.
    pub max_keys: usize,
}

impl Default for IdempotencyConfig {
    /// [`DEFAULT_WINDOW`] and [`DEFAULT_MAX_KEYS`].
    fn default() -> Self {
        Self {
            window: DEFAULT_WINDOW,
            max_keys: DEFAULT_MAX_KEYS,
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
    /// `503`: the store is full of requests still running.
    #[error("too many requests with an Idempotency-Key are running; retry later")]
    StoreFull,
}

impl IdempotencyError {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            IdempotencyError::InvalidKey => StatusCode::BAD_REQUEST,
            IdempotencyError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            IdempotencyError::StoreFull => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `error.code` of the body.
    pub fn code(&self) -> &'static str {
        match self {
            IdempotencyError::InvalidKey => "invalid_idempotency_key",
            IdempotencyError::KeyReused => "idempotency_key_reused",
            IdempotencyError::StoreFull => "unavailable",
        }
    }
}

impl IntoResponse for IdempotencyError {
    /// The API's error shape, `{"error": {"code", "message"}}`.
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.code(), self.to_string());
        (self.status(), Json(body)).into_response()
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

/// Whether an answer is kept for replay: successes, and the client errors that follow from
/// the body alone. Not `401`/`403` (the token), `404`/`409` (the data may change) or `5xx`.
fn is_stored(status: StatusCode) -> bool {
    status.is_success()
        || matches!(
            status,
            StatusCode::BAD_REQUEST
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::UNPROCESSABLE_ENTITY
        )
}

fn fingerprint(headers: &HeaderMap, body: &[u8]) -> Fingerprint {
    let mut hasher = Sha256::new();
    let content_type = headers.get(CONTENT_TYPE).map_or(&[][..], |v| v.as_bytes());
    hasher.update((content_type.len() as u64).to_be_bytes());
    hasher.update(content_type);
    hasher.update(body);
    hasher.finalize().into()
}

/// A claim on a key: released (the key forgotten) if the request is dropped before it is
/// finished, say by the request deadline, so that a retry is not left waiting for nothing.
struct Claim {
    store: Arc<dyn IdempotencyStore>,
    key: ScopedKey,
    fingerprint: Fingerprint,
    finished: bool,
}

impl Claim {
    async fn finish(mut self, response: Option<StoredResponse>) {
        self.finished = true;
        self.store
            .finish(&self.key, self.fingerprint, response)
            .await;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let (store, key, fingerprint) = (self.store.clone(), self.key.clone(), self.fingerprint);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { store.finish(&key, fingerprint, None).await });
        }
    }
}

/// The middleware, layered on the whole router (`from_fn_with_state`): see the module
/// documentation. Buffers the request body (up to [`BODY_LIMIT_BYTES`]) to hash it, and the
/// answer to store it.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let key = match idempotency_key(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(error) => return error.into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let Ok(identity) = Identity::from_request_parts(&mut parts, &state).await else {
        // The route's guard answers `401`; nothing runs, nothing is stored.
        return next.run(Request::from_parts(parts, body)).await;
    };
    let body = match to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(body) => body,
        Err(error) => return unreadable_body(error),
    };
    let key = ScopedKey {
        subject: identity.subject().to_owned(),
        role: identity.role().as_str(),
        route: parts.uri.path().to_owned(),
        key,
    };
    let fingerprint = fingerprint(&parts.headers, &body);
    let store = state.idempotency.clone();
    match store.begin(&key, fingerprint).await {
        Begin::Proceed => {}
        Begin::Replay(stored) => return replay(stored),
        Begin::Mismatch => return IdempotencyError::KeyReused.into_response(),
        Begin::Full => return IdempotencyError::StoreFull.into_response(),
    }
    let claim = Claim {
        store,
        key,
        fingerprint,
        finished: false,
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if !is_stored(response.status()) {
        claim.finish(None).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            claim.finish(None).await;
            return ApiError::Internal(format!("could not read the answer to store it: {error}"))
                .into_response();
        }
    };
    let stored = (body.len() <= MAX_STORED_BODY_BYTES).then(|| StoredResponse {
        status: parts.status,
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    claim.finish(stored).await;
    Response::from_parts(parts, Body::from(body))
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = stored.status;
    *response.headers_mut() = stored.headers;
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// A body over the limit is `413` like everywhere else; one that broke off is `400`.
fn unreadable_body(error: axum::Error) -> Response {
    let inner = error.into_inner();
    if inner
        .downcast_ref::<http_body_util::LengthLimitError>()
        .is_some()
    {
        ApiError::PayloadTooLarge {
            limit: BODY_LIMIT_BYTES,
        }
        .into_response()
    } else {
        ApiError::BadRequest(format!("could not read the request body: {inner}")).into_response()
    }
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
