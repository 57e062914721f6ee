//! `bench`: what the whole stack (`app serve`: HTTP, JWT, routing, repositories, mapping)
//! costs over the `mongodb` driver alone, on the same server, in the same run.
//!
//! Run it with `./scripts/bench` (a release build and a test server). It starts the real
//! `app serve` binary as a child process, seeds data through the API, then for
//! `GET /branches/{id}` and `GET /dashboard` measures throughput and latency at a fixed
//! concurrency, the app's CPU time per 1,000 requests and its peak RSS, next to the same reads
//! done with the driver directly. It also measures cold start (spawn to first `200` on
//! `/dashboard`) against the server's bare handshake, and counts the app's clients and TCP
//! connections when both roles use one URI. Given `BENCH_NODE_SERVER`, it measures the
//! Node.js + Mongoose reference (`bench/node/server.js`) in the same rounds. It prints a
//! Markdown report on standard output; progress goes to standard error. docs/benchmarks.md
//! says how each number is taken and how to read it.
//!
//! Nothing here runs in `cargo test` but the unit tests of the pure parts.

// A failed unwrap in a unit test is the assertion failing, with its value shown.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod app_process;
mod load;
mod procfs;
mod report;
mod seed;
mod server;
mod stats;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use clap::Parser;
use hyper::{Method, StatusCode};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::options::ClientOptions;
use mongodb::Client;
use secrecy::ExposeSecret;

use app_process::{AppLaunch, AppProcess};
use load::{drive, CountDashboard, FindBranch, HttpGet, HttpTarget, LoadResult, LoadShape};
use mongodb::bson::Document;
use mongodb::Collection;
use report::{NodeReference, Report, RouteComparison, Sharing};
use server::{NxServer, Scratch, ServerUri};

/// The database of the `main` role in this benchmark (dropped and re-seeded at each run).
const MAIN_DB: &str = "bench_main";
/// The database of the `masteradmin` role in this benchmark (dropped and re-seeded).
const MASTERADMIN_DB: &str = "bench_masteradmin";

