//! A closed-loop load generator: N workers, each doing one operation at a time for a fixed
//! warm-up and a fixed measured duration. The operations: an HTTP GET on the app (one
//! keep-alive connection per worker), or the same reads done with the driver directly.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use mongodb::Collection;
use tokio::net::TcpStream;

use crate::proc_info::own_cpu_time;
use crate::stats::Latencies;

/// One request of a load, made again and again by a worker.
pub trait Operation: Send + 'static {
    /// Does it once; an error counts as a failed request and is kept for the report.
    fn call(&mut self) -> impl Future<Output = Result<(), String>> + Send;
}

/// What one load measured.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// Requests that started and finished inside the measured window and succeeded.
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// The first failure, to show.
    pub first_error: Option<String>,
    /// The measured window.
    pub elapsed: Duration,
    /// One latency per counted request.
    pub latencies: Latencies,
    /// CPU time of the measured process during the window, when it could be read.
    pub cpu: Option<Duration>,
    /// CPU time of this process (the load generator) during the window; for the raw-driver
    /// side it is the measured process itself.
    pub generator_cpu: Option<Duration>,
}

impl LoadResult {
    /// Adds another round of the same load.
    pub fn absorb(&mut self, other: LoadResult) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        // A total that has absorbed nothing yet takes the other's CPU times as they are.
        let first = self.elapsed.is_zero();
        let add = |a: Option<Duration>, b: Option<Duration>| match first {
            true => b,
            false => a.zip(b).map(|(a, b)| a + b),
        };
        self.cpu = add(self.cpu, other.cpu);
        self.generator_cpu = add(self.generator_cpu, other.generator_cpu);
        self.elapsed += other.elapsed;
        self.latencies.merge(&other.latencies);
    }
}

