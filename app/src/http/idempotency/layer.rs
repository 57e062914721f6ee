//! The middleware: claim the key, run the route, keep its answer, on the store of the route's
//! role. See the [module documentation](super).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ports::{Claim, ClaimToken, Fingerprint, IdempotencyKey, IdempotencyStore, Role, StoredAnswer};

use super::{
    fingerprint, idempotency_key, scoped_key, IdempotencyError, IDEMPOTENT_REPLAYED,
    MAX_STORED_BODY_BYTES,
};
use crate::auth::Identity;
use crate::http::error::ApiError;
use crate::http::{AppState, Arrived, BODY_LIMIT_BYTES};

/// The first wait before asking again about a key another request holds; doubled up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The middleware's state: the app's, and the role whose store keeps the route's answers.
#[derive(Debug, Clone)]
pub struct RouteStore {
    /// The app's state.
    pub state: AppState,
    /// The role of the route, whose database keeps its answers.
    pub role: Role,
}

/// Set by a handler once the request was found valid and its work begins: from then on its
/// answer, whatever it is, is the one a retry gets. In the request's extensions while a key
/// is claimed.
#[derive(Debug, Clone, Default)]
pub struct WorkStarted(Arc<AtomicBool>);

impl WorkStarted {
    /// The request was valid; its work begins now.
    pub fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn began(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The middleware, layered on each mount with its role (`from_fn_with_state`), inside the
/// route's guard: a caller without a valid token never reaches it. Buffers the request body
/// (up to [`BODY_LIMIT_BYTES`]) to hash it, and the answer to keep it.
pub async fn layer(State(route): State<RouteStore>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let key = match idempotency_key(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(error) => return error.into_response(),
    };
    let Some(store) = route.state.idempotency.of(route.role).cloned() else {
        // A read-only role: its routes refuse writes, so nothing is ever created twice.
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let Ok(identity) = Identity::from_request_parts(&mut parts, &route.state).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let body = match to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(body) => body,
        Err(error) => return unreadable_body(error),
    };
    let key = scoped_key(
        identity.role(),
        identity.subject(),
        &parts.method,
        parts.uri.path(),
        &key,
    );
    let fingerprint = fingerprint(&parts.headers, &body);
    let waiting = Waiting::until(wait_deadline(&parts, route.state.request_timeout));
    let token = match waiting.claim(store.as_ref(), &key, &fingerprint).await {
        Ok(Claimed::Owned(token)) => token,
        Ok(Claimed::Answered(response)) => return response,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let started = WorkStarted::default();
    parts.extensions.insert(started.clone());
    let claim = Held {
        store,
        key,
        fingerprint,
        token,
        started,
        settled: false,
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    claim.settle(response).await
}

/// A claim this request holds until it is settled: released if the request is dropped before
/// its work began (the request deadline, a client gone), kept for its lease otherwise.
struct Held {
    store: Arc<dyn IdempotencyStore>,
    key: IdempotencyKey,
    fingerprint: Fingerprint,
    token: ClaimToken,
    started: WorkStarted,
    settled: bool,
}

impl Held {
    /// Keeps `response` as the key's answer if the work began, else gives the key up; returns
    /// the response to send. Once the work began the key is never given up: a retry must not
    /// run it again.
    async fn settle(mut self, response: Response) -> Response {
        self.settled = true;
        if !self.started.began() {
            self.release().await;
            return response;
        }
        let (parts, body) = response.into_parts();
        let body = match to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(error) => {
                // The claim stays until its lease ends.
                return ApiError::Internal(format!(
                    "could not read the answer to keep it: {error}"
                ))
                .into_response();
            }
        };
        let answer = stored(&parts, &body);
        // In a task of its own: a request cut off by its deadline now must not leave its
        // work done and its answer unkept.
        let (store, key, fingerprint, token) = (
            self.store.clone(),
            self.key.clone(),
            self.fingerprint,
            self.token.clone(),
        );
        let kept =
            tokio::spawn(async move { store.complete(&key, &fingerprint, &token, answer).await });
        match kept.await {
            Ok(Ok(())) => {}
            // The claim stays until its lease ends; a retry then runs again.
            Ok(Err(error)) => tracing::warn!(%error, "could not keep an answer for its retries"),
            Err(error) => tracing::warn!(%error, "could not keep an answer for its retries"),
        }
        Response::from_parts(parts, Body::from(body))
    }

    async fn release(&self) {
        if let Err(error) = self.store.release(&self.key, &self.token).await {
            tracing::warn!(%error, "could not give up an idempotency claim; it ends with its lease");
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.settled || self.started.began() {
            return;
        }
        let (store, key, token) = (self.store.clone(), self.key.clone(), self.token.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { store.release(&key, &token).await });
        }
    }
}

/// What a claim came to.
enum Claimed {
    /// This request runs.
    Owned(ClaimToken),
    /// What to answer instead: a replay, a key reused, a key still busy.
    Answered(Response),
}

/// How long a request may wait for the key another request holds.
struct Waiting {
    until: Instant,
}

impl Waiting {
    fn until(until: Instant) -> Self {
        Self { until }
    }

    /// Claims `key`, waiting with back-off while another request holds it.
    async fn claim(
        &self,
        store: &dyn IdempotencyStore,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
    ) -> Result<Claimed, ports::RepositoryError> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let lease_left = match store.claim(key, fingerprint).await? {
                Claim::Owned(token) => return Ok(Claimed::Owned(token)),
                Claim::Replay(answer) => return Ok(Claimed::Answered(replay(answer))),
                Claim::Mismatch => {
                    return Ok(Claimed::Answered(
                        IdempotencyError::KeyReused.into_response(),
                    ))
                }
                Claim::Running { lease_left } => lease_left,
            };
            let now = Instant::now();
            if now + backoff > self.until {
                let retry_after = lease_left.min(MAX_BACKOFF * 5).max(Duration::from_secs(1));
                let busy = IdempotencyError::InProgress { retry_after };
                return Ok(Claimed::Answered(busy.into_response()));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// When a request must stop waiting for a key and answer `409`: before its request timeout
/// cuts it (counted from when it arrived, with a tenth of the timeout, at most a second, to
/// spare), and on Lambda before the invocation's deadline.
fn wait_deadline(parts: &Parts, request_timeout: Duration) -> Instant {
    let margin = (request_timeout / 10).min(Duration::from_secs(1));
    let arrived = parts
        .extensions
        .get::<Arrived>()
        .map_or_else(Instant::now, |arrived| arrived.0);
    let spent = arrived.elapsed();
    let mut budget = request_timeout.saturating_sub(margin).saturating_sub(spent);
    if let Some(context) = parts.extensions.get::<lambda_http::Context>() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let left = Duration::from_millis(context.deadline.saturating_sub(now_ms));
        budget = budget.min(left.saturating_sub(margin));
    }
    Instant::now() + budget
}

/// The answer as the store keeps it. A body over [`MAX_STORED_BODY_BYTES`] is not kept, its
/// status and headers (`Location`, `ETag`) are: a retry is told the same outcome, and where to
/// read the record, rather than creating it again.
fn stored(parts: &axum::http::response::Parts, body: &Bytes) -> StoredAnswer {
    let kept = body.len() <= MAX_STORED_BODY_BYTES;
    if !kept {
        tracing::warn!(
            bytes = body.len(),
            "an answer's body too large to keep for its retries"
        );
    }
    StoredAnswer {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .filter(|(name, _)| kept || *name != header::CONTENT_TYPE)
            .filter(|(name, _)| *name != header::CONTENT_LENGTH)
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect(),
        body: if kept { body.to_vec() } else { Vec::new() },
    }
}

/// A kept answer, sent again with `Idempotent-Replayed: true`.
fn replay(answer: StoredAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            headers.append(name, value);
        }
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
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
    use axum::http::header::{CONTENT_TYPE, LOCATION};

    use super::*;

    fn parts() -> axum::http::response::Parts {
        let response = Response::builder()
            .status(StatusCode::CREATED)
            .header(LOCATION, "/orders/65f0a1b2c3d4e5f6a7b8c9d0")
            .header(CONTENT_TYPE, "application/json")
            .body(())
            .unwrap();
        response.into_parts().0
    }

    #[test]
    fn an_answer_is_kept_whole_with_its_status_and_headers() {
        let kept = stored(&parts(), &Bytes::from_static(br#"{"data":{}}"#));
        assert_eq!(kept.status, 201);
        assert_eq!(kept.body, br#"{"data":{}}"#);
        let names: Vec<&str> = kept.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["location", "content-type"]);
    }

    #[test]
    fn a_body_too_large_to_keep_leaves_its_status_and_location_for_the_retry() {
        let large = Bytes::from(vec![b'x'; MAX_STORED_BODY_BYTES + 1]);
        let kept = stored(&parts(), &large);
        assert_eq!(kept.status, 201);
        assert!(kept.body.is_empty());
        let names: Vec<&str> = kept.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["location"]);
    }
}
