//! A corpus of hostile connection strings: for each, no secret it holds appears in a
//! configuration error (`Display` or `Debug`), in `Debug` of the settings, the manager or the
//! application, in a response body, or in any log line, whatever the driver makes of it.
//!
//! In the `observed` binary, with the process to itself, so that the log capture sees every
//! line (see `main.rs`). Only loopback hosts are ever dialled; `+srv` entries are parsed, never
//! resolved.

use std::time::Duration;

use adapters_mongo::MongoSettings;
use app::auth::CallerRole;
use axum::http::{Method, StatusCode};
use ports::{ConnectionMonitor, Role};
use testkit::server::free_port;
use tests::hostile::{answer, config};
use tests::service::{request, shorten, TestService};

/// One hostile URI and the secrets it holds, each of which must never be shown.
struct Case {
    what: &'static str,
    uri: String,
    secrets: Vec<&'static str>,
}

fn corpus(dead: u16, other: u16) -> Vec<Case> {
    let case = |what, uri: String, secrets: &[&'static str]| Case {
        what,
        uri,
        secrets: secrets.to_vec(),
    };
    vec![
        case(
            "@ in the query, with a TLS key password",
            format!("mongodb://app:PwInQuery1@127.0.0.1:{dead}/main?appName=api@prod&tlsCertificateKeyFilePassword=TlsKeyS3CRET"),
            &["PwInQuery1", "TlsKeyS3CRET"],
        ),
        case(
            "a percent-encoded password with @, : and /",
            format!("mongodb://app:p%40ss%3Aw%2Ford9@127.0.0.1:{dead}/main"),
            &["p@ss:w/ord9", "p%40ss%3Aw%2Ford9", "w/ord9", "ss%3Aw"],
        ),
        case(
            "a password with a raw ? and /",
            format!("mongodb://app:raw?pass/word7@127.0.0.1:{dead}/main"),
            &["raw?pass/word7", "pass/word7", "word7"],
        ),
        case(
            "several hosts",
            format!("mongodb://app:ManyHosts5@127.0.0.1:{dead},127.0.0.1:{other}/main?replicaSet=rs0"),
            &["ManyHosts5"],
        ),
        case(
            "+srv",
            "mongodb+srv://app:SrvS3cret4@cluster0.example.invalid/main".to_owned(),
            &["SrvS3cret4"],
        ),
        case(
            "an AWS session token, well formed",
            format!("mongodb://127.0.0.1:{dead}/main?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:AwsT0kenA"),
            &["AwsT0kenA"],
        ),
        case(
            "an AWS session token, malformed",
            format!("mongodb://127.0.0.1:{dead}/main?authMechanismProperties=AWS_SESSION_TOKEN=AwsT0kenB"),
            &["AwsT0kenB"],
        ),
        case(
            "a proxy password",
            format!("mongodb://127.0.0.1:{dead}/main?proxyHost=127.0.0.1&proxyUsername=u&proxyPassword=ProxyS3cret"),
            &["ProxyS3cret"],
        ),
        case(
            "unknown options with secret-looking values",
            format!("mongodb://u:KnownPw3@127.0.0.1:{dead}/main?apiKey=UnknownS3cretA&password=UnknownS3cretB"),
            &["KnownPw3", "UnknownS3cretA", "UnknownS3cretB"],
        ),
        case(
            "an unparsable port after a password",
            "mongodb://app:BadPortPw@127.0.0.1:notaport/main".to_owned(),
            &["BadPortPw"],
        ),
    ]
}

#[test]
fn no_secret_of_a_hostile_connection_string_is_ever_shown() {
    let (logs, capture) = testkit::logs::capture();
    let (dead, other) = (free_port(), free_port());
    let mut checked = 0;
    for case in corpus(dead, other) {
        let mut shown = Vec::new();
        match MongoSettings::new(case.uri.as_str()) {
            Err(error) => shown.push(format!("{error} {error:?}")),
            Ok(settings) => {
                let settings = settings.with_server_selection_timeout(Duration::from_millis(300));
                shown.push(format!("{settings:?}"));
                shown.push(settings.role(Role::MAIN).unwrap().redacted_uri().to_owned());
                if !case.uri.starts_with("mongodb+srv://") {
                    shown.extend(capture.block_on(served(settings)));
                }
            }
        }
        for text in &shown {
            assert_hidden(case.what, &case.secrets, text);
        }
        assert_hidden(case.what, &case.secrets, &logs.text());
        checked += shown.len();
    }
    let logs = logs.text();
    assert!(
        logs.contains("MongoDB"),
        "the logs were not captured: {}",
        shorten(&logs, 2000)
    );
    eprintln!(
        "uri corpus: {checked} outputs and {} bytes of logs checked",
        logs.len()
    );
}

/// What a service on `settings` shows: the bodies of a health check and of a read that
/// needs the database (503), a ping error, and its `Debug` forms.
async fn served(settings: MongoSettings) -> Vec<String> {
    let service = TestService::start(config(settings)).await;
    let master = service.token(CallerRole::MASTER_ADMIN);
    let mut shown = Vec::new();
    for target in ["/health", "/branches"] {
        let reply = answer(
            service.router(),
            request(Method::GET, target, Some(&master), None),
        );
        let reply = reply.await.unwrap();
        assert_ne!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{target}");
        shown.push(reply.text);
    }
    let error = service.manager().ping(Role::MAIN).await.unwrap_err();
    shown.push(format!("{error} {error:?}"));
    shown.push(format!("{:?}", service.manager()));
    shown.push(format!("{:?}", service.application()));
    service.finish().await;
    shown
}

fn assert_hidden(what: &str, secrets: &[&str], text: &str) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{what}: {secret:?} is shown in {}",
            shorten(text, 2000)
        );
    }
}
