//! The `app` binary as a newcomer and an operator use it: `serve` with nothing configured,
//! its printed `curl` line, SIGTERM, `health`, the token secret's length, and `lambda`, which
//! runs in memory only when asked to.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::server::{test_server_uri, unique_database_name, uri_with_database};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A secret of the minimum length, 32 bytes.
const SECRET: &str = "cli-test-secret-of-32-bytes-long";

/// The binary with `args`, configured by nothing but what the test sets.
fn app(args: &[&str]) -> Command {
    let mut command = testkit::process::command(env!("CARGO_BIN_EXE_app"));
    command.args(args).env("RUST_LOG", "warn");
    command
}

/// A child process, killed on drop; its stdout reader is kept open so that the child never
/// writes into a closed pipe.
struct Running(
    Child,
    Option<std::io::Lines<BufReader<std::process::ChildStdout>>>,
);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads stdout until the demo's curl line, which carries the token and the URL.
fn curl_line(running: &mut Running) -> String {
    let stdout = running.0.stdout.take().unwrap();
    let lines = running.1.insert(BufReader::new(stdout).lines());
    lines
        .map_while(Result::ok)
        .find(|line| line.contains("curl "))
        .expect("serve prints a curl line")
}

/// Sends the request the curl line describes, over plain HTTP/1.1, and returns the response.
async fn follow(curl: &str) -> String {
    let token = curl
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    let url = curl.split_whitespace().last().unwrap();
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn serve_with_nothing_configured_prints_a_curl_line_that_answers_200_and_stops_on_sigterm() {
    let child = app(&["serve"])
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child, None);
    let curl = curl_line(&mut running);

    let response = follow(&curl).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("\"fullName\":\"Grace Hopper\""),
        "{response}"
    );

    let pid = running.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve must stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a graceful stop exits 0, got {status}");
}

#[test]
fn mongodb_without_a_jwt_secret_stops_start_up_naming_the_variable_without_the_password() {
    let output = app(&["serve"])
        .env("MONGO_URI", "mongodb://app:Pa55word@127.0.0.1:1/backoffice")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AUTH_JWT_SECRET"), "{stderr}");
    assert!(!stderr.contains("Pa55word"), "{stderr}");
}

#[test]
fn a_uri_without_a_database_stops_start_up_with_the_password_redacted() {
    let output = app(&["serve"])
        .env("MONGO_URI", "mongodb://app:Pa55word@127.0.0.1:1")
        .env("AUTH_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MONGO_URI"), "{stderr}");
    assert!(!stderr.contains("Pa55word"), "{stderr}");
}

#[test]
fn health_fails_when_a_database_is_unreachable_and_says_which() {
    let output = app(&["health"])
        .env(
            "MONGO_URI",
            "mongodb://127.0.0.1:1/backoffice?serverSelectionTimeoutMS=300",
        )
        .env("AUTH_JWT_SECRET", SECRET)
        .env("PING_TIMEOUT_MS", "2000")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("main") && stdout.contains("masteradmin"),
        "{stdout}"
    );
    let states: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(states.len(), 2, "{stdout}");
    assert!(
        !states.contains(&"connected"),
        "no role is connected: {stdout}"
    );
}

#[test]
fn health_succeeds_against_the_test_server() {
    let server = test_server_uri();
    let database = |prefix| uri_with_database(&server, &unique_database_name(prefix));
    let output = app(&["health"])
        .env("MONGO_URI", database("cli_health_main"))
        .env("MASTER_ADMIN_MONGO_URI", database("cli_health_admin"))
        .env("AUTH_JWT_SECRET", SECRET)
        // Blank, as deployment templates leave them: unset, not refused.
        .env("MONGO_ROLES", "")
        .env("MONGO_MAX_POOL_SIZE", " ")
        .env("MONGO_READ_ONLY_MAIN", "")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let states: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(states, ["connected", "connected"], "{stdout}");
}

