//! How the benchmark starts what it measures: `app serve`, `app lambda` and the Node.js
//! reference, through the workspace's one launcher (`testkit::process`), configured only by
//! the environment, as in production.

use std::path::PathBuf;

pub use testkit::process::{AppProcess, Launch};
use testkit::server::free_port;

/// The log line `adapters-mongo` writes each time it creates a driver client.
const CLIENT_CREATED: &str = "created a MongoDB client";

/// `program args` on the two databases, verifying tokens with `secret`, with the benchmark's
/// own `RUST_LOG` and `LOG_FORMAT`, if set.
pub fn launch(
    program: impl Into<PathBuf>,
    args: &[&str],
    main_uri: &str,
    masteradmin_uri: &str,
    secret: &str,
) -> Launch {
    let passed_on = ["RUST_LOG", "LOG_FORMAT"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), std::env::var(name).ok()?)));
    Launch::new(program, args.iter().copied())
        .env("MONGO_URI", main_uri)
        .env("MASTER_ADMIN_MONGO_URI", masteradmin_uri)
        .env("AUTH_JWT_SECRET", secret)
        .envs(passed_on)
}

/// `launch` with a metrics port, as production runs `app serve` (`lambda` always writes its
/// metrics), so that the metrics' cost is part of what is measured.
pub fn with_metrics(launch: Launch) -> Launch {
    launch.env("METRICS_PORT", free_port().to_string())
}

/// `launch` as the quiet configuration: `RUST_LOG=warn` and no metrics port.
pub fn quiet(launch: &Launch) -> Launch {
    let mut quiet = launch.clone().env("RUST_LOG", "warn");
    quiet.env.retain(|(name, _)| name != "METRICS_PORT");
    quiet
}

/// `launch` without its request lines: `RUST_LOG=warn`, with a metrics port of its own.
pub fn unlogged(launch: &Launch) -> Launch {
    with_metrics(quiet(launch))
}

/// How many driver clients the app has logged creating so far (the Rust app only).
pub fn clients_created(process: &AppProcess) -> usize {
    process.log().matches(CLIENT_CREATED).count()
}
