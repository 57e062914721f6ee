//! `app serve` under abuse, on real sockets on 127.0.0.1: slowloris clients that send their
//! headers a byte a second, more connections than the cap, a body that stops arriving, an
//! idle kept-alive connection, and a shutdown with requests in flight. Each test serves with
//! `app::http::serve`, the loop `app serve` runs, with small limits.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use app::auth::CallerRole;
use app::config::AppConfig;
use app::http::{self, ServeLimits};
use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use tests::service::TestService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any one client of these tests waits for the server before calling it stuck.
const STUCK: Duration = Duration::from_secs(10);

/// A server on a free loopback port, stopped (as by SIGTERM) with [`Server::stop`].
struct Server {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<()>,
}

impl Server {
    async fn start(router: Router, limits: ServeLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(http::serve(listener, router, limits, async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop,
            serving,
        }
    }

    /// Signals shutdown and returns how long the server took to return.
    async fn stop(self) -> Duration {
        let asked = Instant::now();
        let _ = self.stop.send(());
        tokio::time::timeout(STUCK, self.serving)
            .await
            .expect("serve returns after its shutdown grace")
            .unwrap();
        asked.elapsed()
    }
}

/// The back office in memory, and a token that reads its branches.
async fn back_office() -> (Router, String) {
    let service = TestService::in_memory().await;
    let token = service.token(CallerRole::USER);
    (service.router().clone(), token)
}

/// Sends `request` (which asks for `Connection: close`) and reads to the end: the status and
/// the whole answer, or `None` when the server closed the connection without answering.
async fn exchange(address: SocketAddr, request: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    // A server that closes at once may make the write fail: that is a refusal too.
    if stream.write_all(request.as_bytes()).await.is_err() {
        return None;
    }
    let mut raw = Vec::new();
    let read = tokio::time::timeout(STUCK, stream.read_to_end(&mut raw))
        .await
        .expect("the server answers or closes");
    if read.is_err() || raw.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

/// `GET /branches` as a well-behaved client sends it: its status and how long it took.
async fn normal_get(address: SocketAddr, token: &str) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let request = format!(
        "GET /branches HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    );
    let answer = exchange(address, &request).await;
    (answer.map(|(status, _)| status), started.elapsed())
}

/// A slowloris client: connects, then sends a request head one byte a second, never
/// finishing it. Returns how long after connecting the server closed the connection.
async fn slow_client(address: SocketAddr) -> Duration {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let opened = Instant::now();
    let head = format!(
        "GET /health/live HTTP/1.1\r\nHost: {address}\r\nX-Slow: {}",
        "a".repeat(64)
    );
    let mut bytes = head.bytes();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut answer = [0_u8; 512];
    loop {
        tokio::select! {
            read = stream.read(&mut answer) => match read {
                // A 408 or any other answer may come first; the end of the stream is what counts.
                Ok(n) if n > 0 => {}
                _ => return opened.elapsed(),
            },
            _ = tick.tick() => {
                let byte = bytes.next().unwrap_or(b'a');
                if stream.write_all(&[byte]).await.is_err() {
                    return opened.elapsed();
                }
            }
        }
        assert!(
            opened.elapsed() < STUCK,
            "a slow client was still connected after {STUCK:?}"
        );
    }
}

fn spread(mut times: Vec<Duration>) -> (Duration, Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2], times[times.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_500_slowloris_sockets_a_normal_get_is_answered_at_once_and_the_slow_ones_are_closed_by_the_header_timeout(
) {
    let header_timeout = Duration::from_secs(1);
    let limits = ServeLimits {
        header_read_timeout: header_timeout,
        idle_timeout: Duration::from_secs(10),
        max_connections: 1000,
        shutdown_grace: Duration::from_secs(1),
    };
    let (router, token) = back_office().await;
    let server = Server::start(router, limits).await;

    let slow: Vec<_> = (0..500)
        .map(|_| tokio::spawn(slow_client(server.address)))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, elapsed) = normal_get(server.address, &token).await;
    eprintln!("GET /branches beside 500 slow sockets: {status:?} in {elapsed:?}");
    assert_eq!(status, Some(200));
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");

    let mut closed = Vec::new();
    for client in slow {
        closed.push(client.await.unwrap());
    }
    let (first, median, last) = spread(closed);
    eprintln!(
        "500 slow sockets closed by the server after {first:?} (first), {median:?} (median), \
         {last:?} (last); header timeout {header_timeout:?}"
    );
    assert!(
        last <= header_timeout + Duration::from_secs(1),
        "a slow socket was held {last:?}"
    );
    assert!(
        first >= header_timeout - Duration::from_millis(100),
        "a slow socket was closed after {first:?}, before its header timeout"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_at_once_and_served_again_once_slots_free_up() {
    let header_timeout = Duration::from_secs(2);
    let limits = ServeLimits {
        header_read_timeout: header_timeout,
        idle_timeout: Duration::from_secs(10),
        max_connections: 100,
        shutdown_grace: Duration::from_secs(1),
    };
    let (router, token) = back_office().await;
    let server = Server::start(router, limits).await;

    let holding: Vec<_> = (0..100)
        .map(|_| tokio::spawn(slow_client(server.address)))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let over: Vec<_> = (0..50)
        .map(|_| tokio::spawn(slow_client(server.address)))
        .collect();
    let mut refused = Vec::new();
    for client in over {
        refused.push(client.await.unwrap());
    }
    let (_, median, last) = spread(refused);
    eprintln!(
        "50 connections over a cap of 100: closed after {median:?} (median), {last:?} (last)"
    );
    assert!(
        last < Duration::from_millis(500),
        "a connection over the cap was held {last:?}: not closed at once"
    );
    let (status, elapsed) = normal_get(server.address, &token).await;
    assert_eq!(
        status, None,
        "a request over the cap is not queued or served"
    );
    assert!(
        elapsed < Duration::from_millis(500),
        "refused after {elapsed:?}"
    );

    for client in holding {
        client.await.unwrap();
    }
    let (status, elapsed) = normal_get(server.address, &token).await;
    eprintln!("GET /branches once the slow sockets were closed: {status:?} in {elapsed:?}");
    assert_eq!(status, Some(200), "the slots are given back");
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_loses_its_connection_after_the_idle_timeout() {
    let idle = Duration::from_millis(500);
    let limits = ServeLimits {
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: idle,
        max_connections: 10,
        shutdown_grace: Duration::from_secs(1),
    };
    let router = Router::new().route("/echo", post(|body: String| async move { body }));
    let server = Server::start(router, limits).await;

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let sent = Instant::now();
    let partial = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789";
    stream.write_all(partial.as_bytes()).await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(STUCK, stream.read_to_end(&mut rest))
        .await
        .expect("the server closes a stalled upload");
    let elapsed = sent.elapsed();
    eprintln!("stalled body: connection closed after {elapsed:?} (idle timeout {idle:?})");
    assert!(
        elapsed >= idle - Duration::from_millis(50) && elapsed < idle + Duration::from_secs(1),
        "closed after {elapsed:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed_after_the_header_timeout() {
    let header_timeout = Duration::from_millis(500);
    let limits = ServeLimits {
        header_read_timeout: header_timeout,
        idle_timeout: Duration::from_secs(10),
        max_connections: 10,
        shutdown_grace: Duration::from_secs(1),
    };
    let router = Router::new().route("/ok", get(|| async { "ok" }));
    let server = Server::start(router, limits).await;

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !answer.ends_with(b"\r\n\r\nok") {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buffer[..n]);
    }
    let answered = Instant::now();
    let n = tokio::time::timeout(STUCK, stream.read(&mut buffer))
        .await
        .expect("the server closes an idle connection");
    let idle = answered.elapsed();
    eprintln!("kept-alive connection left idle: closed after {idle:?}");
    assert!(matches!(n, Ok(0) | Err(_)), "nothing more was asked for");
    assert!(
        idle >= header_timeout - Duration::from_millis(50)
            && idle < header_timeout + Duration::from_secs(1),
        "closed after {idle:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_short_request_finish_and_ends_a_long_one_at_the_grace() {
    let grace = Duration::from_millis(500);
    let limits = ServeLimits {
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(10),
        max_connections: 10,
        shutdown_grace: grace,
    };
    let router = Router::new().route(
        "/sleep/{ms}",
        get(|Path(ms): Path<u64>| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            "done"
        }),
    );
    let server = Server::start(router, limits).await;
    let address = server.address;
    let call = |ms: u64| {
        tokio::spawn(async move {
            let request =
                format!("GET /sleep/{ms} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            exchange(address, &request).await
        })
    };
    let (short, long) = (call(200), call(5_000));
    tokio::time::sleep(Duration::from_millis(50)).await;

    let took = server.stop().await;
    eprintln!("shutdown with a 200 ms and a 5 s request in flight returned after {took:?}");
    assert!(
        took >= grace - Duration::from_millis(50) && took < grace + Duration::from_millis(500),
        "returned after {took:?}"
    );
    let short = short.await.unwrap().expect("the short request is answered");
    assert_eq!(short.0, 200);
    assert!(short.1.ends_with("done"), "{}", short.1);
    assert_eq!(long.await.unwrap(), None, "the long request is cut off");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn a_body_still_arriving_when_the_request_time_is_up_is_the_clients_408_not_our_503() {
    let request_timeout = Duration::from_millis(800);
    let service = TestService::start(AppConfig {
        request_timeout,
        ..TestService::memory_config()
    })
    .await;
    let token = service.token(CallerRole::USER);
    let limits = ServeLimits {
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        max_connections: 10,
        shutdown_grace: Duration::from_secs(1),
    };
    let server = Server::start(service.router().clone(), limits).await;

    // A byte every 200 ms: never idle long enough for the idle timeout, never done in time.
    let (mut read, mut write) = TcpStream::connect(server.address)
        .await
        .unwrap()
        .into_split();
    let head = format!(
        "POST /branches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{"
    );
    write.write_all(head.as_bytes()).await.unwrap();
    let dribble = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let started = Instant::now();
    tokio::time::timeout(STUCK, read.read_to_end(&mut answer))
        .await
        .expect("the server answers")
        .unwrap();
    dribble.abort();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    server.stop().await;
}
