//! Roles and clients: which database a role reaches, and which roles share a driver client.

use super::*;

#[tokio::test]
async fn with_two_databases_a_write_through_main_is_absent_from_masteradmin() {
    let manager = two_database_manager("two_dbs");
    let main = repository::<Branch>(&manager, Role::MAIN);
    let masteradmin = repository::<Branch>(&manager, Role::MASTERADMIN);

    let created = main.create(branch("Lyon")).await.unwrap();

    assert_eq!(main.get(created.id()).await.unwrap(), created);
    assert!(matches!(
        masteradmin.get(created.id()).await,
        Err(RepositoryError::NotFound { .. })
    ));
    assert_eq!(masteradmin.count().await.unwrap(), 0);
    assert_ne!(
        manager.database_name(Role::MAIN).unwrap(),
        manager.database_name(Role::MASTERADMIN).unwrap()
    );
}

#[tokio::test]
async fn with_only_mongo_uri_both_roles_reach_the_same_database() {
    let uri = fresh_uri("fallback");
    let settings =
        MongoSettings::from_lookup(|name| (name == "MONGO_URI").then(|| uri.clone())).unwrap();
    let manager = ConnectionManager::new(settings);

    crate::mongo_adapter::main_and_masteradmin_share_records(&manager).await;
    assert_eq!(
        manager.database_name(Role::MAIN).unwrap(),
        manager.database_name(Role::MASTERADMIN).unwrap()
    );
    assert_eq!(manager.client_count(), 1);
}

#[tokio::test]
async fn uris_that_differ_only_in_the_database_share_one_client_each_bound_to_its_database() {
    let manager = two_database_manager("shared");
    let main = repository::<Branch>(&manager, Role::MAIN);
    let masteradmin = repository::<Branch>(&manager, Role::MASTERADMIN);

    let in_main = main.create(branch("Lyon")).await.unwrap();
    let in_admin = masteradmin.create(branch("Paris")).await.unwrap();
    manager.ping(Role::MAIN).await.unwrap();
    manager.ping(Role::MASTERADMIN).await.unwrap();

    assert_eq!(
        manager.client_count(),
        1,
        "one client and one pool for both roles"
    );
    let main_db = manager.role(Role::MAIN).unwrap().database().await.unwrap();
    let admin_db = manager
        .role(Role::MASTERADMIN)
        .unwrap()
        .database()
        .await
        .unwrap();
    assert_eq!(main_db.name(), manager.database_name(Role::MAIN).unwrap());
    assert_eq!(
        admin_db.name(),
        manager.database_name(Role::MASTERADMIN).unwrap()
    );
    let names = |db: mongodb::Database| async move {
        let documents = all_documents(&db.collection("branches")).await;
        documents
            .iter()
            .map(|d| d.get_str("name").unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(main_db).await, ["Lyon"]);
    assert_eq!(names(admin_db).await, ["Paris"]);
    assert_ne!(in_main.id(), in_admin.id());
}

#[tokio::test]
async fn different_options_get_a_client_each() {
    let with_app = |app: &str, prefix: &str| format!("{}?appName={app}", fresh_uri(prefix));
    let settings = MongoSettings::new(with_app("service-a", "opts_main"))
        .unwrap()
        .with_masteradmin_uri(with_app("service-b", "opts_admin"))
        .unwrap();
    assert_eq!(
        clients_after_pinging_both_roles(settings).await,
        2,
        "different appName: different clients"
    );
}

/// How many clients a manager on `settings` makes to ping both roles.
async fn clients_after_pinging_both_roles(settings: MongoSettings) -> usize {
    let manager = ConnectionManager::new(settings);
    for role in Role::DEFAULTS {
        manager.ping(role).await.unwrap();
    }
    let clients = manager.client_count();
    manager.shutdown().await;
    clients
}

#[tokio::test]
async fn host_aliases_of_one_server_get_a_client_each() {
    // A server of the test's own, listening on 127.0.0.1, so that `localhost` names it too
    // whatever MONGO_TEST_URI is.
    let server = SpawnedServer::start().await;
    let alias = format!("mongodb://localhost:{}", server.port());
    let settings = MongoSettings::new(uri_with_database(&server.uri(), "alias_main"))
        .unwrap()
        .with_masteradmin_uri(uri_with_database(&alias, "alias_admin"))
        .unwrap();
    assert_eq!(
        clients_after_pinging_both_roles(settings).await,
        2,
        "localhost and 127.0.0.1: different clients"
    );
}

#[tokio::test]
async fn concurrent_first_uses_create_a_single_client() {
    let manager = two_database_manager("single_flight");
    let uses: Vec<_> = (0..32)
        .map(|i| {
            let manager = manager.clone();
            let role = Role::DEFAULTS[i % 2];
            tokio::spawn(async move { manager.role(role).unwrap().database().await.map(|_| ()) })
        })
        .collect();
    for used in uses {
        used.await.unwrap().unwrap();
    }
    assert_eq!(manager.client_count(), 1);
}

#[tokio::test]
async fn a_role_handle_only_reaches_its_own_database() {
    let manager = two_database_manager("scoped");
    let main = manager.role(Role::MAIN).unwrap();
    assert_eq!(main.role(), Role::MAIN);
    assert_eq!(
        main.database().await.unwrap().name(),
        manager.database_name(Role::MAIN).unwrap()
    );
    assert_eq!(
        main.database_name(),
        manager.database_name(Role::MAIN).unwrap()
    );
}

#[tokio::test]
async fn commands_are_counted_only_when_asked_for() {
    let databases = FreshDatabases::new("not_counted");
    let quiet = ConnectionManager::new(databases.settings().with_command_monitoring(false));
    quiet.ping(Role::MAIN).await.unwrap();
    assert_eq!(quiet.commands_started(Role::MAIN, "ping"), None);
    let counting = ConnectionManager::new(databases.settings());
    counting.ping(Role::MAIN).await.unwrap();
    assert!(counting.commands_started(Role::MAIN, "ping") >= Some(1));
    quiet.shutdown().await;
    counting.shutdown().await;
}