/// The shape of a load.
#[derive(Debug, Clone, Copy)]
pub struct LoadShape {
    /// Workers, each with one request in flight.
    pub concurrency: usize,
    /// Run, unmeasured, before the window (pools fill, caches warm).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// Runs one `Operation` per worker (from `operations`) under `shape`. `cpu` reads the CPU time
/// of the process doing the work, at the start and end of the window. Workers start no request
/// after the window and the call returns when the last one in flight has finished.
pub async fn drive<O: Operation>(
    shape: LoadShape,
    operations: Vec<O>,
    cpu: impl Fn() -> Option<Duration>,
) -> LoadResult {
    let start = Instant::now();
    let window_start = start + shape.warmup;
    let window_end = window_start + shape.duration;
    let workers: Vec<_> = operations
        .into_iter()
        .map(|mut operation| {
            tokio::spawn(async move {
                let mut result = LoadResult::default();
                loop {
                    let began = Instant::now();
                    if began >= window_end {
                        break;
                    }
                    let outcome = operation.call().await;
                    let ended = Instant::now();
                    // A request counts when it completes inside the window (completions per
                    // second is the rate); one still in flight at the end is dropped.
                    if ended < window_start || ended > window_end {
                        continue;
                    }
                    match outcome {
                        Ok(()) => {
                            result.requests += 1;
                            result.latencies.record(ended - began);
                        }
                        Err(error) => {
                            result.errors += 1;
                            result.first_error.get_or_insert(error);
                            // A failing operation can fail fast; do not spin on it.
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
                result
            })
        })
        .collect();
    tokio::time::sleep_until(window_start.into()).await;
    let before = (cpu(), own_cpu_time());
    tokio::time::sleep_until(window_end.into()).await;
    let after = (cpu(), own_cpu_time());
    let spent =
        |a: Option<Duration>, b: Option<Duration>| a.zip(b).map(|(a, b)| b.saturating_sub(a));
    let mut total = LoadResult {
        elapsed: shape.duration,
        cpu: spent(before.0, after.0),
        generator_cpu: spent(before.1, after.1),
        ..LoadResult::default()
    };
    for worker in workers {
        match worker.await {
            Ok(result) => {
                total.requests += result.requests;
                total.errors += result.errors;
                total.first_error = total.first_error.or(result.first_error);
                total.latencies.merge(&result.latencies);
            }
            Err(panic) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert(format!("worker panicked: {panic}"));
            }
        }
    }
    total
}

/// A request to the app: `GET`/`POST` on a path, with the caller's token.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    /// The app's address.
    pub address: SocketAddr,
    /// `Bearer …`.
    pub authorization: HeaderValue,
}

impl HttpTarget {
    /// A target on 127.0.0.1:`port` with `token`.
    pub fn new(port: u16, token: &str) -> Result<HttpTarget, String> {
        Ok(HttpTarget {
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| e.to_string())?,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = TcpStream::connect(self.address)
            .await
            .map_err(|e| format!("connect {}: {e}", self.address))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(connection);
        Ok(sender)
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.address.to_string())
            .header(AUTHORIZATION, self.authorization.clone());
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())
    }

    /// One request on a new connection: the status and the body.
    pub async fn once(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut sender = self.connect().await?;
        send(&mut sender, self.request(method, path, body)?).await
    }
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// `GET` on one of `paths` in turn, on the worker's own keep-alive connection (reopened if
/// the app closes it); anything but `200` is a failure.
pub struct HttpGet {
    target: HttpTarget,
    paths: Vec<String>,
    next: usize,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HttpGet {
    /// A worker starting at `paths[first]`.
    pub fn new(target: HttpTarget, paths: Vec<String>, first: usize) -> HttpGet {
        HttpGet {
            target,
            paths,
            next: first,
            sender: None,
        }
    }
}

impl Operation for HttpGet {
    async fn call(&mut self) -> Result<(), String> {
        let path = &self.paths[self.next % self.paths.len()];
        self.next += 1;
        let request = self.target.request(Method::GET, path, None)?;
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.target.connect().await?,
        };
        let (status, body) = send(&mut sender, request).await?;
        self.sender = Some(sender);
        match status {
            StatusCode::OK => Ok(()),
            other => Err(format!(
                "GET {path}: {other} {}",
                String::from_utf8_lossy(&body)
            )),
        }
    }
}

/// What `GET /branches/{id}` reads: `find_one({_id})` on `branches`, ids in turn.
pub struct FindBranch {
    branches: Collection<Document>,
    ids: Vec<ObjectId>,
    next: usize,
}

impl FindBranch {
    /// A worker starting at `ids[first]`.
    pub fn new(branches: Collection<Document>, ids: Vec<ObjectId>, first: usize) -> FindBranch {
        FindBranch {
            branches,
            ids,
            next: first,
        }
    }
}

impl Operation for FindBranch {
    async fn call(&mut self) -> Result<(), String> {
        let id = self.ids[self.next % self.ids.len()];
        self.next += 1;
        match self.branches.find_one(doc! { "_id": id }).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!("branch {id} not found")),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What `GET /dashboard` reads: three `count_documents({})`, concurrently, on two databases.
#[derive(Clone)]
pub struct CountDashboard {
    /// `admins` in the masteradmin database.
    pub admins: Collection<Document>,
    /// `branches` in the main database.
    pub branches: Collection<Document>,
    /// `orders` in the main database.
    pub orders: Collection<Document>,
}

impl Operation for CountDashboard {
    async fn call(&mut self) -> Result<(), String> {
        tokio::try_join!(
            async { self.admins.count_documents(doc! {}).await },
            async { self.branches.count_documents(doc! {}).await },
            async { self.orders.count_documents(doc! {}).await },
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(requests: u64, cpu_ms: u64) -> LoadResult {
        let mut latencies = Latencies::default();
        for _ in 0..requests {
            latencies.record(Duration::from_millis(1));
        }
        LoadResult {
            requests,
            elapsed: Duration::from_secs(1),
            latencies,
            cpu: Some(Duration::from_millis(cpu_ms)),
            generator_cpu: None,
            ..LoadResult::default()
        }
    }

    #[test]
    fn rounds_add_up_and_keep_the_first_error() {
        let mut total = LoadResult::default();
        total.absorb(round(10, 100));
        total.absorb(LoadResult {
            errors: 2,
            first_error: Some("boom".into()),
            ..round(5, 50)
        });
        assert_eq!((total.requests, total.errors), (15, 2));
        assert_eq!(total.elapsed, Duration::from_secs(2));
        assert_eq!(total.latencies.count(), 15);
        assert_eq!(total.cpu, Some(Duration::from_millis(150)));
        assert_eq!(total.generator_cpu, None);
        assert_eq!(total.first_error.as_deref(), Some("boom"));
    }

    #[test]
    fn a_round_without_cpu_time_makes_the_total_unknown() {
        let mut total = LoadResult::default();
        total.absorb(round(10, 100));
        total.absorb(LoadResult {
            cpu: None,
            ..round(10, 100)
        });
        assert_eq!(total.cpu, None);
    }
}
