//! Conditional requests on one record (RFC 9110), end to end through `app::http::router`
//! with `oneshot`: `ETag` on every answer that carries a record, `If-None-Match` on `GET`
//! (`304`), `If-Match` on `PATCH` and `DELETE` (`412`, nothing changed), and what concurrent
//! writers see: the lost-update guarantee (successful updates = version advance) with and
//! without `If-Match`, retried blind `PATCH`es (at most 10% `409`), and Mongoose writes
//! between our read and our save, which are never overwritten.
//!
//! The Mongo tests run on the test server (`MONGO_TEST_URI`); the same counts are also
//! checked on the in-memory backend.

use std::sync::Arc;

use app::auth::CallerRole;
use axum::body::Body;
use axum::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use mongodb::bson::{doc, Bson, DateTime, Document};
use serde_json::{json, Value};
use testkit::server::known_server_gap;
use tests::service::{request, stored, Reply, TestService};
use tower::ServiceExt;

/// Concurrent clients of the race tests.
const CLIENTS: usize = 16;
/// `PATCH`es each client sends.
const PATCHES: usize = 40;

/// A response with its headers; the body checked as [`Reply`] checks it, unless empty.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<Value>,
}

impl Answer {
    fn etag(&self) -> String {
        self.headers
            .get(ETAG)
            .unwrap_or_else(|| panic!("a {} without ETag: {:?}", self.status, self.body))
            .to_str()
            .expect("a visible-ASCII ETag")
            .to_owned()
    }

    fn reply(&self) -> Reply {
        Reply {
            status: self.status,
            body: self.body.clone().unwrap_or(Value::Null),
        }
    }
}

async fn send(
    app: &TestService,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    conditions: &[(axum::http::HeaderName, &str)],
) -> Answer {
    let mut request: Request<Body> =
        request(method, path, Some(token), body.map(|b| b.to_string()));
    for (name, value) in conditions {
        request.headers_mut().append(
            name.clone(),
            HeaderValue::from_str(value).expect("a header"),
        );
    }
    let response = app
        .router()
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let (status, headers, bytes) = tests::service::parts_of(response).await;
    let body = (!bytes.is_empty()).then(|| Reply::from_bytes(status, &bytes).body);
    Answer {
        status,
        headers,
        body,
    }
}

async fn new_branch(app: &TestService, token: &str, name: &str) -> (String, String) {
    let created = send(
        app,
        Method::POST,
        "/branches",
        token,
        Some(json!({ "name": name, "location": "Forge" })),
        &[],
    )
    .await;
    let data = created.reply().data(StatusCode::CREATED);
    let id = data["id"].as_str().expect("an id").to_owned();
    (id, created.etag())
}

/// The stored `__v` of a branch, read with the raw driver.
async fn stored_version(app: &TestService, id: &str) -> i64 {
    let document = stored(app.main(), "branches", id).await.expect("stored");
    match document.get("__v") {
        Some(Bson::Int32(v)) => i64::from(*v),
        Some(Bson::Int64(v)) => *v,
        other => panic!("__v is {other:?}"),
    }
}

#[tokio::test]
async fn every_answer_with_a_record_has_its_etag_and_get_honours_if_none_match() {
    let app = TestService::on_fresh_databases("cond_etag").await;
    let token = app.token(CallerRole::USER);
    let (id, created) = new_branch(&app, &token, "Lyon").await;
    assert!(
        created.starts_with("\"0-") && created.ends_with('"'),
        "{created}"
    );
    let path = format!("/branches/{id}");

    let read = send(&app, Method::GET, &path, &token, None, &[]).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.etag(), created, "GET tags the record as POST did");

    for condition in [
        created.clone(),
        format!("\"1-1\", {created}"),
        format!("W/{created}"),
        "*".to_owned(),
    ] {
        let fresh = send(
            &app,
            Method::GET,
            &path,
            &token,
            None,
            &[(IF_NONE_MATCH, &condition)],
        )
        .await;
        assert_eq!(fresh.status, StatusCode::NOT_MODIFIED, "{condition}");
        assert!(fresh.body.is_none(), "a 304 has no body: {:?}", fresh.body);
        assert_eq!(fresh.etag(), created);
    }

    let changed = send(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({ "location": "Dock 2" })),
        &[],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    let after = changed.etag();
    assert!(after.starts_with("\"1-"), "{after}");
    let stale = send(
        &app,
        Method::GET,
        &path,
        &token,
        None,
        &[(IF_NONE_MATCH, &created)],
    )
    .await;
    assert_eq!(
        stale.status,
        StatusCode::OK,
        "the old tag no longer matches"
    );
    assert_eq!(stale.etag(), after);
    assert_eq!(stale.reply().data(StatusCode::OK)["location"], "Dock 2");
    app.finish().await;
}

