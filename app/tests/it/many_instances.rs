//! Many instances behave as one: two `app serve` processes (and two `app lambda` execution
//! environments) on one test server share their `Idempotency-Key` claims and answers, so a
//! retry that reaches the other instance, or races the first attempt there, never creates a
//! second record; a claim left by a dead instance blocks its key only until its lease ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use adapters_mongo::{ConnectionManager, MongoIdempotencyStore, IDEMPOTENCY_COLLECTION};
use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use app::http::idempotency::scoped_key;
use axum::http::{Method, StatusCode};
use hyper::body::Bytes;
use hyper::Response;
use mongodb::bson::doc;
use ports::{Claim, IdempotencyStore, IdempotencyTerms, Role};
use secrecy::SecretString;
use serde_json::{json, Value};
use testkit::http::{send, Call};
use testkit::lambda_runtime::{http_api_event, FakeRuntime};
use testkit::process::{AppProcess, Launch};
use testkit::server::test_server_uri;
use tests::service::{raw_client, FreshDatabases};
use tokio::task::JoinSet;

const SECRET: &str = "many-instances-secret-of-32-byte";
/// Short, so that the tests wait for a lease in seconds; the lease is longer than a request
/// may take, as start-up requires.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
const LEASE: Duration = Duration::from_secs(4);

/// One deployment: its databases, and instances started on them.
struct Deployment {
    databases: FreshDatabases,
    logs: tempfile::TempDir,
}

impl Deployment {
    fn new(prefix: &str) -> Self {
        Self {
            databases: FreshDatabases::new(prefix),
            logs: tempfile::tempdir().unwrap(),
        }
    }

    /// The app as production runs it, with `command` (`serve` or `lambda`) and `env`.
    fn launch(&self, command: &str, env: Vec<(String, String)>) -> Launch {
        Launch::new(env!("CARGO_BIN_EXE_app"), [command])
            .env("MONGO_URI", self.databases.uri(Role::MAIN))
            .env(
                "MASTER_ADMIN_MONGO_URI",
                self.databases.uri(Role::MASTERADMIN),
            )
            .env("AUTH_JWT_SECRET", SECRET)
            .env(
                "REQUEST_TIMEOUT_MS",
                REQUEST_TIMEOUT.as_millis().to_string(),
            )
            .env("IDEMPOTENCY_LEASE_MS", LEASE.as_millis().to_string())
            .env("MONGO_SERVER_SELECTION_TIMEOUT_MS", "5000")
            .envs(env)
    }

    /// An `app serve` instance, listening.
    async fn serve(&self, name: &str) -> AppProcess {
        let log = self.logs.path().join(format!("{name}.log"));
        let mut app = AppProcess::spawn(&self.launch("serve", Vec::new()), &log).unwrap();
        app.wait_until_listening(Duration::from_secs(30))
            .await
            .unwrap();
        app
    }

    /// How many records `collection` of the main database holds.
    async fn count(&self, collection: &str) -> u64 {
        let client = raw_client(&test_server_uri()).await;
        let count = client
            .database(&self.databases.main)
            .collection::<mongodb::bson::Document>(collection)
            .count_documents(doc! {})
            .await
            .unwrap();
        client.shutdown().await;
        count
    }

    async fn drop(self) {
        let client = raw_client(&test_server_uri()).await;
        for database in [&self.databases.main, &self.databases.masteradmin] {
            let _ = client.database(database).drop().await;
        }
        client.shutdown().await;
    }
}

fn token(subject: &str) -> String {
    JwtKeys::new(&SecretString::from(SECRET), TokenPolicy::default())
        .unwrap()
        .issue(subject, CallerRole::USER, Duration::from_secs(600))
}

/// `POST /branches` of a branch named `name`, with `Idempotency-Key: key`.
async fn create(address: SocketAddr, token: &str, key: &str, name: &str) -> Response<Bytes> {
    let body = json!({ "name": name, "location": "Dock 4" }).to_string();
    let call = Call::post("/branches", body)
        .bearer(token)
        .header("idempotency-key".parse().unwrap(), key);
    send(address, call).await.unwrap()
}

fn json(response: &Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).unwrap_or(Value::Null)
}

fn replayed(response: &Response<Bytes>) -> bool {
    response.headers().get("idempotent-replayed").is_some()
}

