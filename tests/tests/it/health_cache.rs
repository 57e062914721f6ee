//! `/health` under a flood of unauthenticated calls, through `app::http::router` to the test
//! server: the databases are pinged from a cache, at most once per database client per
//! interval (`app::http::HEALTH_INTERVAL`), whatever the request rate. The pings are counted
//! by the driver's command monitoring (`ConnectionManager::commands_started`), not by the
//! service itself. Master admins see latencies and may ask for a fresh check; `/health/live`
//! and `/health/ready` answer without pinging anything more.

use std::time::{Duration, Instant};

use adapters_mongo::{ConnectionManager, MongoSettings};
use app::auth::CallerRole;
use axum::http::{Method, StatusCode};
use ports::Role;
use tests::service::{request, FreshDatabases, Reply, TestService, SELECTION_TIMEOUT};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The flood: [`BATCHES`] batches of [`PER_BATCH`] concurrent calls, one batch every
/// [`BATCH_EVERY`]: 1,000 calls in 2 s.
const BATCHES: u32 = 10;
const PER_BATCH: usize = 100;
const BATCH_EVERY: Duration = Duration::from_millis(200);
/// At most one ping per client per 1 s interval: in 2 s of calls, checks at 0, 1 and 2 s.
const MOST_PINGS: u64 = 3;

/// Pings sent so far by the client of each role.
fn pings(manager: &ConnectionManager) -> [u64; 2] {
    Role::DEFAULTS.map(|role| {
        manager
            .commands_started(role, "ping")
            .expect("a configured role")
    })
}

/// Sends the flood of anonymous `GET /health` and checks every answer: `200`, every role up,
/// and no latency shown. Returns how long the flood took.
async fn flood(app: &TestService) -> Duration {
    let started = Instant::now();
    for batch in 0..BATCHES {
        tokio::time::sleep_until((started + BATCH_EVERY * batch).into()).await;
        let mut calls = JoinSet::new();
        for _ in 0..PER_BATCH {
            let router = app.router().clone();
            calls.spawn(async move {
                let response = router
                    .oneshot(request(Method::GET, "/health", None, None))
                    .await
                    .expect("the router answers");
                Reply::read(response).await
            });
        }
        while let Some(reply) = calls.join_next().await {
            let health = reply.expect("a call ran to its end").data(StatusCode::OK);
            assert_eq!(health["status"], "ok", "{health}");
            for role in Role::DEFAULTS {
                let report = &health["roles"][role.as_str()];
                assert_eq!(report["up"], true, "{health}");
                assert!(report.get("pingMs").is_none(), "latency shown: {health}");
            }
        }
    }
    let elapsed = started.elapsed();
    // A fourth check could start only 3 s in: a flood that slow tests nothing.
    assert!(
        elapsed < Duration::from_millis(2900),
        "the 1,000 calls took {elapsed:?}, too long on this machine to count the pings per second"
    );
    elapsed
}

/// Floods `app` and checks the pings of each role's client.
async fn flood_and_count(app: &TestService, clients: usize) {
    let manager = app.manager().clone();
    let before = pings(&manager);
    let elapsed = flood(app).await;
    let after = pings(&manager);
    let sent = [after[0] - before[0], after[1] - before[1]];
    eprintln!(
        "{} anonymous GET /health in {elapsed:?}: pings by the client of main {}, of masteradmin {} \
         ({} client(s))",
        BATCHES as usize * PER_BATCH,
        sent[0],
        sent[1],
        manager.client_count()
    );
    assert_eq!(manager.client_count(), clients);
    for (role, sent) in Role::DEFAULTS.into_iter().zip(sent) {
        assert!(
            (1..=MOST_PINGS).contains(&sent),
            "the client of {role} was pinged {sent} times in {elapsed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_anonymous_health_calls_in_two_seconds_ping_the_shared_client_at_most_three_times(
) {
    // Two databases on one server with the same options: one client for both roles.
    let app = TestService::on_fresh_databases("health_cache").await;
    flood_and_count(&app, 1).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_client_per_role_each_client_is_pinged_at_most_three_times() {
    let databases = FreshDatabases::new("health_cache_two");
    // Another option makes another connection identity: masteradmin gets a client of its own.
    let masteradmin = databases.uri(Role::MASTERADMIN);
    let separator = if masteradmin.contains('?') { '&' } else { '?' };
    let settings = MongoSettings::new(databases.uri(Role::MAIN))
        .expect("a valid main URI")
        .with_masteradmin_uri(format!(
            "{masteradmin}{separator}appName=health-cache-admin"
        ))
        .expect("a valid masteradmin URI")
        .with_server_selection_timeout(SELECTION_TIMEOUT)
        .with_command_monitoring(true);
    let app = TestService::looking_at(
        TestService::config(settings),
        &databases.main,
        &databases.masteradmin,
    )
    .await;
    flood_and_count(&app, 2).await;
    app.finish().await;
}

#[tokio::test]
async fn a_master_admin_sees_latencies_and_may_ask_for_a_fresh_check_and_nobody_else_can() {
    let app = TestService::on_fresh_databases("health_detail").await;
    let manager = app.manager().clone();
    let master = app.token(CallerRole::MASTER_ADMIN);
    let user = app.token(CallerRole::USER);

    let anonymous = app.health().await.data(StatusCode::OK);
    let first = pings(&manager);
    assert_eq!(
        first,
        [1, 1],
        "one ping of the one shared client: {anonymous}"
    );

    let detailed = app
        .send(Method::GET, "/health", Some(&master), None)
        .await
        .data(StatusCode::OK);
    for role in Role::DEFAULTS {
        let report = &detailed["roles"][role.as_str()];
        assert!(report["pingMs"].is_number(), "{detailed}");
        assert_eq!(report["state"], "connected", "{detailed}");
    }
    assert!(detailed["checkedMsAgo"].is_u64(), "{detailed}");
    assert_eq!(
        pings(&manager),
        first,
        "the cached check served the master admin too"
    );

    for (token, path) in [
        (None, "/health?fresh=true"),
        (Some(user.as_str()), "/health?fresh=true"),
        (None, "/health/ready"),
        (None, "/health/live"),
    ] {
        let reply = app.send(Method::GET, path, token, None).await;
        let data = reply.data(StatusCode::OK);
        assert!(
            data["roles"]["main"].get("pingMs").is_none(),
            "{path}: {data}"
        );
    }
    assert_eq!(
        pings(&manager),
        first,
        "only a master admin's fresh check pings within the interval"
    );

    let fresh = app
        .send(Method::GET, "/health?fresh=true", Some(&master), None)
        .await
        .data(StatusCode::OK);
    assert!(fresh["roles"]["main"]["pingMs"].is_number(), "{fresh}");
    assert_eq!(
        pings(&manager),
        [2, 2],
        "a fresh check pings the client once"
    );
    app.finish().await;
}
