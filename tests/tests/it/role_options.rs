//! Per-role driver options against the test server (`MONGO_TEST_URI`): read preference and
//! read and write concerns per role on one shared client, read-only roles, and pool options
//! as part of the client identity.
//!
//! The test server is a standalone: no secondary can be observed, so what each role asks for
//! is read from the commands the driver sends (command events, through
//! `MongoSettings::with_command_event_handler`) and from the role's `Database` options. A
//! standalone never gets `$readPreference` (the driver leaves it out for one), so a read
//! preference is checked on the `Database` only.
// A failed unwrap in a test is the assertion failing, with its value shown.

use std::sync::{Arc, Mutex};

use adapters_mongo::{ConnectionManager, MongoSettings, RoleOptions};
use app::auth::CallerRole;
use axum::http::StatusCode;
use domain::Branch;
use mongodb::bson::{doc, Document};
use mongodb::event::command::CommandEvent;
use mongodb::options::{ReadConcern, ReadPreference, SelectionCriteria, WriteConcern};
use ports::{ConnectionMonitor, ListQuery, Page, Repository, RepositoryError, Role};
use serde_json::json;
use testkit::server::{known_server_gap, test_server_uri, unique_database_name, uri_with_database};
use tests::contract::branch;
use tests::service::{count, FreshDatabases, TestService, SELECTION_TIMEOUT};

/// The fields of a started command that carry options, by database and command name.
#[derive(Debug, Clone)]
struct Sent {
    db: String,
    name: String,
    options: Document,
}

/// What the driver sent, kept by the observer given to the settings.
#[derive(Clone, Default)]
struct Commands(Arc<Mutex<Vec<Sent>>>);

impl Commands {
    /// `settings` with this log as their command observer. Only the option fields are kept,
    /// never the command body.
    fn observe(&self, settings: MongoSettings) -> MongoSettings {
        let log = Arc::clone(&self.0);
        settings.with_command_event_handler(move |event| {
            if let CommandEvent::Started(started) = event {
                let mut options = Document::new();
                for field in ["writeConcern", "readConcern", "$readPreference"] {
                    if let Some(value) = started.command.get(field) {
                        options.insert(field, value.clone());
                    }
                }
                log.lock().unwrap().push(Sent {
                    db: started.db.clone(),
                    name: started.command_name.clone(),
                    options,
                });
            }
        })
    }

    /// The options of every `name` command sent to `db`.
    fn sent(&self, db: &str, name: &str) -> Vec<Document> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|sent| sent.db == db && sent.name == name)
            .map(|sent| sent.options.clone())
            .collect()
    }
}

fn fresh_uri(prefix: &str) -> String {
    uri_with_database(&test_server_uri(), &unique_database_name(prefix))
}

use crate::mongo_adapter::repository;

#[tokio::test]
async fn roles_with_their_own_read_and_write_options_share_one_client_and_send_their_own() {
    let commands = Commands::default();
    let settings = MongoSettings::new(fresh_uri("opts_main"))
        .unwrap()
        .with_masteradmin_uri(fresh_uri("opts_admin"))
        .unwrap()
        .with_role_options(
            Role::MAIN,
            RoleOptions {
                read_preference: Some(ReadPreference::SecondaryPreferred { options: None }),
                read_concern: Some(ReadConcern::majority()),
                write_concern: Some(WriteConcern::majority()),
                ..RoleOptions::default()
            },
        )
        .unwrap();
    let manager = ConnectionManager::new(commands.observe(settings));
    let main = repository::<Branch>(&manager, Role::MAIN);
    let admin = repository::<Branch>(&manager, Role::MASTERADMIN);

    let in_main = main.create(branch("Lyon")).await;
    let in_admin = admin.create(branch("Nantes")).await;
    if in_main.is_err()
        && known_server_gap("a write with writeConcern {w: \"majority\"} is refused")
    {
        return;
    }
    let in_main = in_main.unwrap();
    let in_admin = in_admin.unwrap();
    assert_eq!(main.get(in_main.id()).await.unwrap(), in_main);
    assert_eq!(admin.get(in_admin.id()).await.unwrap(), in_admin);

    // One deployment, one client, one pool: the options are per database.
    assert_eq!(manager.client_count(), 1);
    assert!(manager.shares_connection(Role::MAIN, Role::MASTERADMIN));

    let main_db = manager.database_name(Role::MAIN).unwrap();
    let admin_db = manager.database_name(Role::MASTERADMIN).unwrap();
    let majority_write = doc! { "w": "majority" };
    let inserts = commands.sent(main_db, "insert");
    assert_eq!(inserts.len(), 1, "{inserts:?}");
    assert_eq!(
        inserts[0].get_document("writeConcern").ok(),
        Some(&majority_write),
        "{inserts:?}"
    );
    let inserts = commands.sent(admin_db, "insert");
    assert_eq!(inserts.len(), 1, "{inserts:?}");
    assert!(!inserts[0].contains_key("writeConcern"), "{inserts:?}");

    let finds = commands.sent(main_db, "find");
    assert!(!finds.is_empty());
    for find in &finds {
        assert_eq!(
            find.get_document("readConcern").ok(),
            Some(&doc! { "level": "majority" }),
            "{finds:?}"
        );
    }
    let finds = commands.sent(admin_db, "find");
    assert!(!finds.is_empty());
    assert!(
        finds.iter().all(|find| !find.contains_key("readConcern")),
        "{finds:?}"
    );

    // The read preference: on the role's database (a standalone gets no `$readPreference`).
    let database = manager.role(Role::MAIN).unwrap().database().await.unwrap();
    assert!(matches!(
        database.selection_criteria(),
        Some(SelectionCriteria::ReadPreference(
            ReadPreference::SecondaryPreferred { .. }
        ))
    ));
    assert_eq!(database.write_concern(), Some(&WriteConcern::majority()));
    let database = manager
        .role(Role::MASTERADMIN)
        .unwrap()
        .database()
        .await
        .unwrap();
    assert!(database.selection_criteria().is_none());
    assert!(database.read_concern().is_none());
    assert!(database.write_concern().is_none());
}