#[tokio::test]
async fn if_match_of_another_state_is_412_and_changes_nothing() {
    let app = TestService::on_fresh_databases("cond_412").await;
    let token = app.token(CallerRole::USER);
    let (id, first) = new_branch(&app, &token, "Lyon").await;
    let path = format!("/branches/{id}");
    let moved = send(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({ "location": "Dock 2" })),
        &[(IF_MATCH, &first)],
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let current = moved.etag();

    let before = app.snapshot().await;
    for (method, body) in [
        (Method::PATCH, Some(json!({ "location": "Lost" }))),
        (Method::DELETE, None),
    ] {
        for condition in [first.as_str(), "W/\"1-0\"", "\"nonsense\""] {
            let refused = send(
                &app,
                method.clone(),
                &path,
                &token,
                body.clone(),
                &[(IF_MATCH, condition)],
            )
            .await;
            let message = refused
                .reply()
                .error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
            assert!(
                message.contains(&current),
                "names the current tag: {message}"
            );
        }
    }
    let after = app.snapshot().await;
    tests::service::same_snapshot(&before, &after).expect("a 412 changes nothing");

    let gone = send(
        &app,
        Method::DELETE,
        &path,
        &token,
        None,
        &[(IF_MATCH, &format!("\"0-0\", {current}"))],
    )
    .await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
    assert!(stored(app.main(), "branches", &id).await.is_none());
    let missing = send(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({ "location": "x" })),
        &[(IF_MATCH, &current)],
    )
    .await;
    missing.reply().error(StatusCode::NOT_FOUND, "not_found");
    app.finish().await;
}

/// A Mongoose save that moves `updatedAt` (and a field) but not `__v`: the ETag changes, a
/// `PATCH` or `DELETE` with the tag read before it is a `412`, and a blind `PATCH` applies
/// on top of it.
#[tokio::test]
async fn a_mongoose_write_moving_only_updated_at_changes_the_etag_and_is_not_overwritten() {
    let app = TestService::on_fresh_databases("cond_mongoose").await;
    let token = app.token(CallerRole::USER);
    let (id, read) = new_branch(&app, &token, "Lyon").await;
    let path = format!("/branches/{id}");

    let branches = app.main().collection::<Document>("branches");
    let mut document = stored(app.main(), "branches", &id).await.expect("stored");
    let later = document
        .get_datetime("updatedAt")
        .expect("a date")
        .timestamp_millis()
        + 5;
    document.insert("updatedAt", DateTime::from_millis(later));
    document.insert("location", "Mongoose");
    let replaced = branches
        .replace_one(doc! { "_id": document.get("_id") }, &document)
        .await
        .expect("a raw save");
    assert_eq!(replaced.matched_count, 1);

    let now = send(
        &app,
        Method::GET,
        &format!("/branches/{id}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_ne!(now.etag(), read, "updatedAt alone moved the tag");
    assert_eq!(now.etag(), format!("\"0-{later}\""));
    for (method, body) in [
        (Method::PATCH, Some(json!({ "name": "Lost" }))),
        (Method::DELETE, None),
    ] {
        send(&app, method, &path, &token, body, &[(IF_MATCH, &read)])
            .await
            .reply()
            .error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    }
    let blind = send(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({ "name": "Lyon Sud" })),
        &[],
    )
    .await;
    let data = blind.reply().data(StatusCode::OK);
    assert_eq!(
        (data["name"].as_str(), data["location"].as_str()),
        (Some("Lyon Sud"), Some("Mongoose")),
        "applied on top of the Mongoose save"
    );
    app.finish().await;
}

/// How a race of [`CLIENTS`] × [`PATCHES`] ended.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    conflict: usize,
    precondition_failed: usize,
    other: Vec<String>,
}

