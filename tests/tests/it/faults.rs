//! Fault tests: the service wired to MongoDB servers that are down at start-up, die and come
//! back under load, serve one role but not the other, run out of pooled connections, accept
//! connections and never answer, or hang in the middle of an operation.
//!
//! Every scenario drives the real `app::http::router`, either with `oneshot` or, where
//! concurrency matters, through `axum::serve` on 127.0.0.1 with a minimal HTTP/1.0 client of
//! its own. Servers that a test kills are private nx-27017 processes ([`SpawnedServer`], from
//! `NX_27017_BIN`); the pool test uses the shared test server (`MONGO_TEST_URI`). What the
//! service claims to have stored is checked with a separate driver client. Measured figures
//! (elapsed times, recovery times, pool peaks) are printed: run with `--nocapture` to see them.
//!
//! Each scenario is bounded by [`SCENARIO_LIMIT`], and the servers it starts are killed when it
//! ends, passes or fails (`SpawnedServer`'s `Drop`).

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapters_mongo::{collection_name, ConnectionManager, MongoSettings};
use app::auth::CallerRole;
use app::config::AppConfig;
use axum::http::{Method, StatusCode};
use axum::Router;
use domain::Branch;
use mongodb::bson::oid::ObjectId;
use mongodb::Client;
use ports::Role;
use serde_json::{json, Value};
use testkit::server::{stalled_listener, unique_database_name, uri_with_database, SpawnedServer};
use tests::service::{all_documents, raw_client, FreshDatabases, Reply, TestService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The server-selection and connect timeouts of scenarios with a server down: how long a
/// request may wait for a database before the service answers 503.
const FAULT_TIMEOUT: Duration = Duration::from_millis(500);
/// What a 503 may take beyond [`FAULT_TIMEOUT`]: the routing, the error mapping, and a busy
/// 2-core machine.
const MARGIN: Duration = Duration::from_millis(1500);
/// The longest the service may take to serve again once a dead server is back.
const RECOVERY_LIMIT: Duration = Duration::from_secs(15);
/// The longest any scenario may run, servers included.
const SCENARIO_LIMIT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// The service under test

/// Waits for `reply` and times it.
async fn timed(reply: impl Future<Output = Reply>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = reply.await;
    (reply, started.elapsed())
}

/// Sends `GET path` until it answers 200, for at most [`RECOVERY_LIMIT`]; returns how long
/// that took.
async fn wait_until_ok(service: &TestService, path: &str, token: &str) -> Duration {
    let started = Instant::now();
    loop {
        let reply = service.get(path, token).await;
        if reply.status == StatusCode::OK {
            return started.elapsed();
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "while recovering, GET {path} answered {}: {}",
            reply.status,
            reply.body
        );
        assert!(
            started.elapsed() < RECOVERY_LIMIT,
            "GET {path} still answers 503 {RECOVERY_LIMIT:?} after the server returned: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A branch body with `name`.
fn new_branch(name: &str) -> Value {
    json!({ "name": name, "location": "12 rue de la Forge" })
}

/// Runs a scenario, failing it if it outlives [`SCENARIO_LIMIT`]. Dropping the scenario's
/// future on time-out drops its servers, which kills them.
async fn bounded(scenario: impl Future<Output = ()>) {
    if tokio::time::timeout(SCENARIO_LIMIT, scenario)
        .await
        .is_err()
    {
        panic!("the scenario did not finish within {SCENARIO_LIMIT:?}");
    }
}

/// Asserts that something that had to fail for want of a database did so in time.
fn assert_in_time(what: &str, elapsed: Duration) {
    eprintln!("{what}: answered in {elapsed:?} (server-selection timeout {FAULT_TIMEOUT:?})");
    assert!(
        elapsed < FAULT_TIMEOUT + MARGIN,
        "{what} took {elapsed:?}, over {FAULT_TIMEOUT:?} + {MARGIN:?}"
    );
}

/// Settings with `main` and `masteradmin` at these URIs and the short fault timeouts.
fn fault_settings(main: &str, masteradmin: &str) -> MongoSettings {
    MongoSettings::new(main)
        .expect("a valid main URI")
        .with_masteradmin_uri(masteradmin)
        .expect("a valid masteradmin URI")
        .with_server_selection_timeout(FAULT_TIMEOUT)
        .with_connect_timeout(FAULT_TIMEOUT)
}

/// Checks, after `manager` has shut down, that every connection its `main` pool counted open
/// has been counted closed: the counts stay balanced whatever happened to the connections.
async fn assert_pool_drained(manager: &ConnectionManager) {
    let closing = Instant::now();
    while manager.pool_stats(Role::MAIN).unwrap().open > 0
        && closing.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pool = manager.pool_stats(Role::MAIN).unwrap();
    eprintln!("after shutdown: pool {pool:?}");
    assert_eq!(pool.open, 0, "connections still counted open: {pool:?}");
}

// ---------------------------------------------------------------------------------------------
// Looking at the database directly

/// The names of every branch stored in `database`.
async fn stored_branch_names(client: &Client, database: &str) -> Vec<String> {
    let branches = client
        .database(database)
        .collection(&collection_name::<Branch>());
    all_documents(&branches)
        .await
        .iter()
        .map(|document| document.get_str("name").expect("a name").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Over TCP, where concurrency matters

/// The router served by `axum::serve` on a free 127.0.0.1 port; stopped on drop.
struct Served {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(router: Router) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let address = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the HTTP server runs");
    });
    Served { address, task }
}

/// One request over a fresh TCP connection, as HTTP/1.0: the server then ends the body by
/// closing the connection, so reading to the end is all the client needs to do.
async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Reply {
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(address)
        .await
        .expect("the service accepts connections");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .expect("the answer is read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Reply::from_bytes(status, &raw[split + 4..])
}

// ---------------------------------------------------------------------------------------------
// 1. Down at start-up

#[tokio::test]
async fn with_the_server_down_at_start_up_the_service_starts_answers_503_in_time_and_recovers_without_a_rebuild(
) {
    bounded(async {
        let mut server = SpawnedServer::start().await;
        server.kill();
        let database = unique_database_name("faults_startup");
        let uri = uri_with_database(&server.uri(), &database);
        let service = TestService::on_mongo(fault_settings(&uri, &uri)).await;

        let (health, elapsed) = timed(service.health()).await;
        let data = health.data(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(data["status"], "degraded", "{data}");
        for role in Role::DEFAULTS {
            let report = &data["roles"][role.as_str()];
            assert_ne!(report["state"], "connected", "{data}");
            let error = report["error"].as_str().unwrap_or_else(|| panic!("{data}"));
            assert!(error.contains(&format!("the {role} database")), "{data}");
        }
        assert_in_time("GET /health, server down", elapsed);

        let id = ObjectId::new().to_hex();
        let user = service.token(CallerRole::USER);
        let master = service.token(CallerRole::MASTER_ADMIN);
        let attempts = [
            (Method::GET, "/branches".to_owned(), &user, None, Role::MAIN),
            (
                Method::POST,
                "/branches".to_owned(),
                &user,
                Some(new_branch("Lyon")),
                Role::MAIN,
            ),
            (
                Method::GET,
                format!("/branches/{id}"),
                &user,
                None,
                Role::MAIN,
            ),
            (
                Method::GET,
                "/admins".to_owned(),
                &master,
                None,
                Role::MASTERADMIN,
            ),
        ];
        for (method, path, token, body, role) in attempts {
            let what = format!("{method} {path}, server down");
            let (reply, elapsed) = timed(service.send(method, &path, Some(token), body)).await;
            reply.unavailable(role);
            assert_in_time(&what, elapsed);
        }

        server.restart().await;
        let recovery = wait_until_ok(&service, "/branches", &user).await;
        eprintln!("GET /branches answered 200 {recovery:?} after the server started");

        let created = service.post("/branches", &user, new_branch("Lyon")).await;
        let id = created.data(StatusCode::CREATED)["id"].clone();
        let raw = raw_client(&server.uri()).await;
        assert_eq!(stored_branch_names(&raw, &database).await, ["Lyon"]);
        let read = service
            .get(
                &format!("/branches/{}", id.as_str().unwrap_or_default()),
                &user,
            )
            .await;
        assert_eq!(read.data(StatusCode::OK)["name"], "Lyon");
        let health = service.health().await;
        let data = health.data(StatusCode::OK);
        for role in Role::DEFAULTS {
            assert_eq!(data["roles"][role.as_str()]["state"], "connected", "{data}");
        }
        assert_eq!(
            service.manager().client_count(),
            1,
            "the same client recovered"
        );

        service.finish().await;
        raw.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Killed and restarted under load

/// What one create of the load answered.
struct Outcome {
    name: String,
    status: StatusCode,
    body: Value,
    answered: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_under_load_loses_no_acknowledged_create_and_the_service_recovers_after_its_restart(
) {
    const WORKERS: usize = 8;
    bounded(async {
        let mut server = SpawnedServer::start().await;
        let database = unique_database_name("faults_load");
        let main = uri_with_database(&server.uri(), &database);
        let masteradmin = uri_with_database(&server.uri(), &unique_database_name("faults_la"));
        let settings = fault_settings(&main, &masteradmin)
            .with_server_selection_timeout(Duration::from_secs(1))
            .with_connect_timeout(Duration::from_secs(1));
        let service = TestService::on_mongo(settings).await;
        let served = serve(service.router().clone()).await;
        let address = served.address;
        // The first create also creates the unique index; the load starts from a warm service.
        http(
            address,
            "POST",
            "/branches",
            &service.token(CallerRole::USER),
            Some(&new_branch("warm-up")),
        )
        .await
        .data(StatusCode::CREATED);

        let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let (outcomes, stop) = (Arc::clone(&outcomes), Arc::clone(&stop));
                let token = service.token(CallerRole::USER);
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Acquire) {
                        let name = format!("load-{worker}-{n}");
                        n += 1;
                        let body = new_branch(&name);
                        let reply = http(address, "POST", "/branches", &token, Some(&body)).await;
                        let outcome = Outcome {
                            name,
                            status: reply.status,
                            body: reply.body,
                            answered: Instant::now(),
                        };
                        outcomes.lock().expect("not poisoned").push(outcome);
                    }
                })
            })
            .collect();
        let started = Instant::now();

        tokio::time::sleep(Duration::from_secs(1)).await;
        server.kill();
        let killed = Instant::now();
        tokio::time::sleep(Duration::from_secs(1)).await;
        server.restart().await;
        let restarted = Instant::now();
        let recovered = loop {
            let first_success = outcomes
                .lock()
                .expect("not poisoned")
                .iter()
                .filter(|o| o.status == StatusCode::CREATED && o.answered > restarted)
                .map(|o| o.answered)
                .min();
            if let Some(at) = first_success {
                break at;
            }
            assert!(
                restarted.elapsed() < RECOVERY_LIMIT,
                "no create succeeded within {RECOVERY_LIMIT:?} of the restart"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::Release);
        for worker in workers {
            worker.await.expect("a worker ran to its end");
        }
        let ran_for = started.elapsed();

        let outcomes = std::mem::take(&mut *outcomes.lock().expect("not poisoned"));
        let others: Vec<String> = outcomes
            .iter()
            .filter(|o| ![StatusCode::CREATED, StatusCode::SERVICE_UNAVAILABLE].contains(&o.status))
            .map(|o| format!("{} {}: {}", o.name, o.status, o.body))
            .collect();
        assert!(
            others.is_empty(),
            "answers other than 201 and 503: {others:#?}"
        );
        for o in outcomes
            .iter()
            .filter(|o| o.status == StatusCode::SERVICE_UNAVAILABLE)
        {
            assert_eq!(o.body["error"]["code"], "unavailable", "{}", o.body);
        }
        let acknowledged: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.status == StatusCode::CREATED)
            .map(|o| o.name.as_str())
            .collect();
        let refused: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.status == StatusCode::SERVICE_UNAVAILABLE)
            .map(|o| o.name.as_str())
            .collect();
        let before_kill = outcomes
            .iter()
            .filter(|o| o.status == StatusCode::CREATED && o.answered < killed)
            .count();

        let raw = raw_client(&server.uri()).await;
        let stored_names = stored_branch_names(&raw, &database).await;
        let stored: BTreeSet<&str> = stored_names.iter().map(String::as_str).collect();
        assert_eq!(stored.len(), stored_names.len(), "a name is stored twice");
        let lost: Vec<&&str> = acknowledged.difference(&stored).collect();
        assert!(lost.is_empty(), "answered 201 but not stored: {lost:?}");
        let unknown: Vec<&&str> = stored
            .iter()
            .filter(|name| **name != "warm-up" && !acknowledged.contains(*name))
            .filter(|name| !refused.contains(*name))
            .collect();
        assert!(
            unknown.is_empty(),
            "stored but never requested: {unknown:?}"
        );
        // A 503 says "unknown outcome": the insert may have reached the disk before the answer
        // was lost with the connection. Counted, not failed.
        let stored_anyway = refused.intersection(&stored).count();

        eprintln!(
            "load of {WORKERS} workers for {ran_for:?}: {} creates, {} answered 201 ({before_kill} \
             before the kill), {} answered 503 ({stored_anyway} of them stored anyway), {} stored; \
             server down {:?}; first 201 {:?} after the restart",
            outcomes.len(),
            acknowledged.len(),
            refused.len(),
            stored.len() - 1,
            restarted - killed,
            recovered - restarted,
        );
        assert!(before_kill > 0, "no create succeeded before the kill");
        assert!(
            !refused.is_empty(),
            "no create was refused while the server was down"
        );
        assert!(recovered - restarted < RECOVERY_LIMIT);

        drop(served);
        let manager = service.manager().clone();
        service.finish().await;
        assert_pool_drained(&manager).await;
        raw.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. One role down

#[tokio::test]
async fn with_the_masteradmin_server_down_main_routes_keep_working_and_cross_database_routes_answer_503_naming_it(
) {
    bounded(async {
        let a = SpawnedServer::start().await;
        let mut b = SpawnedServer::start().await;
        let main_db = unique_database_name("faults_role_main");
        let main = uri_with_database(&a.uri(), &main_db);
        let masteradmin = uri_with_database(&b.uri(), &unique_database_name("faults_role_ma"));
        let service = TestService::on_mongo(fault_settings(&main, &masteradmin)).await;
        let (user, master) = (
            service.token(CallerRole::USER),
            service.token(CallerRole::MASTER_ADMIN),
        );

        let dashboard = service.get("/dashboard", &master).await;
        assert_eq!(dashboard.data(StatusCode::OK)["totalAdmins"], 0);
        assert_eq!(service.manager().client_count(), 2, "one client per server");

        b.kill();
        let (list, elapsed) = timed(service.get("/branches", &user)).await;
        assert_eq!(list.data(StatusCode::OK), json!([]));
        eprintln!("GET /branches with masteradmin down: {elapsed:?}");
        let (created, elapsed) = timed(service.post("/branches", &user, new_branch("Lyon"))).await;
        created.data(StatusCode::CREATED);
        eprintln!("POST /branches with masteradmin down: {elapsed:?}");
        let raw = raw_client(&a.uri()).await;
        assert_eq!(stored_branch_names(&raw, &main_db).await, ["Lyon"]);

        let (dashboard, elapsed) = timed(service.get("/dashboard", &master)).await;
        let message = dashboard.unavailable(Role::MASTERADMIN);
        assert!(!message.contains("the main database"), "{message}");
        assert_in_time("GET /dashboard, masteradmin down", elapsed);
        let (admins, elapsed) = timed(service.get("/admins", &master)).await;
        admins.unavailable(Role::MASTERADMIN);
        assert_in_time("GET /admins, masteradmin down", elapsed);

        // With a master admin's token: latencies are shown to master admins only.
        let (health, elapsed) =
            timed(service.send(Method::GET, "/health", Some(&master), None)).await;
        let data = health.data(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(data["roles"]["main"]["state"], "connected", "{data}");
        assert!(data["roles"]["main"]["pingMs"].is_number(), "{data}");
        assert!(data["roles"]["main"].get("error").is_none(), "{data}");
        let down = &data["roles"]["masteradmin"];
        assert_ne!(down["state"], "connected", "{data}");
        let error = down["error"].as_str().unwrap_or_else(|| panic!("{data}"));
        assert!(error.contains("the masteradmin database"), "{data}");
        assert_in_time("GET /health, masteradmin down", elapsed);

        b.restart().await;
        let recovery = wait_until_ok(&service, "/dashboard", &master).await;
        eprintln!("GET /dashboard answered 200 {recovery:?} after the masteradmin server started");
        let dashboard = service.get("/dashboard", &master).await;
        assert_eq!(dashboard.data(StatusCode::OK)["totalBranches"], 1);

        service.finish().await;
        raw.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. Pool pressure

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_reads_are_all_served_by_one_pool_of_at_most_five_connections() {
    const READS: usize = 200;
    const POOL: u32 = 5;
    bounded(async {
        let databases = FreshDatabases::new("faults_pool");
        let settings = databases
            .settings()
            .with_max_pool_size(POOL)
            .with_server_selection_timeout(Duration::from_secs(10));
        let config = TestService::config(settings);
        let service =
            TestService::looking_at(config, &databases.main, &databases.masteradmin).await;
        let served = serve(service.router().clone()).await;
        let address = served.address;
        let user = service.token(CallerRole::USER);
        let created = http(address, "POST", "/branches", &user, Some(&new_branch("Lyon"))).await;
        let id = created.data(StatusCode::CREATED)["id"]
            .as_str()
            .expect("an id")
            .to_owned();

        let started = Instant::now();
        let reads: Vec<_> = (0..READS)
            .map(|_| {
                let (path, token) = (format!("/branches/{id}"), user.clone());
                tokio::spawn(async move { http(address, "GET", &path, &token, None).await })
            })
            .collect();
        for read in reads {
            let reply = read.await.expect("a read ran to its end");
            assert_eq!(reply.data(StatusCode::OK)["id"], id.as_str());
        }
        let elapsed = started.elapsed();
        let manager = service.manager();
        let main = manager.pool_stats(Role::MAIN).unwrap();
        eprintln!(
            "{READS} concurrent GET /branches/{{id}} over TCP in {elapsed:?} ({:.0}/s); pool {main:?}",
            READS as f64 / elapsed.as_secs_f64()
        );
        assert_eq!(main.max_pool_size, POOL);
        assert!(main.peak >= 1, "no connection counted: {main:?}");
        assert!(main.peak <= POOL as usize, "the pool went over its limit: {main:?}");
        assert!(main.open <= main.peak, "{main:?}");

        // The masteradmin role, on the same server with another database, uses the same pool.
        let master = service.token(CallerRole::MASTER_ADMIN);
        let admins = service.get("/admins", &master).await;
        assert_eq!(admins.data(StatusCode::OK), json!([]));
        let dashboard = service.get("/dashboard", &master).await;
        assert_eq!(dashboard.data(StatusCode::OK)["totalBranches"], 1);
        assert_eq!(manager.client_count(), 1, "one client for both roles");
        let (main, masteradmin) = (manager.pool_stats(Role::MAIN).unwrap(), manager.pool_stats(Role::MASTERADMIN).unwrap());
        assert_eq!(main, masteradmin, "the roles report different pools");
        assert!(main.peak <= POOL as usize, "the pool went over its limit: {main:?}");

        drop(served);
        let manager = manager.clone();
        // Drops the test's databases too.
        service.finish().await;
        assert_pool_drained(&manager).await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. A server that never answers

#[tokio::test]
async fn a_main_server_that_accepts_connections_and_never_answers_makes_main_routes_answer_503_in_time(
) {
    bounded(async {
        let (port, _stalled) = stalled_listener().await;
        let other = SpawnedServer::start().await;
        let main = format!("mongodb://127.0.0.1:{port}/faults_stalled");
        let masteradmin = uri_with_database(&other.uri(), &unique_database_name("faults_st_ma"));
        let service = TestService::on_mongo(fault_settings(&main, &masteradmin)).await;
        let (user, master) = (
            service.token(CallerRole::USER),
            service.token(CallerRole::MASTER_ADMIN),
        );

        let (list, elapsed) = timed(service.get("/branches", &user)).await;
        list.unavailable(Role::MAIN);
        assert_in_time("GET /branches, main stalled", elapsed);
        let (create, elapsed) = timed(service.post("/branches", &user, new_branch("Lyon"))).await;
        create.unavailable(Role::MAIN);
        assert_in_time("POST /branches, main stalled", elapsed);
        let (dashboard, elapsed) = timed(service.get("/dashboard", &master)).await;
        dashboard.unavailable(Role::MAIN);
        assert_in_time("GET /dashboard, main stalled", elapsed);

        let (admins, elapsed) = timed(service.get("/admins", &master)).await;
        assert_eq!(admins.data(StatusCode::OK), json!([]));
        eprintln!("GET /admins with main stalled: {elapsed:?}");

        let (health, elapsed) = timed(service.health()).await;
        let data = health.data(StatusCode::SERVICE_UNAVAILABLE);
        let stalled = &data["roles"]["main"];
        assert_ne!(stalled["state"], "connected", "{data}");
        let error = stalled["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{data}"));
        assert!(error.contains("the main database"), "{data}");
        assert_eq!(data["roles"]["masteradmin"]["state"], "connected", "{data}");
        assert_in_time("GET /health, main stalled", elapsed);

        service.finish().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. A server that stops answering mid-operation

/// A TCP proxy on 127.0.0.1 in front of a server, which the test can freeze: while frozen it
/// passes no byte either way, so connections stay open and nothing is answered, as with a
/// server that hangs after the driver has found it healthy. Dropping it closes everything.
struct FreezingProxy {
    port: u16,
    frozen: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FreezingProxy {
    async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let port = listener.local_addr().expect("the proxy's address").port();
        let (frozen, _) = watch::channel(false);
        let gate = frozen.clone();
        let task = tokio::spawn(async move {
            // Owned here, so that aborting this task closes every proxied connection.
            let mut pumps = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                pumps.spawn(pump(client_read, server_write, gate.subscribe()));
                pumps.spawn(pump(server_read, client_write, gate.subscribe()));
            }
        });
        Self { port, frozen, task }
    }

    fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    fn thaw(&self) {
        self.frozen.send_replace(false);
    }
}

impl Drop for FreezingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to`, holding whatever it has read while the proxy is frozen.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut frozen: watch::Receiver<bool>) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        if frozen.wait_for(|frozen| !frozen).await.is_err() {
            return;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if frozen.wait_for(|frozen| !frozen).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_mid_operation_is_cut_off_by_the_request_timeout_and_its_connections_go_back_to_the_pool(
) {
    const HUNG: usize = 10;
    const AFTER: usize = 20;
    const POOL: u32 = 5;
    let request_timeout = Duration::from_secs(1);
    bounded(async {
        let server = SpawnedServer::start().await;
        let proxy = FreezingProxy::start(server.port()).await;
        let proxied = format!("mongodb://127.0.0.1:{}", proxy.port);
        let database = unique_database_name("faults_hang");
        let main = uri_with_database(&proxied, &database);
        let masteradmin = uri_with_database(&proxied, &unique_database_name("faults_hang_ma"));
        let settings = fault_settings(&main, &masteradmin).with_max_pool_size(POOL);
        let service = Arc::new(
            TestService::start(AppConfig {
                request_timeout,
                ..TestService::config(settings)
            })
            .await,
        );
        let user = service.token(CallerRole::USER);
        let created = service.post("/branches", &user, new_branch("Lyon")).await;
        created.data(StatusCode::CREATED);

        // The driver has no socket timeout for operations: only the request deadline ends them.
        proxy.freeze();
        let hung: Vec<_> = (0..HUNG)
            .map(|_| {
                let (service, user) = (Arc::clone(&service), user.clone());
                tokio::spawn(async move { timed(service.get("/branches", &user)).await })
            })
            .collect();
        let mut slowest = Duration::ZERO;
        for request in hung {
            let (reply, elapsed) = request.await.expect("a request ran to its end");
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "unexpected answer: {}",
                reply.body
            );
            assert_eq!(reply.body["error"]["code"], "unavailable", "{}", reply.body);
            slowest = slowest.max(elapsed);
        }
        let during = service.manager().pool_stats(Role::MAIN).unwrap();
        eprintln!(
            "{HUNG} requests to a hung server: all 503, the slowest in {slowest:?} (request \
             timeout {request_timeout:?}); pool then {during:?}"
        );
        assert!(
            slowest < request_timeout + MARGIN,
            "a request to a hung server took {slowest:?}"
        );

        proxy.thaw();
        let recovery = wait_until_ok(&service, "/branches", &user).await;
        // Were the connections of the cut-off operations still checked out, these would queue
        // behind them and time out.
        let after: Vec<_> = (0..AFTER)
            .map(|_| {
                let (service, user) = (Arc::clone(&service), user.clone());
                tokio::spawn(async move { service.get("/branches", &user).await })
            })
            .collect();
        for request in after {
            let reply = request.await.expect("a request ran to its end");
            assert_eq!(reply.data(StatusCode::OK)[0]["name"], "Lyon");
        }
        let pool = service.manager().pool_stats(Role::MAIN).unwrap();
        eprintln!(
            "served again {recovery:?} after the server answered again; {AFTER} concurrent \
             reads then all 200; pool {pool:?}"
        );
        assert!(
            pool.peak <= POOL as usize,
            "the pool went over its limit: {pool:?}"
        );

        let service = Arc::into_inner(service).expect("every request has ended");
        let manager = service.manager().clone();
        service.finish().await;
        assert_pool_drained(&manager).await;
        drop(proxy);
    })
    .await;
}
