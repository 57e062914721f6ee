//! Start-up wiring: backend choice, the demo, the registry's lookups by type and by name.

use std::time::Duration;

use adapters_mongo::MongoSettings;
use app::config::{AppConfig, StorageSettings};
use app::http::router;
use app::service::{Application, Backend, StartupError};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::{Admin, Branch};
use http_body_util::BodyExt;
use ports::Role;
use registry::RegistryError;
use secrecy::SecretString;
use tower::ServiceExt;

/// A secret of the minimum length.
const SECRET: &str = "startup-test-secret-32-bytes-ok!";

fn config(backend: StorageSettings, secret: Option<&str>, bindings: &str) -> AppConfig {
    AppConfig {
        jwt_secret: secret.map(SecretString::from),
        bindings: bindings.to_owned(),
        ..AppConfig::new(backend)
    }
}

#[tokio::test]
async fn with_nothing_configured_the_demo_token_reaches_me_with_a_200() {
    let application = Application::build(config(StorageSettings::Memory, None, ""))
        .await
        .unwrap();
    let demo = application
        .demo
        .clone()
        .expect("the demo runs when nothing is configured");
    assert!(demo
        .instructions(3000)
        .contains("curl -H 'Authorization: Bearer "));
    let (status, body) = get(&application, "/me", &demo.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["fullName"], "Grace Hopper");
    assert_eq!(body["data"]["totalBranches"], 2);
}

