//! Secrets: connection-string passwords and the JWT secret appear in no log line, response
//! body or `Debug` output, whatever fails.
//!
//! In the `observed` binary, with the process to itself, so that the log capture sees every
//! line (see `main.rs`).

use std::time::Duration;

use adapters_mongo::{MongoRepository, MongoSettings};
use app::auth::CallerRole;
use app::config::{AppConfig, Cli, Command};
use app::http::error::ApiError;
use app::service::Application;
use axum::http::header::AUTHORIZATION;
use axum::http::{Method, Request, StatusCode};
use clap::Parser;
use domain::Branch;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use ports::{ConnectionMonitor, Repository, Role};
use secrecy::SecretString;
use serde_json::json;
use testkit::server::{free_port, test_server_uri, unique_database_name, uri_with_database};
use tests::hostile::{answer, config};
use tests::service::{
    foreign_token, request, shorten, with_json_body, TestService, PASSWORD, SECRET,
    SELECTION_TIMEOUT,
};

/// For a role whose server is down or refuses the login: how long before a 503.
const DEAD_SELECTION_TIMEOUT: Duration = Duration::from_millis(400);

/// What must never be shown, and what a percent-encoded form of the password decodes to.
const SHOWN_NEVER: [&str; 3] = [PASSWORD, SECRET, "S3cret%50ass"];

fn assert_hidden(what: &str, text: &str) {
    for secret in SHOWN_NEVER {
        assert!(
            !text.contains(secret),
            "{what} shows {secret:?}: {}",
            shorten(text, 2000)
        );
    }
}

/// Requests over every kind of failure: database down or refusing the login (503), bad
/// tokens (401), bad bodies (400), health; returns the bodies after checking them.
async fn failing_requests(service: &TestService, master_id: &str) -> Vec<String> {
    let master = format!(
        "Bearer {}",
        service.token_for(master_id, CallerRole::MASTER_ADMIN)
    );
    let forged = format!(
        "Bearer {}",
        foreign_token(master_id, CallerRole::MASTER_ADMIN)
    );
    let unknown_id = ObjectId::new().to_hex();
    let branch = json!({ "name": "Secret test", "location": "Nowhere" }).to_string();
    let master_admin =
        json!({ "username": "secret.test", "fullName": "S T", "email": "s@t.example" }).to_string();
    let cases: Vec<(Method, String, &str, Option<String>)> = vec![
        (Method::GET, "/health".into(), "", None),
        (Method::GET, "/branches".into(), &master, None),
        (
            Method::POST,
            "/branches".into(),
            &master,
            Some(branch.clone()),
        ),
        (
            Method::GET,
            format!("/branches/{unknown_id}"),
            &master,
            None,
        ),
        (
            Method::PATCH,
            format!("/branches/{unknown_id}"),
            &master,
            Some(branch.clone()),
        ),
        (
            Method::DELETE,
            format!("/orders/{unknown_id}"),
            &master,
            None,
        ),
        (Method::GET, "/admins".into(), &master, None),
        (
            Method::POST,
            "/master-admins".into(),
            &master,
            Some(master_admin),
        ),
        (Method::GET, "/dashboard".into(), &master, None),
        (Method::GET, "/me".into(), &master, None),
        (Method::GET, "/branches".into(), &forged, None),
        (Method::GET, "/admins".into(), "Bearer x.y.z", None),
        (Method::GET, "/me".into(), "", None),
        (
            Method::POST,
            "/branches".into(),
            &master,
            Some(r#"{"name":{"$gt":""}}"#.into()),
        ),
        (Method::GET, "/branches?limit=-1".into(), &master, None),
        (Method::GET, "/nowhere".into(), &master, None),
    ];
    let mut bodies = Vec::new();
    for (method, target, authorization, body) in cases {
        let mut request = Request::builder().method(method.clone()).uri(&target);
        if !authorization.is_empty() {
            request = request.header(AUTHORIZATION, authorization);
        }
        let request = with_json_body(request, body);
        let reply = answer(service.router(), request).await.unwrap();
        reply
            .check_shape(&method)
            .unwrap_or_else(|why| panic!("{method} {target}: {why}"));
        assert_ne!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {target}: {}",
            reply.text
        );
        eprintln!("secrets: {method} {target} -> {}", reply.status);
        bodies.push(format!(
            "{method} {target} {}: {}",
            reply.status, reply.text
        ));
    }
    bodies
}

