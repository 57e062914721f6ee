//! The settings as a start-up reads them: from variables and from code, good and bad.

use std::collections::HashMap;

use mongodb::options::{ReadConcern, ReadPreference, WriteConcern};

use super::*;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn the_masteradmin_uri_falls_back_to_the_main_one() {
    let settings = MongoSettings::from_lookup(lookup(&[(MONGO_URI, "mongodb://h/app")])).unwrap();
    assert_eq!(settings.role(Role::MASTERADMIN).unwrap().database(), "app");
    assert!(settings
        .role(Role::MAIN)
        .unwrap()
        .shares_client_with(settings.role(Role::MASTERADMIN).unwrap()));
}

#[test]
fn numbers_from_the_environment_apply_to_both_roles() {
    let settings = MongoSettings::from_lookup(lookup(&[
        (MONGO_URI, "mongodb://h/main"),
        (MASTER_ADMIN_MONGO_URI, "mongodb://h/masteradmin"),
        (MONGO_MAX_POOL_SIZE, "7"),
        (MONGO_SERVER_SELECTION_TIMEOUT_MS, " 1500 "),
    ]))
    .unwrap();
    for role in Role::DEFAULTS {
        assert_eq!(settings.role(role).unwrap().max_pool_size(), Some(7));
        assert_eq!(
            settings.role(role).unwrap().server_selection_timeout(),
            Some(Duration::from_millis(1500))
        );
    }
    assert_eq!(
        settings.role(Role::MASTERADMIN).unwrap().database(),
        "masteradmin"
    );
}

#[test]
fn bad_numbers_are_rejected_naming_the_variable() {
    for (variable, value) in [
        (MONGO_MAX_POOL_SIZE, "0"),
        (MONGO_MAX_POOL_SIZE, "lots"),
        (MONGO_MAX_POOL_SIZE, "99999999999"),
        (MONGO_SERVER_SELECTION_TIMEOUT_MS, "-1"),
    ] {
        let err = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (variable, value),
        ]))
        .unwrap_err();
        assert!(err.to_string().starts_with(variable), "{err}");
    }
}

#[test]
fn empty_variables_count_as_unset() {
    let err = MongoSettings::from_lookup(lookup(&[(MONGO_URI, "  ")])).unwrap_err();
    assert_eq!(
        err,
        ConfigError::Missing {
            variable: MONGO_URI.to_owned(),
            role: Role::MAIN
        }
    );
    let settings = MongoSettings::from_lookup(lookup(&[
        (MONGO_URI, "mongodb://h/main"),
        (MASTER_ADMIN_MONGO_URI, ""),
    ]))
    .unwrap();
    assert_eq!(settings.role(Role::MASTERADMIN).unwrap().database(), "main");
}

#[test]
fn debug_output_shows_no_password() {
    let settings = MongoSettings::new("mongodb://alice:s3cret@h/main")
        .unwrap()
        .with_masteradmin_uri("mongodb://root:t0psecret@h/masteradmin")
        .unwrap();
    let shown = format!("{settings:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("t0psecret"),
        "{shown}"
    );
    assert!(shown.contains("mongodb://****@h:27017/main"), "{shown}");
}

#[test]
fn further_roles_come_from_mongo_roles_each_with_its_own_required_uri() {
    let settings = MongoSettings::from_lookup(lookup(&[
        (MONGO_URI, "mongodb://h/main"),
        (MONGO_ROLES, "billing, analytics"),
        ("MONGO_URI_BILLING", "mongodb://h/billing"),
        ("MONGO_URI_ANALYTICS", "mongodb://other/analytics"),
        (MONGO_MAX_POOL_SIZE, "9"),
    ]))
    .unwrap();
    let names: Vec<&str> = settings.roles().map(Role::as_str).collect();
    assert_eq!(names, ["main", "masteradmin", "billing", "analytics"]);
    let billing = settings.role(Role::new("billing").unwrap()).unwrap();
    assert_eq!(billing.database(), "billing");
    assert_eq!(billing.max_pool_size(), Some(9));
    assert!(billing.shares_client_with(settings.role(Role::MAIN).unwrap()));
    assert_eq!(settings.fallback_of(Role::MASTERADMIN), Some(Role::MAIN));
    assert_eq!(settings.fallback_of(Role::new("billing").unwrap()), None);
}

#[test]
fn a_declared_role_without_its_uri_is_an_error_naming_the_variable_not_a_fallback() {
    let err = MongoSettings::from_lookup(lookup(&[
        (MONGO_URI, "mongodb://h/main"),
        (MONGO_ROLES, "billing"),
        ("MONGO_URI_BILING", "mongodb://h/billing"),
    ]))
    .unwrap_err();
    assert!(
        err.to_string().starts_with("MONGO_URI_BILLING is not set"),
        "{err}"
    );
    let err = MongoSettings::from_lookup(lookup(&[
        (MONGO_URI, "mongodb://h/main"),
        (MONGO_ROLES, "Billing-EU"),
    ]))
    .unwrap_err();
    assert!(err.to_string().starts_with(MONGO_ROLES), "{err}");
}