#[tokio::test]
async fn a_post_retried_on_another_instance_makes_one_record_and_gets_the_first_answer() {
    let deployment = Deployment::new("instances_retry");
    let (a, b) = tokio::join!(deployment.serve("a"), deployment.serve("b"));
    let token = token("retrying-client");

    let first = create(a.address(), &token, "order-7", "Lyon").await;
    assert_eq!(first.status(), StatusCode::CREATED, "{:?}", json(&first));
    let retry = create(b.address(), &token, "order-7", "Lyon").await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert!(replayed(&retry), "B replays A's answer");
    assert!(!replayed(&first));
    assert_eq!(json(&retry), json(&first));
    assert_eq!(retry.headers()["location"], first.headers()["location"]);
    assert_eq!(deployment.count("branches").await, 1);

    a.stop();
    b.stop();
    deployment.drop().await;
}

#[tokio::test]
async fn fifty_keys_each_sent_to_both_instances_at_once_make_fifty_records_and_equal_answers() {
    let deployment = Deployment::new("instances_race");
    let (a, b) = tokio::join!(deployment.serve("a"), deployment.serve("b"));
    let token = token("racing-client");

    let mut pairs = JoinSet::new();
    for n in 0..50 {
        let (token, addresses) = (token.clone(), [a.address(), b.address()]);
        pairs.spawn(async move {
            let (key, name) = (format!("race-{n}"), format!("Branch {n}"));
            let (first, second) = tokio::join!(
                create(addresses[0], &token, &key, &name),
                create(addresses[1], &token, &key, &name)
            );
            (n, first, second)
        });
    }
    for (n, first, second) in pairs.join_all().await {
        assert_eq!(
            (first.status(), second.status()),
            (StatusCode::CREATED, StatusCode::CREATED),
            "key {n}: {:?} {:?}",
            json(&first),
            json(&second)
        );
        assert_eq!(json(&first), json(&second), "key {n}");
        assert_eq!(
            u8::from(replayed(&first)) + u8::from(replayed(&second)),
            1,
            "key {n}: one answer, one replay"
        );
    }
    assert_eq!(deployment.count("branches").await, 50);

    a.stop();
    b.stop();
    deployment.drop().await;
}

#[tokio::test]
async fn a_claim_left_by_a_dead_instance_blocks_its_key_until_its_lease_ends() {
    let deployment = Deployment::new("instances_stale");
    let a = deployment.serve("a").await;
    let subject = "stale-client";

    // The claim a crashed instance leaves: inserted through the store, never completed.
    let manager = ConnectionManager::new(deployment.databases.settings());
    let terms = IdempotencyTerms {
        window: Duration::from_secs(60),
        lease: LEASE,
    };
    let store = MongoIdempotencyStore::new(manager.role(Role::MAIN).unwrap(), terms);
    let key = scoped_key(
        CallerRole::USER,
        subject,
        &Method::POST,
        "/branches",
        "stale-1",
    );
    let claimed_at = Instant::now();
    let claim = store.claim(&key, &[0; 32]).await.unwrap();
    assert!(matches!(claim, Claim::Owned(_)), "{claim:?}");

    let blocked = create(a.address(), &token(subject), "stale-1", "Lyon").await;
    assert_eq!(
        blocked.status(),
        StatusCode::CONFLICT,
        "{:?}",
        json(&blocked)
    );
    assert_eq!(json(&blocked)["error"]["code"], "idempotency_in_progress");
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=LEASE.as_secs()).contains(&retry_after),
        "{retry_after}"
    );
    assert_eq!(deployment.count("branches").await, 0);

    tokio::time::sleep((claimed_at + LEASE + Duration::from_millis(300)) - Instant::now()).await;
    let created = create(a.address(), &token(subject), "stale-1", "Lyon").await;
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "{:?}",
        json(&created)
    );
    assert_eq!(deployment.count("branches").await, 1);

    manager.shutdown().await;
    a.stop();
    deployment.drop().await;
}