#[tokio::test]
async fn a_configured_secret_on_the_memory_backend_writes_no_demo_records() {
    let config = config(StorageSettings::Memory, Some(SECRET), "");
    let application = Application::build(config).await.unwrap();
    assert!(application.demo.is_none());
    let count = application
        .state
        .registry
        .count_by_name(Role::MAIN, "branches")
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn mongodb_without_a_jwt_secret_is_a_start_up_error() {
    let settings = MongoSettings::new("mongodb://127.0.0.1:1/backoffice").unwrap();
    let result =
        Application::build(config(StorageSettings::Mongo(Box::new(settings)), None, "")).await;
    let error = result.unwrap_err();
    assert!(matches!(error, StartupError::MissingJwtSecret));
    assert!(error.to_string().contains("AUTH_JWT_SECRET"));
}

#[tokio::test]
async fn building_on_mongodb_opens_no_connection_and_serves_the_default_bindings() {
    let settings = MongoSettings::new("mongodb://127.0.0.1:1/backoffice").unwrap();
    let config = config(StorageSettings::Mongo(Box::new(settings)), Some(SECRET), "");
    let application = Application::build(config).await.unwrap();
    let Backend::Mongo(manager) = &application.backend else {
        panic!("expected MongoDB")
    };
    assert_eq!(manager.client_count(), 0, "no client before first use");
    let registry = &application.state.registry;
    assert!(registry.repository::<Branch>(Role::MAIN).is_ok());
    assert!(registry.repository::<Admin>(Role::MASTERADMIN).is_ok());
    let not_bound = registry.repository::<Admin>(Role::MAIN).err().unwrap();
    assert!(matches!(not_bound, RegistryError::NotBound { .. }));
    assert!(
        not_bound.to_string().contains("admins@masteradmin"),
        "{not_bound}"
    );
}

#[tokio::test]
async fn an_extra_binding_serves_the_same_entity_type_on_both_roles_from_separate_stores() {
    let bindings = "admins@main";
    let application = Application::build(config(StorageSettings::Memory, Some(SECRET), bindings))
        .await
        .unwrap();
    let registry = &application.state.registry;
    let on_main = registry.repository::<Admin>(Role::MAIN).unwrap();
    let on_admin = registry.repository::<Admin>(Role::MASTERADMIN).unwrap();
    let admin = domain::Admin::new(
        domain::Username::parse("lead").unwrap(),
        domain::FullName::parse("Lead").unwrap(),
        domain::Email::parse("lead@example.com").unwrap(),
        None,
    );
    on_main.create(admin).await.unwrap();
    assert_eq!(on_admin.count().await.unwrap(), 0);
    assert_eq!(
        registry
            .model("admins", Role::MAIN)
            .unwrap()
            .count()
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn counting_by_an_unknown_name_lists_what_is_registered() {
    let application = Application::build(config(StorageSettings::Memory, Some(SECRET), ""))
        .await
        .unwrap();
    let error = application
        .state
        .registry
        .count_by_name(Role::MAIN, "widgets")
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("widgets") && message.contains("branches@main"),
        "{message}"
    );
    let error = application
        .state
        .registry
        .count_by_name(Role::MAIN, "admins")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("not bound on the main role"),
        "{error}"
    );
}

#[tokio::test]
async fn several_kinds_are_counted_by_name_in_one_call_in_the_order_asked() {
    let application = Application::build(config(StorageSettings::Memory, None, ""))
        .await
        .unwrap();
    let registry = &application.state.registry;
    let counts = registry
        .counts_by_name(Role::MAIN, &["orders", "branches", "machines"])
        .await
        .unwrap();
    let expected = [("orders", 1), ("branches", 2), ("machines", 1)];
    let expected: Vec<_> = expected.iter().map(|(n, c)| (n.to_string(), *c)).collect();
    assert_eq!(counts, expected, "the demo's records");
    let error = registry
        .counts_by_name(Role::MAIN, &["branches", "masterAdmins"])
        .await;
    assert!(error
        .unwrap_err()
        .to_string()
        .contains("masterAdmins is not bound"));
}

#[tokio::test]
async fn an_empty_or_blank_jwt_secret_is_refused_like_a_missing_one() {
    for blank in ["", "   "] {
        let settings = MongoSettings::new("mongodb://127.0.0.1:1/backoffice").unwrap();
        let config = config(StorageSettings::Mongo(Box::new(settings)), Some(blank), "");
        let error = Application::build(config).await.unwrap_err();
        assert!(
            matches!(error, StartupError::MissingJwtSecret),
            "{blank:?}: {error}"
        );
    }
}

/// `GET uri` with `token`, as `(status, body)`: also what the token-policy suite asks with.
pub(crate) async fn get(
    application: &Application,
    uri: &str,
    token: &str,
) -> (StatusCode, serde_json::Value) {
    let request = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router(application.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

/// `GET uri` with a master-admin token of `application`.
async fn get_as_master_admin(
    application: &Application,
    uri: &str,
) -> (StatusCode, serde_json::Value) {
    let token = application.keys().issue(
        "0123456789abcdef01234567",
        app::auth::CallerRole::MASTER_ADMIN,
        Duration::from_secs(60),
    );
    get(application, uri, &token).await
}

#[tokio::test]
async fn counts_by_name_over_http_follow_the_bindings_and_answer_unbound_names_with_a_404() {
    let bindings = "admins@main";
    let application = Application::build(config(StorageSettings::Memory, None, bindings))
        .await
        .unwrap();

    let (status, body) = get_as_master_admin(
        &application,
        "/counts?role=main&entities=branches,orders,admins",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        serde_json::json!({"branches": 2, "orders": 1, "admins": 0})
    );

    let (status, body) =
        get_as_master_admin(&application, "/counts?role=masteradmin&entities=admins").await;
    assert_eq!(
        (status, &body["data"]["admins"]),
        (StatusCode::OK, &serde_json::json!(1))
    );

    for (uri, status_expected, expected) in [
        (
            "/counts?role=main&entities=widgets",
            StatusCode::NOT_FOUND,
            "branches@main",
        ),
        (
            "/counts?role=masteradmin&entities=orders",
            StatusCode::NOT_FOUND,
            "not bound on the masteradmin role",
        ),
        (
            "/counts?role=root&entities=branches",
            StatusCode::BAD_REQUEST,
            "main, masteradmin",
        ),
        (
            "/counts?role=main&entities=",
            StatusCode::BAD_REQUEST,
            "1 to 12 names",
        ),
    ] {
        let (status, body) = get_as_master_admin(&application, uri).await;
        assert_eq!(status, status_expected, "{uri}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{uri}: {message}");
    }
}

#[tokio::test]
async fn a_binding_that_is_not_a_bound_model_at_a_configured_role_stops_start_up_with_its_text() {
    for bad in ["admins", "admins@root", "widgets@main"] {
        let error = Application::build(config(StorageSettings::Memory, Some(SECRET), bad))
            .await
            .unwrap_err();
        assert!(matches!(error, StartupError::Binding(_)), "{bad}: {error}");
        assert!(error.to_string().contains(bad), "{error}");
    }
}

#[tokio::test]
async fn a_route_to_an_unbound_model_or_a_weakly_guarded_masteradmin_route_stops_start_up() {
    use app::http::{crud, Access};
    use app::service::Service;
    let mut unbound = Service::back_office();
    unbound.bind = |registry| registry.bind::<domain::Branch>(Role::MAIN);
    unbound.routes = || {
        vec![crud::<domain::Order>(
            "/orders",
            Role::MAIN,
            Access::ANY_CALLER,
        )]
    };
    let error =
        Application::build_service(config(StorageSettings::Memory, Some(SECRET), ""), unbound)
            .await
            .unwrap_err();
    assert!(
        matches!(error, StartupError::Route(_)) && error.to_string().contains("/orders"),
        "{error}"
    );

    let mut weak = Service::back_office();
    weak.routes = || {
        vec![crud::<domain::Admin>(
            "/admins",
            Role::MASTERADMIN,
            Access::ANY_CALLER,
        )]
    };
    let error = Application::build_service(config(StorageSettings::Memory, Some(SECRET), ""), weak)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("master admins only"), "{error}");
}
