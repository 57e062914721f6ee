//! The HTTP/1.1 server of `app serve`, bounded against clients that hold sockets without
//! finishing their requests (slowloris), that stop reading their answers, or that open more
//! connections than the process can serve.
//!
//! `axum::serve` offers none of these limits, so the accept loop is written here on hyper's own
//! connection builder (`hyper::server::conn::http1::Builder`, the one
//! `hyper_util::server::conn::auto` wraps):
//!
//! - **Header-read timeout** (hyper's `header_read_timeout`, on a Tokio timer): a client has this
//!   long to send a whole request head. Hyper starts the timer whenever it waits for a head: on
//!   a new connection, and after each answer on a kept-alive one, so it also closes a kept-alive
//!   connection that stays idle that long.
//! - **Idle timeout** (`tokio_io_timeout::TimeoutStream`): a read or a write that waits this long
//!   closes the connection: a body that stops arriving, a client that stops reading its answer.
//!   Hyper polls the socket while a handler runs, so this must exceed the request timeout.
//! - **Connection cap**: a connection accepted over [`ServeLimits::max_connections`] is closed
//!   at once, without reading it, so no number of idle or slow sockets can make the process
//!   queue work or run out of file descriptors; a slot is freed when a connection ends.
//! - **Bounded drain**: on the shutdown signal the listener is closed, idle connections are
//!   closed and requests in flight may finish (`hyper_util::server::graceful`), for at most
//!   [`ServeLimits::shutdown_grace`]; whatever is still open then is dropped.
//!
//! HTTP/1.1 only, as `axum::serve` with axum's default features: no HTTP/2 preface detection,
//! so the header timer runs from the first moment of a connection.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_io_timeout::TimeoutStream;

/// Default of [`ServeLimits::header_read_timeout`]: 5 s, ample for any real client, short
/// enough that a slow one holds a socket only briefly.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`ServeLimits::idle_timeout`]: 60 s, above the default request timeout (30 s).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default of [`ServeLimits::max_connections`]: 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default of [`ServeLimits::shutdown_grace`]: 10 s, within the 30 s that ECS and Kubernetes
/// leave between SIGTERM and SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The limits [`serve`] holds every client to; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a client has to send a request's head, from when the server starts waiting
    /// for it (a new connection, or the end of the previous answer on a kept-alive one).
    pub header_read_timeout: Duration,
    /// How long a read or a write on a connection may wait before the connection is closed.
    pub idle_timeout: Duration,
    /// How many connections are served at once; any further one is closed on accept.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight before closing their connections.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// How often at most a refused connection is logged: a flood must not become a flood of logs.
const SHED_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then drains the
/// open connections for at most [`ServeLimits::shutdown_grace`] and returns.
///
/// Every connection runs in a task of its own, owned here: none outlives the return.
pub async fn serve<F>(listener: TcpListener, router: Router, limits: ServeLimits, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shed = Shed::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        accept_failed(&error).await;
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    // Closed unread: the client sees the connection end, nothing is queued.
                    drop(stream);
                    shed.refused(peer, limits.max_connections);
                    continue;
                };
                let connection = builder.serve_connection(
                    with_idle_timeout(stream, limits.idle_timeout),
                    TowerToHyperService::new(router.clone()),
                );
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    if let Err(error) = connection.await {
                        // Timeouts and resets are the limits at work, not faults of the service.
                        tracing::debug!(%peer, %error, "connection ended");
                    }
                    drop(slot);
                });
            }
            // Reaps finished connections, so that the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let open = connections.len();
    tracing::info!(
        open,
        grace_ms = limits.shutdown_grace.as_millis(),
        "stopped accepting connections; draining"
    );
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            still_open = connections.len(),
            "connections still open at the end of the shutdown grace: closing them"
        );
    }
    connections.shutdown().await;
}

/// The socket as hyper reads it: no delay on small answers, and reads and writes that fail
/// with `TimedOut` once they have waited `idle` (which ends the connection).
fn with_idle_timeout(
    stream: TcpStream,
    idle: Duration,
) -> TokioIo<std::pin::Pin<Box<TimeoutStream<TcpStream>>>> {
    // Only a latency setting: a socket that refuses it is still served.
    let _ = stream.set_nodelay(true);
    let mut stream = TimeoutStream::new(stream);
    stream.set_read_timeout(Some(idle));
    stream.set_write_timeout(Some(idle));
    TokioIo::new(Box::pin(stream))
}

/// Connections refused over the cap since the last log line about them.
#[derive(Debug, Default)]
struct Shed {
    since_log: u64,
    logged: Option<Instant>,
}

impl Shed {
    fn refused(&mut self, peer: SocketAddr, max_connections: usize) {
        self.since_log += 1;
        if self
            .logged
            .is_none_or(|at| at.elapsed() >= SHED_LOG_INTERVAL)
        {
            tracing::warn!(
                %peer,
                refused = self.since_log,
                max_connections,
                "connection cap reached: closing new connections"
            );
            self.since_log = 0;
            self.logged = Some(Instant::now());
        }
    }
}

/// As `axum::serve` does: a connection that failed before it was accepted is the client's
/// business; anything else (out of file descriptors) is logged and given a moment to clear
/// rather than retried in a busy loop.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// A listener on `address` and `port`, or, with no address, on every interface for IPv6 and
/// IPv4 alike: one `[::]` socket that also accepts IPv4 (whatever the host's
/// `net.ipv6.bindv6only` says), or `0.0.0.0` on a host without IPv6.
///
/// # Errors
/// When the address cannot be bound (in use, not an address of this host).
pub async fn bind(address: Option<IpAddr>, port: u16) -> io::Result<TcpListener> {
    if let Some(address) = address {
        return TcpListener::bind((address, port)).await;
    }
    match dual_stack(port) {
        Ok(listener) => Ok(listener),
        // No IPv6 on this host: the IPv4 wildcard is every interface there is.
        Err(error) if matches!(error.raw_os_error(), Some(EAFNOSUPPORT | EADDRNOTAVAIL)) => {
            tracing::warn!(%error, "no IPv6 on this host; listening on IPv4 only");
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).await
        }
        Err(error) => Err(error),
    }
}

/// `EAFNOSUPPORT` and `EADDRNOTAVAIL` on Linux: the host has no IPv6.
const EAFNOSUPPORT: i32 = 97;
const EADDRNOTAVAIL: i32 = 99;

fn dual_stack(port: u16) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(false)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)).into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}
