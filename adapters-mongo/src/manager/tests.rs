//! The manager as a process uses it, without a database: which roles share a client, what each
//! binding carries, and what is known before first use.

use super::*;
use crate::config::DEFAULT_MAX_POOL_SIZE;

fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}

#[test]
fn handles_are_thread_safe_and_cheap_to_clone() {
    assert_send_sync::<ConnectionManager>();
    assert_send_sync::<RoleConnection>();
}

#[test]
fn roles_whose_uris_differ_only_in_the_database_share_one_slot() {
    let settings = MongoSettings::new("mongodb://h:1/main")
        .unwrap()
        .with_masteradmin_uri("mongodb://h:1/masteradmin")
        .unwrap();
    let manager = ConnectionManager::new(settings);
    assert_eq!(manager.inner.slots.len(), 1);
    assert_eq!(manager.database_name(Role::MAIN), Some("main"));
    assert_eq!(
        manager.database_name(Role::MASTERADMIN),
        Some("masteradmin")
    );

    let settings = MongoSettings::new("mongodb://h:1/main")
        .unwrap()
        .with_masteradmin_uri("mongodb://h:2/masteradmin")
        .unwrap();
    assert_eq!(ConnectionManager::new(settings).inner.slots.len(), 2);
}

#[test]
fn any_number_of_roles_share_a_client_when_only_their_databases_differ() {
    let billing = Role::new("billing").unwrap();
    let analytics = Role::new("analytics").unwrap();
    let settings = MongoSettings::new("mongodb://h:1/main")
        .unwrap()
        .with_role_uri(billing, "mongodb://h:1/billing")
        .unwrap()
        .with_role_uri(analytics, "mongodb://elsewhere:1/analytics")
        .unwrap();
    let manager = ConnectionManager::new(settings);
    assert_eq!(
        manager.inner.slots.len(),
        2,
        "main, masteradmin and billing share one"
    );
    assert_eq!(
        manager.roles(),
        [Role::MAIN, Role::MASTERADMIN, billing, analytics]
    );
    assert_eq!(manager.database_name(billing), Some("billing"));
    assert!(manager.shares_connection(Role::MAIN, billing));
    assert!(manager.shares_connection(Role::MASTERADMIN, billing));
    assert!(!manager.shares_connection(Role::MAIN, analytics));
    let archive = Role::new("archive").unwrap();
    assert!(!manager.shares_connection(archive, archive));
    let unknown = manager.role(archive).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("main, masteradmin, billing, analytics"),
        "{unknown}"
    );
}

#[test]
fn role_options_are_per_binding_and_only_pool_options_split_a_client() {
    use crate::config::RoleOptions;
    use mongodb::options::WriteConcern;

    let billing = Role::new("billing").unwrap();
    let settings = MongoSettings::new("mongodb://h:1/main")
        .unwrap()
        .with_role_uri(billing, "mongodb://h:1/billing")
        .unwrap()
        .with_role_options(
            Role::MASTERADMIN,
            RoleOptions {
                read_only: true,
                write_concern: Some(WriteConcern::majority()),
                ..RoleOptions::default()
            },
        )
        .unwrap()
        .with_role_options(
            billing,
            RoleOptions {
                max_idle_time: Some(Duration::from_secs(60)),
                ..RoleOptions::default()
            },
        )
        .unwrap();
    let manager = ConnectionManager::new(settings);
    assert_eq!(manager.inner.slots.len(), 2, "billing's pool differs");
    assert!(manager.shares_connection(Role::MAIN, Role::MASTERADMIN));
    assert!(!manager.shares_connection(Role::MAIN, billing));
    assert!(manager.role(Role::MASTERADMIN).unwrap().read_only());
    assert!(!manager.role(Role::MAIN).unwrap().read_only());
    let options = |role| {
        let index = manager.inner.binding_index(role).unwrap();
        manager.inner.bindings[index].database_options.clone()
    };
    assert_eq!(
        options(Role::MASTERADMIN).write_concern,
        Some(WriteConcern::majority())
    );
    assert_eq!(options(Role::MAIN).write_concern, None);
}

#[tokio::test]
async fn a_read_only_role_refuses_the_write_database_without_creating_a_client() {
    let settings = MongoSettings::new("mongodb://h:1/main")
        .unwrap()
        .with_read_only(Role::MAIN)
        .unwrap();
    let manager = ConnectionManager::new(settings);
    let refused = manager
        .role(Role::MAIN)
        .unwrap()
        .database_for_writes()
        .await;
    assert_eq!(
        refused.err(),
        Some(RepositoryError::ReadOnly { role: Role::MAIN })
    );
    assert_eq!(manager.client_count(), 0);
}

#[test]
fn before_first_use_every_role_is_disconnected_and_no_client_exists() {
    let manager = ConnectionManager::new(MongoSettings::new("mongodb://h:1/main").unwrap());
    for role in Role::DEFAULTS {
        assert_eq!(manager.state(role), ConnectionState::Disconnected);
    }
    assert_eq!(manager.client_count(), 0);
}

#[test]
fn before_first_use_the_pool_is_empty_with_the_limit_from_the_settings_the_uri_or_the_default() {
    let stats =
        |settings: MongoSettings, role| ConnectionManager::new(settings).pool_stats(role).unwrap();
    let from_uri = MongoSettings::new("mongodb://h:1/main?maxPoolSize=7").unwrap();
    let pool = stats(from_uri.clone(), Role::MAIN);
    assert_eq!((pool.open, pool.peak, pool.max_pool_size), (0, 0, 7));
    assert_eq!(stats(from_uri.clone(), Role::MASTERADMIN), pool);
    let pool = stats(from_uri.with_max_pool_size(3), Role::MAIN);
    assert_eq!(pool.max_pool_size, 3);
    let pool = stats(
        MongoSettings::new("mongodb://h:1/main").unwrap(),
        Role::MAIN,
    );
    assert_eq!(pool.max_pool_size, DEFAULT_MAX_POOL_SIZE);
}
