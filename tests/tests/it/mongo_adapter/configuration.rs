//! Configuration: what a wrong URI or setting is refused with, never showing a password.

use super::*;

fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn assert_no_secret(err: &ConfigError, variable: &str) {
    let shown = [err.to_string(), format!("{err:?}")];
    for text in &shown {
        assert!(
            text.contains(variable),
            "the error must name {variable}: {text}"
        );
        assert!(!text.contains("s3cret"), "the password leaked: {text}");
    }
}

#[test]
fn a_missing_mongo_uri_is_rejected_naming_the_variable() {
    let err = MongoSettings::from_lookup(env(&[("MASTER_ADMIN_MONGO_URI", "mongodb://h/db")]))
        .unwrap_err();
    assert_no_secret(&err, "MONGO_URI");
    assert!(matches!(
        err,
        ConfigError::Missing { ref variable, .. } if variable == "MONGO_URI"
    ));
}

#[test]
fn a_uri_without_a_database_is_rejected_with_its_password_redacted() {
    let err =
        MongoSettings::from_lookup(env(&[("MONGO_URI", "mongodb://alice:s3cret@host:27017")]))
            .unwrap_err();
    assert_no_secret(&err, "MONGO_URI");
    assert!(
        err.to_string().contains("mongodb://****@host:27017/"),
        "shown from the parsed URI: {err}"
    );

    let err = MongoSettings::from_lookup(env(&[
        ("MONGO_URI", "mongodb://h/main"),
        ("MASTER_ADMIN_MONGO_URI", "mongodb://alice:s3cret@host/"),
    ]))
    .unwrap_err();
    assert_no_secret(&err, "MASTER_ADMIN_MONGO_URI");
}

#[test]
fn a_malformed_uri_is_rejected_with_its_password_redacted() {
    for uri in [
        "mongodb://alice:s3cret@host:notaport/db",
        "postgres://alice:s3cret@host/db",
        "mongodb://alice:s3cret@/db",
        "mongodb+srv://alice:s3cret@host:27017/db",
        "mongodb://alice:s3cret@host/db?maxPoolSize=lots",
    ] {
        let err = MongoSettings::new(uri).unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidUri { .. }),
            "{uri}: {err:?}"
        );
        assert_no_secret(&err, "MONGO_URI");
    }
}

#[test]
fn settings_never_show_a_password() {
    let settings = MongoSettings::new("mongodb://alice:s3cret@host/main?replicaSet=rs0").unwrap();
    let shown = format!("{settings:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    let manager = ConnectionManager::new(settings);
    let shown = format!("{manager:?} {:?}", manager.role(Role::MAIN).unwrap());
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn srv_uris_and_replica_set_options_are_accepted_without_any_lookup() {
    let settings = MongoSettings::new(
        "mongodb+srv://alice:s3cret@cluster0.example.invalid/main?retryWrites=true&w=majority",
    )
    .unwrap()
    .with_masteradmin_uri(
        "mongodb://h1:27017,h2:27017/masteradmin?replicaSet=rs0&readPreference=primary",
    )
    .unwrap();
    assert_eq!(settings.role(Role::MAIN).unwrap().database(), "main");
    assert_eq!(
        settings.role(Role::MASTERADMIN).unwrap().database(),
        "masteradmin"
    );
}