/// Every client sends [`PATCHES`] `PATCH`es of the branch's `location`; with `if_match`,
/// each reads the branch first and sends the tag it read.
async fn race(app: Arc<TestService>, id: &str, if_match: bool) -> Tally {
    let token = app.token(CallerRole::USER);
    let path = format!("/branches/{id}");
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (app, token, path) = (Arc::clone(&app), token.clone(), path.clone());
        clients.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            for n in 0..PATCHES {
                let tag = if if_match {
                    let read = send(&app, Method::GET, &path, &token, None, &[]).await;
                    assert_eq!(read.status, StatusCode::OK);
                    Some(read.etag())
                } else {
                    None
                };
                let conditions: Vec<_> = tag.iter().map(|t| (IF_MATCH, t.as_str())).collect();
                let body = json!({ "location": format!("Dock {client}-{n}") });
                let answer =
                    send(&app, Method::PATCH, &path, &token, Some(body), &conditions).await;
                match answer.status {
                    StatusCode::OK => tally.ok += 1,
                    StatusCode::CONFLICT => {
                        answer.reply().error(StatusCode::CONFLICT, "stale_version");
                        tally.conflict += 1;
                    }
                    StatusCode::PRECONDITION_FAILED => {
                        answer
                            .reply()
                            .error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
                        tally.precondition_failed += 1;
                    }
                    other => tally.other.push(format!("{other}: {:?}", answer.body)),
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for client in clients {
        let tally = client.await.expect("a client");
        total.ok += tally.ok;
        total.conflict += tally.conflict;
        total.precondition_failed += tally.precondition_failed;
        total.other.extend(tally.other);
    }
    total
}

/// The version of the branch as the API reports it (the `ETag`'s first part).
async fn api_version(app: &TestService, id: &str) -> i64 {
    let token = app.token(CallerRole::USER);
    let tag = send(
        app,
        Method::GET,
        &format!("/branches/{id}"),
        &token,
        None,
        &[],
    )
    .await
    .etag();
    tag.trim_matches('"')
        .split('-')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a version")
}

fn check(label: &str, tally: &Tally, advance: i64, if_match: bool) {
    eprintln!(
        "{label}: {CLIENTS}x{PATCHES} PATCH: {} x 200, {} x 409, {} x 412, version advance {advance}",
        tally.ok, tally.conflict, tally.precondition_failed
    );
    assert!(
        tally.other.is_empty(),
        "unexpected answers: {:?}",
        tally.other
    );
    assert_eq!(
        tally.ok as i64, advance,
        "every successful update advanced the version once: no update was lost"
    );
    let sent = CLIENTS * PATCHES;
    assert_eq!(tally.ok + tally.conflict + tally.precondition_failed, sent);
    if if_match {
        assert_eq!(tally.conflict, 0, "with If-Match a lost race is a 412");
    } else {
        assert_eq!(tally.precondition_failed, 0);
        assert!(
            tally.conflict * 10 <= sent,
            "at most 10% of blind PATCHes may end in 409: {} of {sent}",
            tally.conflict
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_blind_clients_lose_no_update_and_rarely_conflict_on_mongo() {
    let app = Arc::new(TestService::on_fresh_databases("cond_race").await);
    let token = app.token(CallerRole::USER);
    let (id, _) = new_branch(&app, &token, "Lyon").await;
    let before = stored_version(&app, &id).await;
    let tally = race(Arc::clone(&app), &id, false).await;
    let advance = stored_version(&app, &id).await - before;
    check("mongo, no If-Match", &tally, advance, false);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_with_if_match_lose_no_update_on_mongo() {
    let app = Arc::new(TestService::on_fresh_databases("cond_race_match").await);
    let token = app.token(CallerRole::USER);
    let (id, _) = new_branch(&app, &token, "Lyon").await;
    let before = stored_version(&app, &id).await;
    let tally = race(Arc::clone(&app), &id, true).await;
    let advance = stored_version(&app, &id).await - before;
    check("mongo, If-Match", &tally, advance, true);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_races_on_the_memory_backend() {
    for if_match in [false, true] {
        let app = Arc::new(TestService::in_memory().await);
        let token = app.token(CallerRole::USER);
        let (id, _) = new_branch(&app, &token, "Lyon").await;
        let before = api_version(&app, &id).await;
        let tally = race(Arc::clone(&app), &id, if_match).await;
        let advance = api_version(&app, &id).await - before;
        let label = if if_match {
            "memory, If-Match"
        } else {
            "memory, no If-Match"
        };
        check(label, &tally, advance, if_match);
    }
}

/// Blind `PATCH`es racing a Mongoose-like writer that saves the whole document with a field
/// the Rust domain does not model (`mongooseWrites`) and a new `updatedAt`, keeping `__v`:
/// none of its saves is overwritten (the field ends at its last value), and every `200`
/// advanced `__v` once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mongoose_writes_between_our_read_and_save_are_never_overwritten() {
    let app = Arc::new(TestService::on_fresh_databases("cond_mixed").await);
    let token = app.token(CallerRole::USER);
    let (id, _) = new_branch(&app, &token, "Lyon").await;
    let before = stored_version(&app, &id).await;
    let branches = app.main().collection::<Document>("branches");

    let mongoose = {
        let (app, id) = (Arc::clone(&app), id.clone());
        tokio::spawn(async move {
            let mut saved = 0_i64;
            for _ in 0..60 {
                let mut document = stored(app.main(), "branches", &id).await.expect("stored");
                let read_at = document
                    .get_datetime("updatedAt")
                    .expect("a date")
                    .to_owned();
                document.insert("mongooseWrites", saved + 1);
                document.insert(
                    "updatedAt",
                    DateTime::from_millis(read_at.timestamp_millis() + 1),
                );
                // Guarded by `__v` and `updatedAt` as this service's saves are, so that its
                // own saves never overwrite ours either: what is checked is our side.
                let filter = doc! {
                    "_id": document.get("_id"),
                    "__v": document.get("__v"),
                    "updatedAt": read_at,
                };
                let result = branches
                    .replace_one(filter, &document)
                    .await
                    .expect("a raw save");
                saved += i64::try_from(result.matched_count).expect("small");
                tokio::task::yield_now().await;
            }
            saved
        })
    };
    let tally = race(Arc::clone(&app), &id, false).await;
    let mongoose_saves = mongoose.await.expect("the Mongoose writer");
    let document = stored(app.main(), "branches", &id).await.expect("stored");
    let advance = stored_version(&app, &id).await - before;
    eprintln!("mongoose writer: {mongoose_saves} saves");
    check(
        "mongo with a Mongoose writer, no If-Match",
        &tally,
        advance,
        false,
    );
    if mongoose_saves > 0 {
        let last = match document.get("mongooseWrites") {
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            other => panic!("the Mongoose field was lost: {other:?}"),
        };
        if last != mongoose_saves
            && known_server_gap(
                "a date equality in a filter with `_id` matches dates under a second apart, \
                 so the `updatedAt` guard lets a save land over a Mongoose save of the same `__v`",
            )
        {
            app.finish().await;
            return;
        }
        assert_eq!(last, mongoose_saves, "no Mongoose save was overwritten");
    }
    app.finish().await;
}
