//! What an outside probe of the release binary found, each held here: a token's header cannot
//! forge a log line, two `Authorization` headers are refused rather than one silently
//! winning, and both listeners bind where they are told, on IPv6 as well as IPv4 by default.
//! (A body that stops arriving is in `abuse.rs`.)

use std::net::SocketAddr;
use std::time::Duration;

use app::auth::CallerRole;
use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use testkit::process::{AppProcess, Launch};
use testkit::server::free_port;
use tests::service::TestService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

const SECRET: &str = "hardening-test-secret-of-32-byte";
/// A line a forged header would write, if its newline reached the log.
const FORGED: &str = "2026-12-06T00:00:00Z ERROR app: forged line";

/// `app serve` in memory with `env`, listening.
async fn serve(env: &[(&str, &str)], log: &std::path::Path) -> AppProcess {
    let launch = env.iter().fold(
        Launch::new(env!("CARGO_BIN_EXE_app"), ["serve"])
            .env("APP_BACKEND", "memory")
            .env("AUTH_JWT_SECRET", SECRET),
        |launch, (name, value)| launch.env(name, *value),
    );
    let mut app = AppProcess::spawn(&launch, log).unwrap();
    app.wait_until_listening(Duration::from_secs(30))
        .await
        .unwrap();
    app
}

/// `GET path` on `address` with `Authorization: Bearer token`: the answer's status line.
async fn get(address: SocketAddr, path: &str, token: Option<&str>) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address).await?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer.lines().next().unwrap_or_default().to_owned())
}

/// A token whose header's `alg` holds an escape sequence, a newline and a log line.
fn forged_token() -> String {
    let header = serde_json::json!({
        "alg": format!("\u{1b}[2J\u{1b}[31m\n{FORGED}\r\u{202e}"),
        "typ": "JWT",
    });
    let part = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.c2ln",
        part(&header),
        part(&serde_json::json!({"sub": "x"}))
    )
}

#[tokio::test]
async fn a_token_header_forges_no_log_line_and_sends_no_escape_in_text_or_json() {
    for format in ["text", "json"] {
        let log = tempfile::NamedTempFile::new().unwrap();
        let env = [("RUST_LOG", "info,app=debug"), ("LOG_FORMAT", format)];
        let app = serve(&env, log.path()).await;
        let status = get(app.address(), "/branches", Some(&forged_token()))
            .await
            .unwrap();
        assert!(status.contains(" 401 "), "{format}: {status}");
        app.stop();

        let written = std::fs::read(log.path()).unwrap();
        let text = String::from_utf8_lossy(&written);
        assert!(
            text.contains("refused a bearer token"),
            "{format}: the refusal is logged at debug:\n{text}"
        );
        let controls: Vec<char> = text
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
            .collect();
        assert!(controls.is_empty(), "{format}: {controls:?} in\n{text}");
        assert!(
            !text.lines().any(|line| line.starts_with(FORGED)),
            "{format}: a forged line:\n{text}"
        );
        assert!(
            !text.contains("forged line"),
            "{format}: the token's text is logged:\n{text}"
        );
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused_whichever_comes_first() {
    let service = TestService::in_memory().await;
    let (user, master) = (
        service.token(CallerRole::USER),
        service.token(CallerRole::MASTER_ADMIN),
    );
    for (first, second) in [(&user, &master), (&master, &user)] {
        let request = Request::get("/admins")
            .header(AUTHORIZATION, format!("Bearer {first}"))
            .header(AUTHORIZATION, format!("Bearer {second}"))
            .body(Body::empty())
            .unwrap();
        let reply = service.call(request).await;
        let message = reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(message.contains("more than one Authorization"), "{message}");
    }
    // One header still works.
    let request = Request::get("/admins")
        .header(AUTHORIZATION, format!("Bearer {master}"))
        .body(Body::empty())
        .unwrap();
    let response = service.router().clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn by_default_both_listeners_take_ipv6_and_ipv4_and_a_bind_address_keeps_them_to_it() {
    let metrics = free_port().to_string();
    let log = tempfile::NamedTempFile::new().unwrap();
    let app = serve(&[("METRICS_PORT", &metrics)], log.path()).await;
    let port = app.port();
    let metrics_port: u16 = metrics.parse().unwrap();
    for host in ["127.0.0.1", "[::1]"] {
        let api: SocketAddr = format!("{host}:{port}").parse().unwrap();
        let status = get(api, "/health/live", None).await.unwrap();
        assert!(status.contains(" 200 "), "{host}: {status}");
        let scraped: SocketAddr = format!("{host}:{metrics_port}").parse().unwrap();
        let status = get(scraped, "/metrics", None).await.unwrap();
        assert!(status.contains(" 200 "), "{host} metrics: {status}");
    }
    app.stop();

    let metrics = free_port().to_string();
    let env = [
        ("BIND_ADDRESS", "127.0.0.1"),
        ("METRICS_PORT", metrics.as_str()),
        ("METRICS_BIND_ADDRESS", "::1"),
    ];
    let app = serve(&env, log.path()).await;
    let metrics_port: u16 = metrics.parse().unwrap();
    let at = |address: &str| address.parse::<SocketAddr>().unwrap();
    let api_v4 = at(&format!("127.0.0.1:{}", app.port()));
    let api_v6 = at(&format!("[::1]:{}", app.port()));
    assert!(get(api_v4, "/health/live", None)
        .await
        .unwrap()
        .contains(" 200 "));
    assert!(
        get(api_v6, "/health/live", None).await.is_err(),
        "the API on ::1"
    );
    let metrics_v6 = at(&format!("[::1]:{metrics_port}"));
    let metrics_v4 = at(&format!("127.0.0.1:{metrics_port}"));
    assert!(get(metrics_v6, "/metrics", None)
        .await
        .unwrap()
        .contains(" 200 "));
    assert!(
        get(metrics_v4, "/metrics", None).await.is_err(),
        "metrics on 127.0.0.1"
    );
    app.stop();
}
