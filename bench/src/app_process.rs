//! How the benchmark starts what it measures: `app serve`, `app lambda` and the Node.js
//! reference, through the workspace's one launcher (`testkit::process`), configured only by
//! the environment, as in production.

use std::path::{Path, PathBuf};

pub use testkit::process::{AppProcess, Launch};
use testkit::server::free_port;

/// The log line `adapters-mongo` writes each time it creates a driver client.
const CLIENT_CREATED: &str = "created a MongoDB client";

/// `program args` on the two databases, verifying tokens with `secret`.
pub fn launch(
    program: impl Into<PathBuf>,
    args: &[&str],
    main_uri: &str,
    masteradmin_uri: &str,
    secret: &str,
) -> Launch {
    Launch::new(program, args.iter().copied())
        .env("MONGO_URI", main_uri)
        .env("MASTER_ADMIN_MONGO_URI", masteradmin_uri)
        .env("AUTH_JWT_SECRET", secret)
}

/// Spawns `launch`, its output to `log`. `app serve` gets a metrics port, as production runs
/// it (`lambda` always writes its metrics), so the metrics' cost is part of what is measured.
pub fn spawn(launch: &Launch, log: &Path) -> Result<AppProcess, String> {
    let serves = launch.args.first().is_some_and(|arg| arg == "serve");
    match serves {
        true => AppProcess::spawn(
            &launch.clone().env("METRICS_PORT", free_port().to_string()),
            log,
        ),
        false => AppProcess::spawn(launch, log),
    }
}

/// How many driver clients the app has logged creating so far (the Rust app only).
pub fn clients_created(process: &AppProcess) -> usize {
    process.log().matches(CLIENT_CREATED).count()
}
