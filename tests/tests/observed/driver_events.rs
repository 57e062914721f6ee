//! The driver's events in the logs: one line per change of connection state (never one per
//! heartbeat), `debug` lines of commands and pool events naming the roles, carrying the
//! request id inside a request, and never a command's body or reply.
//!
//! In the `observed` binary: `tracing` caches per call site whether anyone listens, so a
//! subscriber set for one test while other tests run in parallel threads can miss lines. With
//! the process to itself, the capture sees every line.

use std::time::Duration;

use adapters_mongo::{ConnectionManager, MongoRepository, MongoSettings};
use app::auth::CallerRole;
use axum::http::{Method, StatusCode};
use domain::{Branch, BranchName, Location};
use mongodb::bson::doc;
use ports::{ConnectionMonitor, Repository, Role};
use serde_json::json;
use testkit::server::free_port;
use tests::service::{request, shorten, FreshDatabases, TestService, SELECTION_TIMEOUT};

/// In every record written, and in a value a failing command quotes: never in a log line.
const MARKER: &str = "BodyMarker123";

/// The text lines of `logs` (not the JSON copies) that contain every one of `parts`.
fn lines_with<'a>(logs: &'a str, parts: &[&str]) -> Vec<&'a str> {
    logs.lines()
        .filter(|line| !line.starts_with('{'))
        .filter(|line| parts.iter().all(|part| line.contains(part)))
        .collect()
}

/// The state-change lines so far.
fn state_lines(logs: &str) -> Vec<&str> {
    lines_with(logs, &["adapters_mongo::connection"])
}

