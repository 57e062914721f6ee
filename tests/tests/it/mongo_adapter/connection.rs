//! Connection state, health and faults: servers that are down, go away, refuse a login or
//! never answer.

use super::*;

#[tokio::test]
async fn the_state_goes_from_disconnected_to_connected_on_first_use_and_back_on_shutdown() {
    let manager = two_database_manager("states");
    for role in Role::DEFAULTS {
        assert_eq!(
            manager.state(role),
            ConnectionState::Disconnected,
            "before first use"
        );
    }
    assert_eq!(
        manager.client_count(),
        0,
        "nothing connects before first use"
    );

    let latency = manager.ping(Role::MAIN).await.unwrap();
    eprintln!("ping latency on the test server: {latency:?}");
    assert!(latency < SELECTION_TIMEOUT);
    assert_eq!(manager.state(Role::MAIN), ConnectionState::Connected);

    manager.shutdown().await;
    for role in Role::DEFAULTS {
        assert_eq!(
            manager.state(role),
            ConnectionState::Disconnected,
            "after shutdown"
        );
    }
    let after = repository::<Branch>(&manager, Role::MAIN).count().await;
    assert!(
        matches!(
            after,
            Err(RepositoryError::Unavailable {
                role: Role::MAIN,
                ..
            })
        ),
        "{after:?}"
    );
    manager.shutdown().await; // a second call is harmless
}

#[tokio::test]
async fn monitoring_events_mark_the_role_connected_without_any_operation_succeeding() {
    let manager = two_database_manager("sdam");
    // Creating the client (no operation) starts the driver's monitor; its events must move the
    // state on their own.
    manager.role(Role::MAIN).unwrap().database().await.unwrap();
    wait_for_state(&manager, ConnectionState::Connected, SELECTION_TIMEOUT).await;
}

#[tokio::test]
async fn with_the_server_down_first_use_is_unavailable_in_time_and_recovers_when_it_starts() {
    let mut server = SpawnedServer::start().await;
    server.kill();
    let timeout = Duration::from_millis(500);
    let settings = MongoSettings::new(uri_with_database(&server.uri(), "down"))
        .unwrap()
        .with_server_selection_timeout(timeout);
    let manager = ConnectionManager::new(settings);
    let branches = repository::<Branch>(&manager, Role::MAIN);

    let started = Instant::now();
    let first = branches.count().await;
    let elapsed = started.elapsed();
    eprintln!("first use with the server down failed after {elapsed:?} (timeout {timeout:?})");
    assert!(
        matches!(
            &first,
            Err(RepositoryError::Unavailable {
                role: Role::MAIN,
                ..
            })
        ),
        "{first:?}"
    );
    assert!(first.as_ref().unwrap_err().is_retryable());
    assert!(
        elapsed < timeout + Duration::from_millis(1500),
        "took {elapsed:?}"
    );
    // Mongoose's readyState after a failed initial connection.
    assert_eq!(manager.state(Role::MAIN), ConnectionState::Disconnected);
    let ping = manager.ping(Role::MAIN).await;
    assert!(
        matches!(ping, Err(RepositoryError::Unavailable { .. })),
        "{ping:?}"
    );
    // The unique index cannot be created either; the next write must try again.
    let create = branches.create(branch("Lyon")).await;
    assert!(
        matches!(create, Err(RepositoryError::Unavailable { .. })),
        "{create:?}"
    );

    server.restart().await;
    let restarted = Instant::now();
    let mut next = branches.count().await;
    // The driver rechecks a server it could not reach at most every 500 ms; allow a few.
    while next.is_err() && restarted.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        next = branches.count().await;
    }
    eprintln!(
        "recovered {:?} after the server restarted",
        restarted.elapsed()
    );
    assert_eq!(next.unwrap(), 0);
    branches.create(branch("Lyon")).await.unwrap();
    let duplicate = branches.create(branch("Lyon")).await;
    assert_eq!(
        duplicate.unwrap_err(),
        RepositoryError::Conflict(Conflict::Duplicate {
            model: "Branch",
            key: "name"
        }),
        "the unique index was created on the first write after the failure"
    );
    assert_eq!(manager.client_count(), 1, "the same client recovered");
    assert_eq!(manager.state(Role::MAIN), ConnectionState::Connected);
    manager.shutdown().await;
}

#[tokio::test]
async fn the_state_follows_the_server_going_away_and_coming_back_without_any_operation() {
    let mut server = SpawnedServer::start().await;
    // A URI option the adapter passes through untouched: check every 500 ms, not 10 s.
    let uri = uri_with_database(&server.uri(), "follow") + "?heartbeatFrequencyMS=500";
    let settings = MongoSettings::new(uri)
        .unwrap()
        .with_server_selection_timeout(SELECTION_TIMEOUT);
    let manager = ConnectionManager::new(settings);
    manager.ping(Role::MAIN).await.unwrap();
    assert_eq!(manager.state(Role::MAIN), ConnectionState::Connected);

    server.kill();
    let killed = Instant::now();
    wait_for_state(
        &manager,
        ConnectionState::Disconnected,
        Duration::from_secs(5),
    )
    .await;
    eprintln!("state disconnected {:?} after the kill", killed.elapsed());

    server.restart().await;
    let restarted = Instant::now();
    wait_for_state(&manager, ConnectionState::Connected, Duration::from_secs(5)).await;
    eprintln!(
        "state connected {:?} after the restart",
        restarted.elapsed()
    );
    manager.shutdown().await;
}

/// Waits until the `main` state is `expected`, polling only the state (no operation).
async fn wait_for_state(manager: &ConnectionManager, expected: ConnectionState, within: Duration) {
    let deadline = Instant::now() + within;
    while manager.state(Role::MAIN) != expected {
        assert!(
            Instant::now() < deadline,
            "state still {} after {within:?}, expected {expected}",
            manager.state(Role::MAIN)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_refused_login_is_unavailable_and_its_error_never_shows_the_password() {
    // No such user exists on the test server (nx-27017 has no authentication at all).
    let base = test_server_uri();
    let with_credentials = base.replacen("://", "://alice:s3cret@", 1);
    let settings = MongoSettings::new(uri_with_database(&with_credentials, "login"))
        .unwrap()
        .with_server_selection_timeout(SELECTION_TIMEOUT);
    let manager = ConnectionManager::new(settings);

    let err = repository::<Branch>(&manager, Role::MAIN)
        .count()
        .await
        .unwrap_err();

    eprintln!("refused login: {err}");
    assert!(
        matches!(
            err,
            RepositoryError::Unavailable {
                role: Role::MAIN,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_makes_ping_unavailable_within_its_timeout() {
    let (port, _listener) = stalled_listener().await;
    let settings = MongoSettings::new(format!("mongodb://127.0.0.1:{port}/stalled"))
        .unwrap()
        .with_ping_timeout(Duration::from_millis(300))
        .with_connect_timeout(Duration::from_millis(300))
        .with_server_selection_timeout(Duration::from_secs(30));
    let manager = ConnectionManager::new(settings);

    let started = Instant::now();
    let ping = manager.ping(Role::MAIN).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(
            ping,
            Err(RepositoryError::Unavailable {
                role: Role::MAIN,
                ..
            })
        ),
        "{ping:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert_ne!(manager.state(Role::MAIN), ConnectionState::Connected);
}