/// The app against the raw driver on the same server. Every flag is also an environment
/// variable.
#[derive(Debug, Parser)]
#[command(name = "bench", about)]
struct Args {
    /// Requests in flight at once (one keep-alive connection or driver task each).
    #[arg(long, env = "BENCH_CONCURRENCY", default_value_t = 16)]
    concurrency: usize,
    /// Seconds measured per route, side and round.
    #[arg(long, env = "BENCH_DURATION_SECS", default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured seconds before each measured window.
    #[arg(long, env = "BENCH_WARMUP_SECS", default_value_t = 2)]
    warmup_secs: u64,
    /// Rounds; app and driver alternate within each, so drift hits both sides alike.
    #[arg(long, env = "BENCH_ROUNDS", default_value_t = 3)]
    rounds: usize,
    /// Cold starts (and bare handshakes) measured; the medians are reported.
    #[arg(long, env = "BENCH_COLD_STARTS", default_value_t = 9)]
    cold_starts: usize,
    /// A server to use instead of starting nx-27017 (`mongodb://host:port`); the databases
    /// `bench_main` and `bench_masteradmin` on it are dropped and re-seeded.
    #[arg(long, env = "MONGO_BENCH_URI")]
    mongo_uri: Option<String>,
    /// The nx-27017 executable (`scripts/bench` installs it in `.venv/`).
    #[arg(long, env = "NX_27017_BIN", default_value = ".venv/bin/nx-27017")]
    nx_bin: PathBuf,
    /// The `app` binary; by default the one next to this binary (same profile).
    #[arg(long, env = "BENCH_APP_BIN")]
    app_bin: Option<PathBuf>,
    /// The Node.js + Mongoose reference server (`bench/node/server.js`, its packages installed
    /// with `npm ci`); measured alongside when given.
    #[arg(long, env = "BENCH_NODE_SERVER")]
    node_server: Option<PathBuf>,
    /// How to name the server in the report (`scripts/bench` passes the nx-27017 version).
    #[arg(long, env = "BENCH_SERVER_LABEL")]
    server_label: Option<String>,
    /// Pin the nx-27017 server(s) to CPU 0 and this process and the app to the others, so that
    /// the stack under test and the server do not take CPU from each other (`false` to let the
    /// scheduler place them).
    #[arg(long, env = "BENCH_PIN", default_value = "true",
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pin: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(report) => {
            println!("{}", report.render());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn progress(message: &str) {
    eprintln!("bench: {message}");
}

async fn run(args: Args) -> Result<Report, String> {
    if args.concurrency == 0 || args.rounds == 0 || args.cold_starts == 0 {
        return Err("concurrency, rounds and cold starts must be at least 1".into());
    }
    let shape = LoadShape {
        concurrency: args.concurrency,
        warmup: Duration::from_secs(args.warmup_secs),
        duration: Duration::from_secs(args.duration_secs),
    };
    let machine = procfs::Machine::describe();
    let scratch = Scratch::new().map_err(|e| format!("scratch directory: {e}"))?;
    let placement = match args.pin {
        true => pin_self()?,
        false => Placement::default(),
    };
    let app_bin = match &args.app_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("app"),
    };
    if !app_bin.is_file() {
        return Err(format!(
            "no app binary at {}: build it with the same profile (`cargo build --release -p app`) \
             or set BENCH_APP_BIN",
            app_bin.display()
        ));
    }

    // The server: given, or an nx-27017 of our own for the length of the run.
    let (primary, _primary_guard, server_label) = match &args.mongo_uri {
        Some(uri) => (
            ServerUri::parse(uri)?,
            None,
            args.server_label
                .clone()
                .unwrap_or_else(|| "MONGO_BENCH_URI".into()),
        ),
        None => {
            progress(&format!("starting {}", args.nx_bin.display()));
            let nx = NxServer::start(&args.nx_bin, &scratch.join("nx-main"), placement.server)?;
            (
                ServerUri::parse(&nx.uri())?,
                Some(nx),
                args.server_label
                    .clone()
                    .unwrap_or_else(|| "nx-27017".into()),
            )
        }
    };

    progress("measuring the server's bare handshake (fresh Client to first ping)");
    let mut handshakes = Vec::with_capacity(args.cold_starts);
    for _ in 0..args.cold_starts {
        handshakes.push(handshake(&primary.with_database("admin")).await?);
    }

    // The raw-driver side: one Client, shared by both databases, with the app's pool size.
    let mut options = ClientOptions::parse(primary.with_database(MAIN_DB))
        .await
        .map_err(|e| format!("driver options: {e}"))?;
    options.max_pool_size = Some(adapters_mongo::DEFAULT_MAX_POOL_SIZE);
    let driver = Client::with_options(options).map_err(|e| e.to_string())?;
    for database in [MAIN_DB, MASTERADMIN_DB] {
        driver
            .database(database)
            .drop()
            .await
            .map_err(|e| format!("dropping {database}: {e}"))?;
    }

    // Random and as long as the app's own demo secret, so the app accepts it at start-up.
    let secret = app::demo::generated_secret();
    let token = JwtKeys::new(&secret, TokenPolicy::default())
        .map_err(|e| e.to_string())?
        .issue(
            &ObjectId::new().to_hex(),
            CallerRole::MasterAdmin,
            Duration::from_secs(3600),
        );
    let one_uri = AppLaunch {
        program: app_bin,
        args: vec!["serve".into()],
        main_uri: primary.with_database(MAIN_DB),
        masteradmin_uri: primary.with_database(MASTERADMIN_DB),
        secret: secret.expose_secret().to_owned(),
    };
    let node_launch = args.node_server.as_ref().map(|script| AppLaunch {
        program: "node".into(),
        args: vec![script.display().to_string()],
        ..one_uri.clone()
    });

    progress("starting app serve (MONGO_URI and MASTER_ADMIN_MONGO_URI differ only in database)");
    let mut app = AppProcess::spawn(&one_uri, &scratch.join("app.log"))?;
    let app_target = HttpTarget::new(app.port(), &token)?;
    first_ok(&mut app, &app_target, "/dashboard").await?;
    progress("seeding through the API");
    let branch_ids = seed::seed(&app_target).await?;
    let mut node = match &node_launch {
        Some(launch) => {
            progress("starting the Node.js + Mongoose reference server");
            let mut process = AppProcess::spawn(launch, &scratch.join("node.log"))?;
            let target = HttpTarget::new(process.port(), &token)?;
            first_ok(&mut process, &target, "/dashboard").await?;
            Some((process, target))
        }
        None => None,
    };

    let main_db = driver.database(MAIN_DB);
    let work = Workload {
        shape,
        branch_ids,
        branches: main_db.collection("branches"),
        dashboard: CountDashboard {
            admins: driver.database(MASTERADMIN_DB).collection("admins"),
            branches: main_db.collection("branches"),
            orders: main_db.collection("orders"),
        },
    };
    let ports = primary.ports().to_vec();

    let mut routes = [Route::Branch, Route::Dashboard]
        .map(|route| RouteComparison::new(route.label(), route.driver_label()));
    let mut contenders = vec![Contender::App, Contender::Driver];
    if node.is_some() {
        contenders.push(Contender::Node);
    }
    for round in 0..args.rounds {
        // Rotate who goes first, so that a slow drift (server files growing, other work on
        // the machine) does not always favour the same side.
        let mut order = contenders.clone();
        order.rotate_left(round % contenders.len());
        for (route, comparison) in [Route::Branch, Route::Dashboard]
            .into_iter()
            .zip(&mut routes)
        {
            for &contender in &order {
                progress(&format!(
                    "round {}/{}: {}, {}",
                    round + 1,
                    args.rounds,
                    route.label(),
                    contender.name()
                ));
                let http = match contender {
                    Contender::App => Some((app.pid(), &app_target)),
                    Contender::Node => node.as_ref().map(|(p, t)| (p.pid(), t)),
                    Contender::Driver => None,
                };
                let result = match http {
                    Some((pid, target)) => {
                        let workers = work.http_workers(route, target);
                        drive(shape, workers, move || procfs::cpu_time(pid)).await
                    }
                    None => work.drive_driver(route, shape).await,
                };
                comparison.add(contender, result);
            }
        }
        app.check_alive()?;
        if let Some((process, _)) = &mut node {
            process.check_alive()?;
        }
    }

    // Connections are counted in a load of their own: reading /proc/net/tcp costs CPU that
    // must not land in a measured window (the raw driver's would be this very process).
    progress("counting connections under /dashboard load");
    let short = LoadShape {
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(3),
        ..shape
    };
    let app_connections = sampled(
        app.pid(),
        &ports,
        drive(
            short,
            work.http_workers(Route::Dashboard, &app_target),
            || None,
        ),
    )
    .await;
    let driver_connections = sampled(
        std::process::id(),
        &ports,
        work.drive_driver(Route::Dashboard, short),
    )
    .await;
    app.check_alive()?;
    let one_uri_sharing = Sharing {
        clients: app.clients_created(),
        peak_connections: app_connections,
        ports: ports.clone(),
    };
    let peak_rss = procfs::peak_rss(app.pid());
    let node_measures = match node.take() {
        Some((mut process, target)) => {
            let connections = sampled(
                process.pid(),
                &ports,
                drive(short, work.http_workers(Route::Dashboard, &target), || None),
            )
            .await;
            process.check_alive()?;
            let peak_rss = procfs::peak_rss(process.pid());
            process.stop();
            Some((connections.iter().sum::<usize>(), peak_rss))
        }
        None => None,
    };
    app.stop();
    driver.shutdown().await;

    progress(&format!(
        "{} cold starts: spawn to first 200 on /dashboard",
        args.cold_starts
    ));
    let cold_starts =
        measure_cold_starts(&one_uri, &scratch, "app", &token, args.cold_starts).await?;
    let node = match (&node_launch, node_measures) {
        (Some(launch), Some((peak_connections, peak_rss))) => {
            progress("the same cold starts for the Node.js reference");
            Some(NodeReference {
                version: node_version(),
                peak_rss,
                peak_connections,
                cold_starts: measure_cold_starts(
                    launch,
                    &scratch,
                    "node",
                    &token,
                    args.cold_starts,
                )
                .await?,
            })
        }
        _ => None,
    };

    let two_servers = match (&args.mongo_uri, args.nx_bin.is_file()) {
        (None, _) | (Some(_), true) => {
            progress("reference: the masteradmin role on a second server");
            Some(
                two_servers(
                    &args, &scratch, &one_uri, &primary, &token, short, placement,
                )
                .await?,
            )
        }
        (Some(_), false) => None,
    };

    Ok(Report {
        machine,
        load_after: procfs::Machine::describe().load,
        server_label,
        placement: placement.describe(),
        shape,
        rounds: args.rounds,
        seed: seed::SEED,
        routes: routes.into(),
        peak_rss,
        cold_starts,
        handshakes,
        one_uri: one_uri_sharing,
        driver_peak_connections: driver_connections.iter().sum(),
        two_servers,
        node,
    })
}

/// The two routes measured.
#[derive(Debug, Clone, Copy)]
enum Route {
    Branch,
    Dashboard,
}

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Branch => "`GET /branches/{id}`",
            Route::Dashboard => "`GET /dashboard`",
        }
    }

    fn driver_label(self) -> &'static str {
        match self {
            Route::Branch => "`find_one({_id})` on `branches`",
            Route::Dashboard => "3 × `count_documents({})`, concurrently, 2 databases",
        }
    }
}