#[test]
fn auto_index_is_on_unless_mongo_auto_index_turns_it_off() {
    let with = |value: Option<&str>| {
        let mut vars = vec![(MONGO_URI, "mongodb://h/main")];
        vars.extend(value.map(|v| (MONGO_AUTO_INDEX, v)));
        MongoSettings::from_lookup(lookup(&vars))
    };
    assert!(with(None).unwrap().auto_index());
    assert!(with(Some("")).unwrap().auto_index());
    assert!(with(Some("TRUE")).unwrap().auto_index());
    assert!(!with(Some("false")).unwrap().auto_index());
    assert!(!with(Some(" 0 ")).unwrap().auto_index());
    let err = with(Some("maybe")).unwrap_err();
    assert!(err.to_string().starts_with(MONGO_AUTO_INDEX), "{err}");
    let settings = MongoSettings::new("mongodb://h/main").unwrap();
    assert!(!settings.with_auto_index(false).auto_index());
}

#[test]
fn per_role_options_come_from_variables_named_after_the_role() {
    let settings = MongoSettings::from_lookup(lookup(&[
        (MONGO_URI, "mongodb://h/main"),
        (MONGO_ROLES, "billing"),
        ("MONGO_URI_BILLING", "mongodb://h/billing"),
        ("MONGO_READ_PREFERENCE_MAIN", "secondaryPreferred"),
        ("MONGO_READ_CONCERN_MAIN", "majority"),
        ("MONGO_WRITE_CONCERN_MAIN", "majority:journal"),
        ("MONGO_WRITE_CONCERN_BILLING", " 2 "),
        ("MONGO_READ_ONLY_MASTERADMIN", "true"),
        ("MONGO_MAX_POOL_SIZE_BILLING", "3"),
        ("MONGO_MIN_POOL_SIZE_BILLING", "0"),
        ("MONGO_MAX_CONNECTING_BILLING", "1"),
        ("MONGO_MAX_IDLE_TIME_MS_BILLING", "60000"),
        (MONGO_MAX_POOL_SIZE, "7"),
        (MONGO_MAX_IDLE_TIME_MS, "30000"),
    ]))
    .unwrap();
    let main = settings.role(Role::MAIN).unwrap();
    let own = main.role_options();
    assert_eq!(
        own.read_preference,
        Some(ReadPreference::SecondaryPreferred { options: None })
    );
    assert_eq!(own.read_concern, Some(ReadConcern::majority()));
    let mut majority = WriteConcern::majority();
    majority.journal = Some(true);
    assert_eq!(own.write_concern, Some(majority));
    assert!(!main.read_only());
    assert_eq!(main.max_pool_size(), Some(7));
    assert_eq!(main.max_idle_time(), Some(Duration::from_millis(30_000)));

    let admin = settings.role(Role::MASTERADMIN).unwrap();
    assert!(
        admin.read_only(),
        "falls back to main's URI, keeps its own options"
    );
    assert_eq!(admin.role_options().write_concern, None);
    assert!(
        main.shares_client_with(admin),
        "database options never split a client"
    );

    let billing = settings.role(Role::new("billing").unwrap()).unwrap();
    assert_eq!(
        billing.role_options().write_concern,
        Some(WriteConcern::nodes(2))
    );
    assert_eq!(billing.max_pool_size(), Some(3));
    assert_eq!(billing.min_pool_size(), Some(0));
    assert_eq!(billing.max_connecting(), Some(1));
    assert_eq!(billing.max_idle_time(), Some(Duration::from_millis(60_000)));
    assert!(
        !billing.shares_client_with(main),
        "another pool is another client"
    );
}

