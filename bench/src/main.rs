//! `bench`: what the whole stack (`app serve` and `app lambda`: HTTP or Lambda events, JWT,
//! routing, repositories, mapping) costs over the `mongodb` driver alone, on the same server,
//! in the same run.
//!
//! Run it with `./scripts/bench` (a release build and a test server). It starts the real
//! `app serve` binary as a child process, seeds data through the API, then for
//! `GET /branches/{id}` and `GET /dashboard` measures throughput and latency at a fixed
//! concurrency, the app's CPU time per 1,000 requests and its peak RSS, next to the same reads
//! done with the driver directly, over several rounds, and the app's HTTP floor (`GET
//! /health/live`: no database). It also measures cold start (spawn to
//! first `200` on `/dashboard`) against the server's bare handshake, counts the app's clients
//! and TCP connections when both roles use one URI, and runs the same binary as `app lambda`
//! against a Lambda Runtime API of its own (cold start, CPU per warm invocation). Given
//! `BENCH_NODE_SERVER`, it measures the Node.js + Mongoose reference (`bench/node/server.js`)
//! in the same rounds. It prints a Markdown report on standard output; progress goes to
//! standard error. docs/benchmarks.md says how each number is taken and how to read it.
//!
//! Nothing here runs in `cargo test` but the unit tests of the pure parts.

// A failed unwrap in a unit test is the assertion failing, with its value shown.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod app_process;
mod connections;
mod lambda;
mod load;
mod placement;
mod proc_info;
mod report;
mod rounds;
mod seed;
mod server;
mod stats;
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use clap::Parser;
use hyper::{Method, StatusCode};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::options::ClientOptions;
use mongodb::Client;
use secrecy::ExposeSecret;

use app_process::{clients_created, launch, quiet, unlogged, with_metrics, AppProcess, Launch};
use connections::{count_after_rounds, counting_shape, dashboard_gets, sampled};
use lambda::LambdaSetup;
use load::{drive, CountDashboard, HttpTarget, LoadShape};
use placement::{pin_self, Placement};
use proc_info::{load_average, Machine};
use report::{NodeReference, Report, Sharing};
use server::ServerUri;
use tempfile::TempDir;
use testkit::server::SpawnedServer;
use workload::Workload;

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
    /// Seconds measured per route, side and round (and at most for the warm Lambda
    /// invocations).
    #[arg(long, env = "BENCH_DURATION_SECS", default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured seconds before each measured window.
    #[arg(long, env = "BENCH_WARMUP_SECS", default_value_t = 2)]
    warmup_secs: u64,
    /// Rounds; app, driver and Node.js take turns within each, so drift hits every side
    /// alike, and the report gives the median and range of the per-round ratios.
    #[arg(long, env = "BENCH_ROUNDS", default_value_t = 5)]
    rounds: usize,
    /// Cold starts (and bare handshakes) measured, for `serve` and for Lambda; the medians
    /// are reported.
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