#[test]
fn a_jwt_secret_shorter_than_32_bytes_stops_start_up_saying_how_to_generate_one() {
    let output = app(&["serve"])
        .env("AUTH_JWT_SECRET", "a")
        .env("PORT", "0")
        .output()
        .unwrap();
    let error = start_up_error(&output);
    assert!(
        error.contains("AUTH_JWT_SECRET") && error.contains("openssl rand -base64 48"),
        "{error}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("openssl rand -base64 48").count(),
        1,
        "a start-up failure is printed once: {stderr}"
    );
}

#[test]
fn lambda_without_mongo_uri_stops_start_up_naming_it() {
    for args in [&["lambda"][..], &["lambda", "--backend", "mongo"]] {
        let output = app(args).env("AUTH_JWT_SECRET", SECRET).output().unwrap();
        let error = start_up_error(&output);
        assert!(error.contains("MONGO_URI"), "{args:?}: {error}");
    }
}

#[test]
fn inside_lambda_without_a_command_or_mongo_uri_start_up_stops_naming_mongo_uri() {
    let runtime = TcpListener::bind("127.0.0.1:0").unwrap();
    let output = app(&[])
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            runtime.local_addr().unwrap().to_string(),
        )
        .output()
        .unwrap();
    let error = start_up_error(&output);
    assert!(error.contains("MONGO_URI"), "{error}");
}

#[test]
fn the_memory_backend_asked_for_next_to_mongo_uri_stops_start_up() {
    let output = app(&["serve", "--backend", "memory"])
        .env("MONGO_URI", "mongodb://127.0.0.1:1/backoffice")
        .env("AUTH_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    let error = start_up_error(&output);
    assert!(
        error.contains("--backend memory") && error.contains("MONGO_URI"),
        "{error}"
    );
}

#[test]
fn lambda_with_the_memory_backend_asked_for_starts_and_polls_the_runtime_api() {
    for (args, backend) in [
        (&["lambda", "--backend", "memory"][..], None),
        (&["lambda"][..], Some("memory")),
    ] {
        let runtime = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut command = app(args);
        command
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                runtime.local_addr().unwrap().to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "back-office")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .stderr(Stdio::piped());
        if let Some(backend) = backend {
            command.env("APP_BACKEND", backend);
        }
        let mut running = Running(command.spawn().unwrap(), None);
        let line = first_request_line(&runtime, &mut running);
        assert!(
            line.starts_with("GET /2018-06-01/runtime/invocation/next "),
            "{args:?} {backend:?}: {line}"
        );
    }
}

/// The `error: …` line of a binary that refused to start.
fn start_up_error(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"))
        .to_owned()
}

/// The request line of the first request `running` sends to the Lambda runtime API at
/// `runtime`; fails with its standard error if it exits first.
fn first_request_line(runtime: &TcpListener, running: &mut Running) -> String {
    runtime.set_nonblocking(true).unwrap();
    let started = Instant::now();
    let mut stream = loop {
        match runtime.accept() {
            Ok((stream, _)) => break stream,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => panic!("{error}"),
        }
        if let Some(status) = running.0.try_wait().unwrap() {
            let mut stderr = String::new();
            running
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("exited with {status} before polling for events: {stderr}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no request");
        std::thread::sleep(Duration::from_millis(20));
    };
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0_u8];
    while !head.ends_with(b"\r\n") && stream.read(&mut byte).unwrap() == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The variables of the README's settings table, as its first column writes them (a row may
/// name several: `MONGO_MAX_POOL_SIZE_<ROLE>`, `MONGO_MIN_POOL_SIZE_<ROLE>`, …).
fn documented_settings() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README is beside the crates");
    let table = readme
        .split("| variable | default | meaning |")
        .nth(1)
        .expect("the README has its settings table");
    table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(1))
        .flat_map(|cell| {
            cell.split(',')
                .map(|name| name.trim().trim_matches('`').to_owned())
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn every_setting_in_the_readme_is_listed_by_help_the_per_role_ones_as_patterns() {
    let output = app(&["--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let documented = documented_settings();
    assert!(documented.len() > 30, "{documented:?}");
    for name in documented {
        assert!(help.contains(&name), "`app --help` does not list {name}");
    }
    assert!(
        !help.contains("mongodb://"),
        "no value of a URI is shown: {help}"
    );
}