#[tokio::test]
async fn per_role_options_come_from_the_environment_too() {
    let commands = Commands::default();
    let uri = fresh_uri("opts_env");
    let settings = MongoSettings::from_lookup(|name| match name {
        "MONGO_URI" => Some(uri.clone()),
        "MONGO_WRITE_CONCERN_MAIN" => Some("1:journal".to_owned()),
        "MONGO_READ_CONCERN_MASTERADMIN" => Some("local".to_owned()),
        _ => None,
    })
    .unwrap();
    let manager = ConnectionManager::new(commands.observe(settings));
    crate::mongo_adapter::main_and_masteradmin_share_records(&manager).await;
    assert_eq!(manager.client_count(), 1);

    let db = manager.database_name(Role::MAIN).unwrap();
    let inserts = commands.sent(db, "insert");
    assert_eq!(
        inserts[0].get_document("writeConcern").ok(),
        Some(&doc! { "w": 1, "j": true }),
        "{inserts:?}"
    );
    let finds = commands.sent(db, "find");
    assert_eq!(
        finds
            .last()
            .and_then(|f| f.get_document("readConcern").ok()),
        Some(&doc! { "level": "local" }),
        "{finds:?}"
    );
}

#[tokio::test]
async fn a_read_only_role_refuses_every_write_before_it_reaches_the_server_and_still_reads() {
    let reports = Role::new("reports").unwrap();
    let uri = fresh_uri("read_only");
    // `reports` reads the same database as `main`, through the same client.
    let settings = MongoSettings::new(uri.clone())
        .unwrap()
        .with_role_uri(reports, uri)
        .unwrap()
        .with_read_only(reports)
        .unwrap()
        .with_command_monitoring(true);
    let manager = ConnectionManager::new(settings);
    let writer = repository::<Branch>(&manager, Role::MAIN);
    let reader = repository::<Branch>(&manager, reports);
    let stored = writer.create(branch("Lyon")).await.unwrap();
    assert_eq!(manager.client_count(), 1);
    assert!(reader.connection().read_only());
    assert!(!writer.connection().read_only());

    let written = |name| manager.commands_started(reports, name).unwrap();
    let before: Vec<u64> = ["insert", "update", "delete", "createIndexes"]
        .map(written)
        .to_vec();
    let refused = RepositoryError::ReadOnly { role: reports };

    assert_eq!(reader.create(branch("Nantes")).await, Err(refused.clone()));
    assert_eq!(reader.update(stored.clone()).await, Err(refused.clone()));
    assert_eq!(reader.delete(stored.id()).await, Err(refused.clone()));
    assert_eq!(
        reader
            .delete_if(stored.id(), stored.version(), stored.updated_at())
            .await,
        Err(refused.clone())
    );
    assert_eq!(reader.ensure_indexes().await, Err(refused.clone()));
    assert_eq!(
        reader
            .connection()
            .database_for_writes()
            .await
            .map(|_| ())
            .unwrap_err(),
        refused
    );
    assert!(!refused.is_retryable());
    let after: Vec<u64> = ["insert", "update", "delete", "createIndexes"]
        .map(written)
        .to_vec();
    assert_eq!(after, before, "insert, update, delete, createIndexes");

    // Reads go on, and the stored record is untouched.
    assert_eq!(reader.get(stored.id()).await.unwrap(), stored);
    assert_eq!(reader.count().await.unwrap(), 1);
    let listing = reader.list(ListQuery::new(Page::first())).await.unwrap();
    assert_eq!(listing.records, vec![stored.clone()]);
    assert_eq!(writer.get(stored.id()).await.unwrap(), stored);
}