/// Who serves the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// `app serve`, over HTTP.
    App,
    /// The `mongodb` driver, in this process.
    Driver,
    /// The Node.js + Mongoose reference server, over HTTP.
    Node,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::App => "app",
            Contender::Driver => "raw driver",
            Contender::Node => "Node.js + Mongoose",
        }
    }
}

/// What every contender is asked to do: the same reads, the same ids.
struct Workload {
    shape: LoadShape,
    branch_ids: Vec<ObjectId>,
    branches: Collection<Document>,
    dashboard: CountDashboard,
}

impl Workload {
    /// One HTTP worker per request in flight, each on its own keep-alive connection.
    fn http_workers(&self, route: Route, target: &HttpTarget) -> Vec<HttpGet> {
        let paths: Vec<String> = match route {
            Route::Branch => self
                .branch_ids
                .iter()
                .map(|id| format!("/branches/{}", id.to_hex()))
                .collect(),
            Route::Dashboard => vec!["/dashboard".to_owned()],
        };
        (0..self.shape.concurrency)
            .map(|i| HttpGet::new(target.clone(), paths.clone(), i))
            .collect()
    }

    /// The same reads with the driver directly, in this process, under `shape`.
    async fn drive_driver(&self, route: Route, shape: LoadShape) -> LoadResult {
        match route {
            Route::Branch => {
                let workers = (0..shape.concurrency)
                    .map(|i| FindBranch::new(self.branches.clone(), self.branch_ids.clone(), i))
                    .collect();
                drive(shape, workers, procfs::own_cpu_time).await
            }
            Route::Dashboard => {
                let workers = vec![self.dashboard.clone(); shape.concurrency];
                drive(shape, workers, procfs::own_cpu_time).await
            }
        }
    }
}