#[test]
fn driver_events_reach_the_logs_by_name_once_per_state_change_and_without_bodies() {
    let (logs, capture) = testkit::logs::capture();

    capture.block_on(async {
        // Both roles on one server, databases apart: one client serving both. Heartbeats every
        // half second, so that several happen during the test.
        let databases = FreshDatabases::new("driver_events");
        let uri = |role| format!("{}?heartbeatFrequencyMS=500", databases.uri(role));
        let settings = MongoSettings::new(uri(Role::MAIN))
            .unwrap()
            .with_masteradmin_uri(uri(Role::MASTERADMIN))
            .unwrap()
            .with_server_selection_timeout(SELECTION_TIMEOUT);
        let service = TestService::looking_at(
            TestService::config(settings),
            &databases.main,
            &databases.masteradmin,
        )
        .await;
        let manager = service.manager().clone();
        assert!(manager.shares_connection(Role::MAIN, Role::MASTERADMIN));
        assert!(
            state_lines(&logs.text()).is_empty(),
            "nothing connects before first use"
        );

        // First use: connecting, then connected, once for the one client.
        let branches = MongoRepository::<Branch>::new(manager.role(Role::MAIN).unwrap());
        let branch = Branch::new(
            BranchName::parse(format!("{MARKER} branch")).unwrap(),
            Location::parse(format!("{MARKER} street")).unwrap(),
        );
        let created = branches.create(branch).await.unwrap();
        let read = branches.get(created.id()).await.unwrap();
        assert_eq!(read.id(), created.id());
        let text = logs.text();
        let first = state_lines(&text);
        assert_eq!(
            lines_with(&text, &["MongoDB connecting"]).len(),
            1,
            "{first:#?}"
        );
        assert_eq!(
            lines_with(&text, &["MongoDB connected"]).len(),
            1,
            "{first:#?}"
        );
        assert!(
            first.iter().all(|line| line.contains("main,masteradmin")),
            "every state line names both roles: {first:#?}"
        );

        // 50 more operations and a few heartbeats: no state line.
        for _ in 0..50 {
            branches.get(created.id()).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let text = logs.text();
        assert_eq!(state_lines(&text), first, "no new state line");

        // Through the HTTP API, with a request id: the driver's lines inside carry it.
        let token = service.token(CallerRole::MASTER_ADMIN);
        let body = json!({ "name": format!("{MARKER} http"), "location": "Lyon" }).to_string();
        let mut post = request(Method::POST, "/branches", Some(&token), Some(body));
        post.headers_mut()
            .insert("x-request-id", "driver-events-req-7".parse().unwrap());
        let reply = service.call(post).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let listed = service.get("/branches", &token).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);

        // A command the server refuses, carrying the marker in its body.
        let failure = manager
            .role(Role::MAIN)
            .unwrap()
            .database()
            .await
            .unwrap()
            .run_command(doc! { "find": "branches", "filter": { "name": { "$bogus": MARKER } } })
            .await
            .unwrap_err();
        eprintln!("driver_events: the failing command: {failure}");

        service.finish().await;
    });

    // A client whose server is down: connecting, then one warning however many heartbeats
    // fail, with the kind of error; its shutdown has nothing to disconnect.
    let before = logs.text().len();
    capture.block_on(async {
        let dead = format!(
            "mongodb://127.0.0.1:{}/dead?heartbeatFrequencyMS=500",
            free_port()
        );
        let settings = MongoSettings::new(dead)
            .unwrap()
            .with_server_selection_timeout(Duration::from_millis(300));
        let manager = ConnectionManager::new(settings);
        manager.ping(Role::MAIN).await.unwrap_err();
        tokio::time::sleep(Duration::from_millis(1600)).await;
        manager.ping(Role::MASTERADMIN).await.unwrap_err();
        manager.shutdown().await;
    });
    let dead = logs.text()[before..].to_owned();
    let dead_states = state_lines(&dead);
    assert_eq!(
        lines_with(&dead, &["MongoDB connecting", "main,masteradmin"]).len(),
        1,
        "{dead_states:#?}"
    );
    let warned = lines_with(&dead, &["WARN", "MongoDB disconnected", "main,masteradmin"]);
    assert_eq!(warned.len(), 1, "{dead_states:#?}");
    assert!(warned[0].contains("Io("), "the kind of error: {warned:#?}");
    assert_eq!(dead_states.len(), 2, "nothing else: {dead_states:#?}");
    for line in &dead_states {
        eprintln!("driver_events: {line}");
    }

    let text = logs.text();
    let shown = || shorten(&text, 4000);
    assert!(
        !text.contains(MARKER),
        "a body reached the logs: {}",
        shown()
    );
    for command in ["insert", "find"] {
        for outcome in ["command started", "command succeeded"] {
            let lines = lines_with(&text, &[outcome, command, "main,masteradmin"]);
            assert!(!lines.is_empty(), "no {outcome} of {command}: {}", shown());
        }
    }
    let failed = lines_with(&text, &["command failed", "find"]);
    assert!(
        failed.iter().any(|line| line.contains("error=")),
        "a failed command names its kind: {failed:#?} {}",
        shown()
    );
    let in_request = lines_with(&text, &["driver-events-req-7", "command started", "insert"]);
    assert!(
        !in_request.is_empty(),
        "the driver's lines inside a request carry its id: {}",
        shown()
    );
    assert!(
        !lines_with(&text, &["pool connection created", "main,masteradmin"]).is_empty(),
        "pool events: {}",
        shown()
    );
    // The URI's option name, shown in the client's creation line, aside.
    let lower = text.to_lowercase().replace("heartbeatfrequency=", "");
    assert!(
        !lower.contains("heartbeat"),
        "a heartbeat line: {}",
        shown()
    );
    // The client's creation line shows its redacted URI on purpose; the events show none.
    let events_and_states: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("adapters_mongo::events") || l.contains("adapters_mongo::connection")
        })
        .collect();
    assert!(
        events_and_states.iter().all(|l| !l.contains("mongodb://")),
        "a URI in an event line: {}",
        shown()
    );
    let states = state_lines(&text);
    assert_eq!(
        lines_with(&text, &["MongoDB connected"]).len(),
        1,
        "{states:#?}"
    );
    assert!(
        !lines_with(&text, &["MongoDB disconnected", "shutdown"]).is_empty(),
        "shutdown is a state change: {states:#?}"
    );
    eprintln!("driver_events: {}", in_request[0]);
    for line in lines_with(&text, &["driver-events-req-7", "answered"]) {
        eprintln!("driver_events: {line}");
    }
    for line in states.iter().take(6) {
        eprintln!("driver_events: {line}");
    }
    for line in lines_with(&text, &["adapters_mongo::events"])
        .iter()
        .take(14)
    {
        eprintln!("driver_events: {line}");
    }
}