/// A progress line on standard error (the report alone goes to standard output).
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
    let machine = Machine::describe();
    let scratch = tempfile::Builder::new()
        .prefix("bench-")
        .tempdir()
        .map_err(|e| format!("scratch directory: {e}"))?;
    let placement = match args.pin {
        true => pin_self()?,
        false => Placement::default(),
    };
    let app_bin = app_binary(&args)?;

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
            let nx = SpawnedServer::start_from(args.nx_bin.clone(), placement.server).await;
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
    let driver = raw_driver(&primary).await?;

    // Random and as long as the app's own demo secret, so the app accepts it at start-up.
    let secret = app::demo::generated_secret();
    let token = JwtKeys::new(&secret, TokenPolicy::default())
        .map_err(|e| e.to_string())?
        .issue(
            &ObjectId::new().to_hex(),
            CallerRole::MASTER_ADMIN,
            Duration::from_secs(3600),
        );
    let one_uri = with_metrics(launch(
        &app_bin,
        &["serve"],
        &primary.with_database(MAIN_DB),
        &primary.with_database(MASTERADMIN_DB),
        secret.expose_secret(),
    ));
    let node_launch = args.node_server.as_ref().map(|script| Launch {
        program: "node".into(),
        args: vec![script.display().to_string()],
        ..one_uri.clone()
    });
    let peer_launch = Launch {
        program: app_bin.with_file_name("peer"),
        args: Vec::new(),
        ..one_uri.clone()
    };

    progress("starting app serve (MONGO_URI and MASTER_ADMIN_MONGO_URI differ only in database)");
    let mut app = start(&one_uri, &scratch.path().join("app.log"), &token).await?;
    progress("seeding through the API");
    let branch_ids = seed::seed(&app.1).await?;
    let mut node = match &node_launch {
        Some(launch) => {
            progress("starting the Node.js + Mongoose reference server");
            Some(start(launch, &scratch.path().join("node.log"), &token).await?)
        }
        None => None,
    };
    progress(
        "starting the hand-written peer, and the app with RUST_LOG=warn, without and with metrics",
    );
    let mut peer = start(&peer_launch, &scratch.path().join("peer.log"), &token).await?;
    let quiet_log = scratch.path().join("app-quiet.log");
    let mut quiet_app = start(&quiet(&one_uri), &quiet_log, &token).await?;
    let unlogged_log = scratch.path().join("app-unlogged.log");
    let mut unlogged_app = start(&unlogged(&one_uri), &unlogged_log, &token).await?;

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
    let rounds::Rounds { routes, floor } = rounds::run_rounds(
        args.rounds,
        &work,
        &mut app,
        rounds::Others {
            node: node.as_mut(),
            peer: Some(&mut peer),
            quiet: Some(&mut quiet_app),
            unlogged: Some(&mut unlogged_app),
        },
    )
    .await?;
    peer.0.stop();
    quiet_app.0.stop();
    unlogged_app.0.stop();

    // Connections are counted in loads of their own: reading /proc/net/tcp costs CPU that
    // must not land in a measured window (the raw driver's would be this very process).
    progress("counting connections under /dashboard load");
    let counted = count_after_rounds(&work, &ports, app, node).await?;
    driver.shutdown().await;

    progress(&format!(
        "{} cold starts: spawn to first 200 on /dashboard",
        args.cold_starts
    ));
    let cold_starts =
        measure_cold_starts(&one_uri, &scratch, "app", &token, args.cold_starts).await?;

    progress(&format!(
        "Lambda: {} cold starts, then warm invocations through a fake runtime API",
        args.cold_starts
    ));
    let lambda = LambdaSetup {
        serve: &one_uri,
        peer: &peer_launch,
        scratch: &scratch,
        token: &token,
        branch_ids: &work.branch_ids,
    }
    .measure(args.cold_starts, shape)
    .await;
    if let Err(error) = &lambda {
        progress(&format!("Lambda not measured: {error}"));
    }

    let node = match (&node_launch, counted.node) {
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
                    &args,
                    &scratch,
                    &one_uri,
                    &primary,
                    &token,
                    counting_shape(shape),
                    placement,
                )
                .await?,
            )
        }
        (Some(_), false) => None,
    };

    Ok(Report {
        machine,
        load_after: load_average().unwrap_or_else(|| "unknown".into()),
        server_label,
        placement: placement.describe(),
        shape,
        rounds: args.rounds,
        seed: seed::SEED,
        routes,
        http_floor: floor,
        peak_rss: counted.app_peak_rss,
        cold_starts,
        handshakes,
        one_uri: counted.one_uri,
        driver_peak_connections: counted.driver_peak_connections,
        two_servers,
        node,
        lambda,
        app_binary_size: std::fs::metadata(&app_bin).ok().map(|m| m.len()),
    })
}

/// The `app` binary: given, or the one next to this binary (built with the same profile).
fn app_binary(args: &Args) -> Result<PathBuf, String> {
    let app_bin = match &args.app_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("app"),
    };
    match app_bin.is_file() {
        true => Ok(app_bin),
        false => Err(format!(
            "no app binary at {}: build it with the same profile (`cargo build --release -p app`) \
             or set BENCH_APP_BIN",
            app_bin.display()
        )),
    }
}

/// The raw-driver side: one `Client`, shared by both databases, with the app's pool size.
/// Both databases are dropped, to be seeded afresh through the app.
async fn raw_driver(server: &ServerUri) -> Result<Client, String> {
    let mut options = ClientOptions::parse(server.with_database(MAIN_DB))
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
    Ok(driver)
}

/// Spawns `launch` and waits for its first `200` on `/dashboard`.
async fn start(launch: &Launch, log: &Path, token: &str) -> Result<rounds::Served, String> {
    let mut process = AppProcess::spawn(launch, log)?;
    let target = HttpTarget::new(process.port(), token)?;
    first_ok(&mut process, &target, "/dashboard").await?;
    Ok((process, target))
}

/// `count` cold starts of `launch`: spawn to first `200` on `/dashboard`, each process
/// stopped before the next starts.
async fn measure_cold_starts(
    launch: &Launch,
    scratch: &TempDir,
    name: &str,
    token: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let log = scratch.path().join(format!("cold-{name}-{i}.log"));
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
    scratch: &TempDir,
    one_uri: &Launch,
    primary: &ServerUri,
    token: &str,
    shape: LoadShape,
    placement: Placement,
) -> Result<Sharing, String> {
    let second = SpawnedServer::start_from(args.nx_bin.clone(), placement.server).await;
    let second_uri = ServerUri::parse(&second.uri())?;
    let launch = one_uri.clone().env(
        "MASTER_ADMIN_MONGO_URI",
        second_uri.with_database(MASTERADMIN_DB),
    );
    let log = scratch.path().join("app-two-servers.log");
    let (mut app, target) = start(&launch, &log, token).await?;
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
        clients: clients_created(&app),
        peak_connections: peak,
        ports,
    };
    app.stop();
    Ok(sharing)
}