/// `count` cold starts of `launch`: spawn to first `200` on `/dashboard`, each process
/// stopped before the next starts.
async fn measure_cold_starts(
    launch: &AppLaunch,
    scratch: &Scratch,
    name: &str,
    token: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let log = scratch.join(&format!("cold-{name}-{i}.log"));
        let mut process = AppProcess::spawn(launch, &log)?;
        let target = HttpTarget::new(process.port(), token)?;
        samples.push(first_ok(&mut process, &target, "/dashboard").await?);
        process.stop();
    }
    Ok(samples)
}

fn node_version() -> String {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// A fresh `Client` to its first successful `ping`: the floor under any cold start.
async fn handshake(uri: &str) -> Result<Duration, String> {
    let began = Instant::now();
    let client = Client::with_uri_str(uri)
        .await
        .map_err(|e| format!("driver: {e}"))?;
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .map_err(|e| format!("ping: {e}"))?;
    let elapsed = began.elapsed();
    client.shutdown().await;
    Ok(elapsed)
}

/// Polls `GET path` (a new connection each time, 1 ms apart) until it answers `200`; the time
/// since the process was spawned. Fails after 30 s or if the app exits.
async fn first_ok(
    app: &mut AppProcess,
    target: &HttpTarget,
    path: &str,
) -> Result<Duration, String> {
    let deadline = app.spawned() + Duration::from_secs(30);
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        app.check_alive()?;
        match target.once(Method::GET, path, None).await {
            Ok((StatusCode::OK, _)) => return Ok(app.spawned().elapsed()),
            Ok((status, body)) => last = format!("{status} {}", String::from_utf8_lossy(&body)),
            Err(error) => last = error,
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Err(format!(
        "GET {path} did not answer 200 within 30 s of start: {last}"
    ))
}

/// The same app with `MASTER_ADMIN_MONGO_URI` on a second nx-27017: what two clients look like.
async fn two_servers(
    args: &Args,
    scratch: &Scratch,
    one_uri: &AppLaunch,
    primary: &ServerUri,
    token: &str,
    shape: LoadShape,
    placement: Placement,
) -> Result<Sharing, String> {
    let second = NxServer::start(&args.nx_bin, &scratch.join("nx-second"), placement.server)?;
    let second_uri = ServerUri::parse(&second.uri())?;
    let launch = AppLaunch {
        masteradmin_uri: second_uri.with_database(MASTERADMIN_DB),
        ..one_uri.clone()
    };
    let mut app = AppProcess::spawn(&launch, &scratch.join("app-two-servers.log"))?;
    let target = HttpTarget::new(app.port(), token)?;
    first_ok(&mut app, &target, "/dashboard").await?;
    let ports: Vec<u16> = primary
        .ports()
        .iter()
        .chain(second_uri.ports())
        .copied()
        .collect();
    let load = drive(shape, dashboard_gets(&target, shape), || None);
    let peak = sampled(app.pid(), &ports, load).await;
    app.check_alive()?;
    let sharing = Sharing {
        clients: app.clients_created(),
        peak_connections: peak,
        ports,
    };
    app.stop();
    Ok(sharing)
}

/// One `GET /dashboard` worker per request in flight.
fn dashboard_gets(target: &HttpTarget, shape: LoadShape) -> Vec<HttpGet> {
    let paths = vec!["/dashboard".to_owned()];
    (0..shape.concurrency)
        .map(|i| HttpGet::new(target.clone(), paths.clone(), i))
        .collect()
}

/// Runs `load` while sampling `pid`'s ESTABLISHED connections to `ports` every 100 ms; the
/// sample with the most connections in all. A load that fails is reported, not fatal: the
/// count is still what the process held.
async fn sampled(pid: u32, ports: &[u16], load: impl Future<Output = LoadResult>) -> Vec<usize> {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let owned_ports = ports.to_vec();
    let sampler = tokio::spawn(async move {
        let mut peak = vec![0; owned_ports.len()];
        while !flag.load(Ordering::Relaxed) {
            peak = max_total(peak, procfs::established_to(pid, &owned_ports));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    let result = load.await;
    done.store(true, Ordering::Relaxed);
    if let Some(error) = result.first_error {
        progress(&format!(
            "{} errors during a connection count; first: {error}",
            result.errors
        ));
    }
    sampler.await.unwrap_or_default()
}

/// Which CPUs the server and the stack under test run on.
#[derive(Debug, Clone, Copy, Default)]
struct Placement {
    /// The CPU of the nx-27017 servers, if pinned.
    server: Option<usize>,
    /// How many CPUs this process (and so the app it spawns) keeps, if pinned.
    others: Option<usize>,
}

impl Placement {
    fn describe(self) -> String {
        match (self.server, self.others) {
            (Some(server), Some(1)) => format!(
                "nx-27017 pinned to CPU {server}; the app and the load generator (or the raw \
                 driver) share CPU {}",
                server + 1
            ),
            (Some(server), Some(n)) => format!(
                "nx-27017 pinned to CPU {server}; the app and the load generator (or the raw \
                 driver) on the other {n} CPUs"
            ),
            _ => "not pinned: the scheduler places every process".to_owned(),
        }
    }
}

/// Keeps CPU 0 for the server: moves every thread of this process (and so the app processes
/// it spawns, which inherit the mask) to CPUs 1…n-1. With one CPU there is nothing to split.
fn pin_self() -> Result<Placement, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return Ok(Placement::default());
    }
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &format!("1-{}", cores - 1)])
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| {
            format!("taskset (util-linux) is needed to pin CPUs, or set BENCH_PIN=false: {e}")
        })?;
    match status.success() {
        true => Ok(Placement {
            server: Some(0),
            others: Some(cores - 1),
        }),
        false => Err(format!(
            "taskset failed ({status}); set BENCH_PIN=false to run unpinned"
        )),
    }
}

/// Of two per-port samples, the one with more connections in all.
fn max_total(a: Vec<usize>, b: Vec<usize>) -> Vec<usize> {
    match b.iter().sum::<usize>() > a.iter().sum::<usize>() {
        true => b,
        false => a,
    }
}

impl RouteComparison {
    fn add(&mut self, contender: Contender, result: LoadResult) {
        let side = match contender {
            Contender::App => &mut self.app,
            Contender::Driver => &mut self.driver,
            Contender::Node => &mut self.node,
        };
        side.rounds
            .push(stats::rate(result.requests, result.elapsed));
        side.total.absorb(result);
    }
}