#[test]
fn a_bad_per_role_value_is_rejected_naming_its_variable() {
    for (variable, value) in [
        ("MONGO_READ_PREFERENCE_MAIN", "secondaries"),
        ("MONGO_READ_CONCERN_MAIN", "strong"),
        ("MONGO_WRITE_CONCERN_MAIN", "all"),
        ("MONGO_WRITE_CONCERN_MAIN", "majority:fsync"),
        ("MONGO_WRITE_CONCERN_MASTERADMIN", "0:journal"),
        ("MONGO_WRITE_CONCERN_MAIN", "-1"),
        ("MONGO_READ_ONLY_MASTERADMIN", "sometimes"),
        ("MONGO_MAX_POOL_SIZE_MAIN", "0"),
        ("MONGO_MIN_POOL_SIZE_MAIN", "-1"),
        ("MONGO_MAX_CONNECTING_MAIN", "0"),
        ("MONGO_MAX_IDLE_TIME_MS_MAIN", "soon"),
        (MONGO_MIN_POOL_SIZE, "few"),
        (MONGO_MAX_CONNECTING, "0"),
        (MONGO_MAX_IDLE_TIME_MS, "0"),
    ] {
        let err = MongoSettings::from_lookup(lookup(&[
            (MONGO_URI, "mongodb://h/main"),
            (variable, value),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("{variable} must be")),
            "{variable}={value}: {err}"
        );
    }
}

#[test]
fn role_options_in_code_apply_to_their_role_only_whatever_the_order() {
    let billing = Role::new("billing").unwrap();
    let err = MongoSettings::new("mongodb://h/main")
        .unwrap()
        .with_role_options(billing, RoleOptions::default())
        .err();
    assert_eq!(err, Some(ConfigError::UndeclaredRole { role: billing }));

    let settings = MongoSettings::new("mongodb://h/main")
        .unwrap()
        .with_role_options(
            Role::MASTERADMIN,
            RoleOptions {
                read_only: true,
                max_pool_size: Some(2),
                ..RoleOptions::default()
            },
        )
        .unwrap()
        .with_max_pool_size(9)
        .with_masteradmin_uri("mongodb://h/masteradmin")
        .unwrap()
        .with_role_uri(billing, "mongodb://h/billing")
        .unwrap();
    let admin = settings.role(Role::MASTERADMIN).unwrap();
    assert!(admin.read_only(), "kept across a new URI");
    assert_eq!(admin.max_pool_size(), Some(2), "the role's own wins");
    let billing = settings.role(billing).unwrap();
    assert!(!billing.read_only(), "not copied to other roles");
    assert_eq!(billing.max_pool_size(), Some(9));
    assert_eq!(
        role_variable(MONGO_READ_ONLY, Role::MASTERADMIN),
        "MONGO_READ_ONLY_MASTERADMIN"
    );
}

#[test]
fn a_client_option_is_the_roles_else_the_settings_wide_else_the_uris() {
    let layer = |n: u32, name: &str| ClientSettings {
        max_pool_size: Some(n),
        min_pool_size: Some(n),
        max_connecting: Some(n),
        max_idle_time: Some(Duration::from_secs(n.into())),
        server_selection_timeout: Some(Duration::from_secs(n.into())),
        connect_timeout: Some(Duration::from_secs(n.into())),
        app_name: Some(name.to_owned()),
    };
    let role = RoleOptions {
        max_pool_size: Some(1),
        min_pool_size: Some(1),
        max_connecting: Some(1),
        max_idle_time: Some(Duration::from_secs(1)),
        ..RoleOptions::default()
    };
    let (global, uri) = (layer(2, "global"), layer(3, "uri"));
    let chosen = role_over_global_over_uri(&role, &global, uri.clone());
    let seconds = |n| Some(Duration::from_secs(n));
    assert_eq!(
        (
            chosen.max_pool_size,
            chosen.min_pool_size,
            chosen.max_connecting
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(chosen.max_idle_time, seconds(1));
    assert_eq!(chosen.server_selection_timeout, seconds(2), "not per role");
    assert_eq!(chosen.connect_timeout, seconds(2), "not per role");
    assert_eq!(chosen.app_name.as_deref(), Some("global"));
    let none = RoleOptions::default();
    assert_eq!(
        role_over_global_over_uri(&none, &global, uri.clone()),
        global
    );
    let empty = ClientSettings::default();
    assert_eq!(role_over_global_over_uri(&none, &empty, uri.clone()), uri);
    assert_eq!(
        role_over_global_over_uri(&none, &empty, ClientSettings::default()),
        empty
    );
}

#[test]
fn pool_options_decide_sharing_by_the_value_the_client_would_get() {
    let settings = MongoSettings::new("mongodb://h/main?maxPoolSize=5")
        .unwrap()
        .with_masteradmin_uri("mongodb://h/masteradmin?maxPoolSize=5")
        .unwrap()
        .with_role_options(
            Role::MASTERADMIN,
            RoleOptions {
                max_pool_size: Some(5),
                ..RoleOptions::default()
            },
        )
        .unwrap();
    let main = settings.role(Role::MAIN).unwrap();
    let admin = settings.role(Role::MASTERADMIN).unwrap();
    assert!(
        main.shares_client_with(admin),
        "5 from the URI is 5 from the role"
    );
    for options in [
        RoleOptions {
            min_pool_size: Some(1),
            ..RoleOptions::default()
        },
        RoleOptions {
            max_connecting: Some(1),
            ..RoleOptions::default()
        },
        RoleOptions {
            max_idle_time: Some(Duration::from_secs(60)),
            ..RoleOptions::default()
        },
    ] {
        let split = settings
            .clone()
            .with_role_options(Role::MASTERADMIN, options.clone())
            .unwrap();
        let admin = split.role(Role::MASTERADMIN).unwrap();
        assert!(!main.shares_client_with(admin), "{options:?}");
    }
}

#[test]
fn a_bad_masteradmin_uri_names_its_own_variable() {
    let err = MongoSettings::new("mongodb://h/main")
        .unwrap()
        .with_masteradmin_uri("mongodb://root:t0psecret@h")
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(MASTER_ADMIN_MONGO_URI) && !shown.contains("t0psecret"),
        "{shown}"
    );
}
