//! The contract test: Schemathesis sends requests generated from `/openapi.json`, valid and
//! invalid ones, to every operation of the real `app serve` on a fresh database, and holds each
//! answer to the document: no server error, no undocumented status, every body matching its
//! schema, every schema-valid request accepted and every schema-violating one refused.
//!
//! The end-to-end tests check the answers to the requests they were written with; this one
//! checks the document against requests nobody wrote, so a rule the handlers enforce but the
//! document does not state (an empty name refused, a `limit` of 101 accepted) fails here.
//!
//! What Schemathesis checks and which refusals of valid data are accepted live in one file,
//! `tests/contract/schemathesis.toml`, each exception with its reason; `tests/contract/hooks.py`
//! narrows those statuses to error codes. Schemathesis is pinned and installed into `.venv/` by
//! `scripts/test-server`, which exports `SCHEMATHESIS_BIN`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use axum::http::StatusCode;
use ports::Role;
use secrecy::SecretString;
use serde_json::{json, Value};
use testkit::http::{send, Call};
use testkit::process::{command, AppProcess, Launch};
use testkit::server::test_server_uri;
use tests::service::{raw_client, FreshDatabases};

const SECRET: &str = "contract-test-secret-of-32-bytes";
/// The test's budget. A run takes about a minute alone, two when the other suites share the
/// cores; past this Schemathesis is stopped and the test fails, rather than hold up the suite.
const BUDGET: Duration = Duration::from_secs(180);
const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/contract/schemathesis.toml"
);
const HOOKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/hooks.py");

/// The Schemathesis executable from `SCHEMATHESIS_BIN`. Without it the test is skipped, unless
/// `MONGO_TEST_REQUIRED=1` (as `scripts/test` sets), where a missing tool must not pass as a
/// skipped check.
fn schemathesis() -> Option<PathBuf> {
    match std::env::var_os("SCHEMATHESIS_BIN") {
        Some(bin) if !bin.is_empty() => Some(PathBuf::from(bin)),
        _ if std::env::var("MONGO_TEST_REQUIRED").as_deref() == Ok("1") => panic!(
            "SCHEMATHESIS_BIN is not set, and MONGO_TEST_REQUIRED=1: run ./scripts/test, or \
             `eval \"$(./scripts/test-server)\"` first, which installs Schemathesis and sets it"
        ),
        _ => {
            eprintln!(
                "contract test skipped: SCHEMATHESIS_BIN is not set (see scripts/test-server)"
            );
            None
        }
    }
}

fn token(subject: &str) -> String {
    JwtKeys::new(&SecretString::from(SECRET), TokenPolicy::default())
        .unwrap()
        .issue(subject, CallerRole::MASTER_ADMIN, Duration::from_secs(3600))
}

/// A master admin's token whose subject is a stored master admin, so that `GET /me` answers
/// with a record rather than a 404.
async fn master_admin_token(address: SocketAddr) -> String {
    let body = json!({
        "username": "contract",
        "fullName": "Contract Test",
        "email": "contract@example.com",
    });
    let call = Call::post("/master-admins", body.to_string()).bearer(&token("contract-setup"));
    let answer = send(address, call).await.unwrap();
    let created: Value = serde_json::from_slice(answer.body()).unwrap_or(Value::Null);
    assert_eq!(answer.status(), StatusCode::CREATED, "{created}");
    token(created["data"]["id"].as_str().unwrap())
}

