//! Answers as the property tests read them, and the invariants every answer keeps.
//!
//! Unlike a [`Reply`](crate::service::Reply), an [`Answer`] reports a broken invariant as an
//! `Err` rather than a panic, so that proptest can shrink the request that broke it, and it
//! keeps the body as text: a `HEAD` answer has none, and a broken one must be shown as it is.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use tower::ServiceExt;

use crate::service::{shorten, NEVER_SHOWN};

/// The request timeout of the service the hostile tests drive.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits for an answer: the service's timeout and a margin.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// An answer: its status, its body as text, and how long it took.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The body, as sent.
    pub text: String,
    elapsed: Duration,
}

/// Sends `request` through `router` and reads the answer, waiting for neither forever.
///
/// # Errors
///
/// When no answer or no whole body comes in time, or the body is not UTF-8.
pub async fn answer(router: &Router, request: Request<Body>) -> Result<Answer, String> {
    let started = Instant::now();
    let response = tokio::time::timeout(ANSWER_TIMEOUT, router.clone().oneshot(request))
        .await
        .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))?
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let bytes = tokio::time::timeout(ANSWER_TIMEOUT, response.into_body().collect())
        .await
        .map_err(|_| format!("a {status} body not read within {ANSWER_TIMEOUT:?}"))?
        .map_err(|e| format!("a {status} body failed: {e}"))?
        .to_bytes();
    Ok(Answer {
        status,
        text: String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("a {status} body is not UTF-8"))?,
        elapsed: started.elapsed(),
    })
}

impl Answer {
    /// The invariants of every answer of a service whose databases are up.
    ///
    /// # Errors
    ///
    /// The broken invariant: a 5xx, or one of [`Answer::check_shape`]'s.
    pub fn check(&self, method: &Method) -> Result<(), String> {
        let status = self.status;
        if status.is_server_error() {
            return Err(format!("answered {status}: {}", shorten(&self.text, 400)));
        }
        self.check_shape(method)
    }

    /// The invariants of every answer, whatever the state of the databases: no secret or
    /// connection string shown, answered within the request timeout, and a body of the
    /// API's shape (none for `HEAD`).
    ///
    /// # Errors
    ///
    /// The broken invariant.
    pub fn check_shape(&self, method: &Method) -> Result<(), String> {
        let status = self.status;
        for shown in NEVER_SHOWN {
            if self.text.contains(shown) {
                return Err(format!("a {status} body shows {shown:?}: {}", self.text));
            }
        }
        if self.elapsed > REQUEST_TIMEOUT + Duration::from_secs(2) {
            return Err(format!(
                "answered {status} after {:?}, over the {REQUEST_TIMEOUT:?} request timeout",
                self.elapsed
            ));
        }
        if method == Method::HEAD {
            return match self.text.is_empty() {
                true => Ok(()),
                false => Err(format!("a HEAD answer has a body: {}", self.text)),
            };
        }
        let body: Value = serde_json::from_str(&self.text).map_err(|e| {
            format!(
                "a {status} body is not JSON ({e}): {:?}",
                shorten(&self.text, 300)
            )
        })?;
        let degraded_health = body["data"]["status"] == "degraded";
        if status == StatusCode::SERVICE_UNAVAILABLE && degraded_health {
            // `/health` answers a database that is down with its usual body and a 503.
            Ok(())
        } else if status.is_client_error() || status.is_server_error() {
            error_shape(&body).map_err(|why| format!("a {status} body {why}: {body}"))
        } else if success_shape(&body) {
            Ok(())
        } else {
            Err(format!("a {status} body is not {{\"data\": …}}: {body}"))
        }
    }
}

/// `{"data": …}`, with a `meta` object when a list has something to say about its page.
fn success_shape(body: &Value) -> bool {
    let Some(object) = body.as_object() else {
        return false;
    };
    object.contains_key("data")
        && object
            .iter()
            .all(|(key, value)| key == "data" || (key == "meta" && value.is_object()))
}

/// `{"error": {"code": "…", "message": "…"}}`, with `fields` for a body's field errors, and
/// nothing else.
fn error_shape(body: &Value) -> Result<(), &'static str> {
    let top = body.as_object().ok_or("is not an object")?;
    let error = top.get("error").and_then(Value::as_object);
    let (1, Some(error)) = (top.len(), error) else {
        return Err("is not {\"error\": {…}} alone");
    };
    let text = |key| error.get(key).and_then(Value::as_str);
    let fields = match error.get("fields") {
        None => 0,
        Some(fields) if crate::service::field_errors(fields).is_some() => 1,
        Some(_) => return Err("has fields that are not a list of {field, message}"),
    };
    match (error.len() - fields, text("code"), text("message")) {
        (2, Some(code), Some(_)) if !code.is_empty() => Ok(()),
        _ => Err("has an error without exactly a code, a message and perhaps fields"),
    }
}

/// Runs `test` on `cases` values of `strategy`, shrinks a failure and panics with it.
pub fn run_property<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: fmt::Debug,
{
    // `PROPTEST_CASES` overrides every count, for a longer hunt than the default run's.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 300,
        max_shrink_time: 90_000,
        ..Config::default()
    };
    let started = Instant::now();
    let runs = Cell::new(0_u32);
    let result = TestRunner::new(config).run(&strategy, |value| {
        runs.set(runs.get() + 1);
        test(value)
    });
    eprintln!(
        "{name}: {} cases run (shrinking included) in {:.1?}",
        runs.get(),
        started.elapsed()
    );
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
}

/// A failed case, saying why.
pub fn fail(why: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(why.into())
}

/// Statuses seen, for the summary line.
#[derive(Default)]
pub struct Tally(RefCell<BTreeMap<u16, u32>>);

impl Tally {
    /// Counts one answer of `status`.
    pub fn count(&self, status: StatusCode) {
        *self.0.borrow_mut().entry(status.as_u16()).or_default() += 1;
    }

    /// Prints the summary line of the test `name`.
    pub fn print(&self, name: &str) {
        let tally = self.0.borrow();
        let total: u32 = tally.values().sum();
        eprintln!("{name}: {total} requests, by status {tally:?}");
    }
}