#[tokio::test]
async fn over_http_a_write_to_a_read_only_role_is_a_403_and_reads_still_answer() {
    let databases = FreshDatabases::new("read_only_http");
    let settings = databases.settings().with_read_only(Role::MAIN).unwrap();
    let config = TestService::config(settings);
    let app = TestService::looking_at(config, &databases.main, &databases.masteradmin).await;
    let token = app.token(CallerRole::USER);

    let body = json!({ "name": "Lyon", "location": "12 rue de la Forge" });
    let reply = app.post("/branches", &token, body).await;
    let message = reply.error(StatusCode::FORBIDDEN, "read_only");
    assert!(
        message.contains("main") && message.contains("read-only"),
        "{message}"
    );
    assert_eq!(count(app.main(), "branches").await, 0);

    let listed = app.get("/branches", &token).await.data(StatusCode::OK);
    assert_eq!(listed, json!([]));
    app.finish().await;
}

#[tokio::test]
async fn roles_with_different_pool_options_get_a_client_each() {
    let billing = Role::new("billing").unwrap();
    let uri = fresh_uri("pools");
    let settings = MongoSettings::new(uri.clone())
        .unwrap()
        .with_max_pool_size(5)
        .with_role_options(
            Role::MASTERADMIN,
            RoleOptions {
                max_pool_size: Some(2),
                ..RoleOptions::default()
            },
        )
        .unwrap()
        .with_role_uri(billing, uri)
        .unwrap()
        // The same size as the settings give `main`: the same client.
        .with_role_options(
            billing,
            RoleOptions {
                max_pool_size: Some(5),
                write_concern: Some(WriteConcern::majority()),
                ..RoleOptions::default()
            },
        )
        .unwrap()
        .with_command_monitoring(true);
    let manager = ConnectionManager::new(settings);
    assert!(!manager.shares_connection(Role::MAIN, Role::MASTERADMIN));
    assert!(manager.shares_connection(Role::MAIN, billing));
    assert_eq!(manager.pool_stats(Role::MAIN).unwrap().max_pool_size, 5);
    assert_eq!(
        manager.pool_stats(Role::MASTERADMIN).unwrap().max_pool_size,
        2
    );

    for role in [Role::MAIN, Role::MASTERADMIN, billing] {
        repository::<Branch>(&manager, role).count().await.unwrap();
    }
    assert_eq!(manager.client_count(), 2);
    let main_counts = manager.commands_started(Role::MAIN, "aggregate").unwrap();
    let admin_counts = manager
        .commands_started(Role::MASTERADMIN, "aggregate")
        .unwrap();
    assert_eq!(
        (main_counts, admin_counts),
        (2, 1),
        "main and billing count on one client, masteradmin on its own"
    );
}

/// The service is built with the driver's zstd and snappy compressors (`app`'s default
/// `compression` feature): a URI asking for them is accepted (without the feature the driver
/// refuses it as it is parsed), and the service stores and reads through it. Whether messages
/// are compressed is agreed with the server in the handshake (the test server offers no
/// compressor, a real mongod does), so this checks the build and the URI, not the bytes.
#[tokio::test]
async fn a_uri_asking_for_zstd_and_snappy_compression_is_served() {
    let databases = FreshDatabases::new("compressed");
    let compressed = |role: Role| {
        let uri = databases.uri(role);
        let separator = if uri.contains('?') { '&' } else { '?' };
        format!("{uri}{separator}compressors=zstd,snappy")
    };
    let settings = MongoSettings::new(compressed(Role::MAIN))
        .unwrap()
        .with_masteradmin_uri(compressed(Role::MASTERADMIN))
        .unwrap()
        .with_server_selection_timeout(SELECTION_TIMEOUT);
    let config = TestService::config(settings);
    let app = TestService::looking_at(config, &databases.main, &databases.masteradmin).await;
    let token = app.token(CallerRole::USER);

    let id = app.create_branch(&token, "Lyon").await;
    let read = app.get(&format!("/branches/{id}"), &token).await;
    assert_eq!(read.data(StatusCode::OK)["name"], "Lyon");
    assert_eq!(count(app.main(), "branches").await, 1);
    app.finish().await;
}