#[tokio::test]
async fn keys_held_by_an_instance_killed_mid_request_are_free_again_once_the_lease_ends() {
    let deployment = Deployment::new("instances_killed");
    let b = deployment.serve("b").await;
    let client = raw_client(&test_server_uri()).await;
    let records = client
        .database(&deployment.databases.main)
        .collection::<mongodb::bson::Document>(IDEMPOTENCY_COLLECTION);
    let token = token("killed-client");

    // Instance A works through keys until a claim is caught running, then dies at once.
    let mut caught = 0;
    let mut keys = Vec::new();
    for attempt in 0..5 {
        let a = deployment.serve(&format!("a-{attempt}")).await;
        let mut load = JoinSet::new();
        for n in 0..40 {
            let key = format!("killed-{attempt}-{n}");
            keys.push(key.clone());
            let (token, address) = (token.clone(), a.address());
            load.spawn(async move { create(address, &token, &key, &key).await });
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let running = records.count_documents(doc! { "state": "running" }).await;
            if running.unwrap() > 0 {
                break;
            }
        }
        a.kill();
        load.abort_all();
        caught = records
            .count_documents(doc! { "state": "running" })
            .await
            .unwrap();
        if caught > 0 {
            break;
        }
    }
    assert!(caught > 0, "no claim was ever caught running when A died");

    // Until the lease ends a retry is told to come back; after it, every key answers.
    tokio::time::sleep(LEASE + Duration::from_millis(300)).await;
    for key in &keys {
        let retry = create(b.address(), &token, key, key).await;
        assert_eq!(
            retry.status(),
            StatusCode::CREATED,
            "{key}: {:?}",
            json(&retry)
        );
    }
    let running = records.count_documents(doc! { "state": "running" }).await;
    assert_eq!(running.unwrap(), 0);

    client.shutdown().await;
    b.stop();
    deployment.drop().await;
}

#[tokio::test]
async fn a_flood_of_refused_requests_with_fresh_keys_keeps_nothing_and_pushes_out_nothing() {
    let deployment = Deployment::new("instances_flood");
    let (a, b) = tokio::join!(deployment.serve("a"), deployment.serve("b"));
    let (victim, attacker) = (token("victim"), token("attacker"));

    let first = create(a.address(), &victim, "ord-7", "Lyon").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let mut flood = JoinSet::new();
    for n in 0..1_000 {
        let (attacker, address) = (attacker.clone(), b.address());
        flood.spawn(async move {
            let call = Call::post("/branches", r#"{"name": "", "colour": "red"}"#)
                .bearer(&attacker)
                .header("idempotency-key".parse().unwrap(), &format!("flood-{n}"));
            send(address, call).await.unwrap().status()
        });
        if flood.len() >= 16 {
            assert_eq!(
                flood.join_next().await.unwrap().unwrap(),
                StatusCode::BAD_REQUEST
            );
        }
    }
    for status in flood.join_all().await {
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let retry = create(b.address(), &victim, "ord-7", "Lyon").await;
    assert!(replayed(&retry));
    assert_eq!(json(&retry), json(&first));
    assert_eq!(deployment.count("branches").await, 1);
    assert_eq!(
        deployment.count(IDEMPOTENCY_COLLECTION).await,
        1,
        "the flood kept nothing"
    );

    a.stop();
    b.stop();
    deployment.drop().await;
}

#[tokio::test]
async fn a_retry_reaching_another_lambda_environment_gets_the_first_answer_and_no_second_record() {
    let deployment = Deployment::new("instances_lambda");
    let token = token("lambda-client");
    let mut answers = Vec::new();
    for environment in ["env-a", "env-b"] {
        let mut runtime = FakeRuntime::start().await.unwrap();
        let launch = deployment.launch("lambda", runtime.environment("back-office"));
        let log = deployment.logs.path().join(format!("{environment}.log"));
        let mut process = AppProcess::spawn(&launch, &log).unwrap();
        let body = json!({ "name": "Lyon", "location": "Dock 4" }).to_string();
        let mut event = http_api_event(Method::POST, "/branches", Some(&token), Some(body));
        event
            .headers
            .insert("idempotency-key", "lambda-order-1".parse().unwrap());
        let answer = runtime
            .invoke(&event, || process.check_alive())
            .await
            .unwrap();
        answers.push(answer);
        process.stop();
    }
    let [first, retry] = &answers[..] else {
        unreachable!()
    };
    assert_eq!(first["statusCode"], 201, "{first}");
    assert_eq!(retry["statusCode"], 201, "{retry}");
    assert_eq!(retry["body"], first["body"]);
    let headers = retry["headers"].as_object().unwrap();
    assert_eq!(headers["idempotent-replayed"], "true", "{retry}");
    assert_eq!(deployment.count("branches").await, 1);
    deployment.drop().await;
}