/// Runs Schemathesis to its end or to the [`BUDGET`]: its exit status (`None` when stopped) and
/// its output.
async fn run(
    bin: &Path,
    address: SocketAddr,
    token: &str,
    reports: &Path,
) -> (Option<i32>, String) {
    let output = reports.join("schemathesis.out");
    let file = std::fs::File::create(&output).unwrap();
    let mut child = command(bin)
        // Wide enough that a failure's curl line is not wrapped.
        .env("COLUMNS", "160")
        .env("SCHEMATHESIS_HOOKS", HOOKS)
        // No `__pycache__` written beside hooks.py, in the repository.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // Anything it leaves behind goes with the reports, not in the repository.
        .current_dir(reports)
        .args(["--config-file", CONFIG, "run"])
        .arg(format!("http://{address}/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--mode", "all"])
        // An include filter: without one, the operation that serves the document being tested
        // (`GET /openapi.json`) is left out.
        .args(["--include-path-regex", "^/"])
        .args(["--report", "json,ndjson", "--report-dir"])
        .arg(reports)
        .args(["--report-json-path", "report.json", "--no-color"])
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let deadline = Instant::now() + BUDGET;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    (status, std::fs::read_to_string(&output).unwrap_or_default())
}

/// From the `FAILURES` heading to the end: each failure with its curl line, the warnings and
/// the summary. All of it when there is no such heading (a configuration error, a crash).
fn failures(output: &str) -> &str {
    output
        .find("=== FAILURES ===")
        .and_then(|at| output[..at].rfind('\n').map(|line| &output[line + 1..]))
        .unwrap_or(output)
}

/// The app's warnings and errors (a 500 logs its cause), at most 20 of them.
fn warnings(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
        .collect();
    match &lines[lines.len().saturating_sub(20)..] {
        [] => "none".to_owned(),
        last => last.join("\n"),
    }
}

#[tokio::test]
async fn every_operation_answers_as_the_openapi_document_says() {
    let Some(bin) = schemathesis() else { return };
    let databases = FreshDatabases::new("contract");
    // Kept when the test fails: Schemathesis's reports and the app's log, to read afterwards.
    let reports = tempfile::Builder::new()
        .prefix("contract-")
        .tempdir()
        .unwrap();
    let launch = Launch::new(env!("CARGO_BIN_EXE_app"), ["serve"])
        .env("MONGO_URI", databases.uri(Role::MAIN))
        .env("MASTER_ADMIN_MONGO_URI", databases.uri(Role::MASTERADMIN))
        .env("AUTH_JWT_SECRET", SECRET)
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("MONGO_SERVER_SELECTION_TIMEOUT_MS", "5000");
    let mut app = AppProcess::spawn(&launch, &reports.path().join("app.log")).unwrap();
    app.wait_until_listening(Duration::from_secs(30))
        .await
        .unwrap();
    let token = master_admin_token(app.address()).await;

    let started = Instant::now();
    let (status, output) = run(&bin, app.address(), &token, reports.path()).await;
    let took = started.elapsed();
    // A crash refuses every request after it: reported with the rest below.
    let crashed = app.check_alive().err();
    app.stop();
    let client = raw_client(&test_server_uri()).await;
    for database in [&databases.main, &databases.masteradmin] {
        let _ = client.database(database).drop().await;
    }
    client.shutdown().await;

    let report: Value = std::fs::read(reports.path().join("report.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    let operations = &report["operations"];
    let every_operation = operations["total"].as_u64().is_some_and(|total| {
        total > 0 && operations["selected"] == total && operations["tested"] == total
    });
    if status == Some(0) && every_operation && crashed.is_none() {
        eprintln!("contract: {operations} in {took:.0?}");
        return;
    }
    let kept = reports.keep();
    panic!(
        "Schemathesis {} after {took:.0?} ({}); operations {operations}; reports and app.log in \
         {}{}\n\n{}\n\nthe app's warnings and errors:\n{}",
        match status {
            Some(code) => format!("exited with {code}"),
            None => format!("was stopped at its budget of {BUDGET:?}"),
        },
        if every_operation {
            "every operation tested"
        } else {
            "NOT every operation tested"
        },
        kept.display(),
        crashed.map_or(String::new(), |log| format!("\n\nthe app died: {log}")),
        failures(&output),
        warnings(&std::fs::read_to_string(kept.join("app.log")).unwrap_or_default()),
    );
}