#[test]
fn passwords_and_the_jwt_secret_appear_in_no_log_body_or_debug_output() {
    let (logs, capture) = testkit::logs::capture();
    let server = test_server_uri();
    let port = server
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .unwrap();
    let dead = free_port();
    let mut shown: Vec<(String, String)> = Vec::new();

    capture.block_on(async {
        // Main down, masteradmin on the live server refusing the login; then the reverse with
        // the password percent-encoded (it decodes to the same text).
        let layouts = [
            (
                format!("mongodb://app:{PASSWORD}@127.0.0.1:{dead}/hostile_dead"),
                format!("mongodb://admin:{PASSWORD}@127.0.0.1:{port}/hostile_scram"),
            ),
            (
                format!("mongodb://app:S3cret%50ass@127.0.0.1:{port}/hostile_scram"),
                format!("mongodb://admin:S3cret%50ass@127.0.0.1:{dead}/hostile_dead"),
            ),
        ];
        for (main, masteradmin) in layouts {
            let settings = MongoSettings::new(main)
                .unwrap()
                .with_masteradmin_uri(masteradmin)
                .unwrap()
                .with_server_selection_timeout(DEAD_SELECTION_TIMEOUT);
            shown.push(("MongoSettings".into(), format!("{settings:?}")));
            shown.push((
                "RoleSettings".into(),
                format!("{:?}", settings.role(Role::MAIN).unwrap()),
            ));
            let config = AppConfig {
                ping_timeout: Duration::from_secs(2),
                ..config(settings)
            };
            shown.push(("AppConfig".into(), format!("{config:?}")));
            let service = TestService::start(config).await;
            let master_id = ObjectId::new().to_hex();
            for body in failing_requests(&service, &master_id).await {
                shown.push(("a response body".into(), body));
            }
            let manager = service.manager();
            for role in Role::DEFAULTS {
                let error = manager.ping(role).await.unwrap_err();
                shown.push(("a ping error".into(), format!("{error:?} {error}")));
                let api = ApiError::from(error);
                shown.push(("an ApiError".into(), format!("{api:?} {api}")));
                let count = MongoRepository::<Branch>::new(manager.role(role).unwrap())
                    .count()
                    .await
                    .unwrap_err();
                shown.push(("a repository error".into(), format!("{count:?} {count}")));
            }
            shown.push(("ConnectionManager".into(), format!("{manager:?}")));
            shown.push((
                "RoleConnection".into(),
                format!("{:?}", manager.role(Role::MASTERADMIN).unwrap()),
            ));
            shown.push(("Application".into(), format!("{:?}", service.application())));
            shown.push((
                "AppState".into(),
                format!("{:?}", service.application().state),
            ));
            service.finish().await;
            shown.push(("a shut-down manager".into(), format!("{manager:?}")));
        }

        // A 500: a stored document the domain refuses, on a database without a password.
        let database = unique_database_name("hostile_500");
        let settings = MongoSettings::new(uri_with_database(&server, &database))
            .unwrap()
            .with_server_selection_timeout(SELECTION_TIMEOUT);
        let service = TestService::looking_at(config(settings), &database, &database).await;
        let corrupt = ObjectId::new();
        service
            .main()
            .collection::<Document>("branches")
            .insert_one(doc! { "_id": corrupt, "name": 5, "__v": 0 })
            .await
            .unwrap();
        let master = service.token_for("x", CallerRole::MASTER_ADMIN);
        for target in [
            "/branches".to_owned(),
            format!("/branches/{}", corrupt.to_hex()),
        ] {
            let request = request(Method::GET, &target, Some(&master), None);
            let reply = answer(service.router(), request).await.unwrap();
            reply.check_shape(&Method::GET).unwrap();
            eprintln!(
                "secrets: GET {target} on a corrupt document -> {}",
                reply.status
            );
            shown.push(("a body over a corrupt document".into(), reply.text));
        }
        service.finish().await;
    });

    // Configuration errors, from code, from the environment's names and from flags.
    let secret_option = format!("authMechanismProperties=SERVICE_NAME:{PASSWORD}");
    let malformed = [
        format!("mongodb://app:{PASSWORD}@/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:notaport/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?maxPoolSize=lots"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?authMechanism=BOGUS"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?tls=maybe"),
        format!("mongodb://app:{PASSWORD}@x@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}:x@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}%@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db name"),
        format!("mongodb+srv://app:{PASSWORD}@127.0.0.1:{port}/db"),
        format!("mongodb://:{PASSWORD}@127.0.0.1:{port}/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port},/db"),
        format!("mongodb://app:{PASSWORD}@127.0.0.1:{port}/db?{secret_option}"),
        format!("mysql://app:{PASSWORD}@127.0.0.1/db"),
        format!("app:{PASSWORD}@127.0.0.1/db"),
    ];
    let mut errors = 0;
    for uri in &malformed {
        for result in [
            MongoSettings::new(uri.as_str()),
            MongoSettings::from_lookup(|name| match name {
                "MONGO_URI" => Some(format!("mongodb://127.0.0.1:{port}/ok")),
                "MASTER_ADMIN_MONGO_URI" => Some(uri.clone()),
                _ => None,
            }),
        ] {
            match result {
                Ok(settings) => shown.push((format!("settings of {uri}"), format!("{settings:?}"))),
                Err(error) => {
                    errors += 1;
                    shown.push((format!("the error of {uri}"), format!("{error:?} {error}")));
                }
            }
        }
        let args = ["app", "--mongo-uri", uri.as_str(), "--jwt-secret", SECRET];
        let cli = Cli::try_parse_from(args).unwrap();
        shown.push(("Cli".into(), format!("{cli:?}")));
        match cli.settings.app_config(Command::Serve) {
            Ok(config) => shown.push(("AppConfig from flags".into(), format!("{config:?}"))),
            Err(error) => shown.push(("a flag error".into(), format!("{error:?} {error}"))),
        }
        let bad_port = [
            "app",
            "--mongo-uri",
            uri.as_str(),
            "--jwt-secret",
            SECRET,
            "--port",
            "x",
        ];
        let error = Cli::try_parse_from(bad_port).unwrap_err();
        shown.push(("a clap error".into(), format!("{error:?} {error}")));
    }
    let no_secret = AppConfig {
        jwt_secret: None,
        ..config(
            MongoSettings::new(format!("mongodb://app:{PASSWORD}@127.0.0.1:{dead}/db")).unwrap(),
        )
    };
    let startup = capture.block_on(Application::build(no_secret)).unwrap_err();
    shown.push(("a start-up error".into(), format!("{startup:?} {startup}")));
    // The password is shorter than a JWT secret may be: refused, and not shown.
    let weak_secret = AppConfig {
        jwt_secret: Some(SecretString::from(PASSWORD)),
        ..config(MongoSettings::new(format!("mongodb://127.0.0.1:{dead}/db")).unwrap())
    };
    let startup = capture
        .block_on(Application::build(weak_secret))
        .unwrap_err();
    shown.push((
        "a weak-secret error".into(),
        format!("{startup:?} {startup}"),
    ));

    let logs = logs.text();
    for (what, text) in &shown {
        assert_hidden(what, text);
    }
    assert_hidden("the logs", &logs);
    assert!(
        logs.contains("/branches") && logs.contains("503"),
        "the logs were not captured: {}",
        shorten(&logs, 2000)
    );
    eprintln!(
        "secrets: {} outputs ({errors} configuration errors) and {} bytes of logs checked",
        shown.len(),
        logs.len()
    );
}
