//! The real `app` binary (`serve`, or `lambda` against the benchmark's fake runtime API) or
//! the Node.js reference server as a child process, configured only through the environment,
//! as in production.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::free_port;

/// The log line `adapters-mongo` writes each time it creates a driver client.
const CLIENT_CREATED: &str = "created a MongoDB client";

/// How a server under test is started.
#[derive(Debug, Clone)]
pub struct AppLaunch {
    /// The executable: the `app` binary, or `node`.
    pub program: PathBuf,
    /// Its arguments: `serve` or `lambda`, or the reference server's script.
    pub args: Vec<String>,
    /// `MONGO_URI`.
    pub main_uri: String,
    /// `MASTER_ADMIN_MONGO_URI`.
    pub masteradmin_uri: String,
    /// `AUTH_JWT_SECRET`.
    pub secret: String,
    /// Further variables, set after the caller's are cleared: what the Lambda service sets.
    pub env: Vec<(String, String)>,
}

/// A running server under test; killed when dropped.
pub struct AppProcess {
    child: Child,
    port: u16,
    spawned: Instant,
    log: PathBuf,
}

impl AppProcess {
    /// Spawns it on a free port, its output (the log; for `lambda`, also the CloudWatch metric
    /// lines on stdout) going to the file `log`, which never blocks it as a full pipe would.
    /// Returns at once: see [`AppProcess::spawned`] for when.
    pub fn spawn(launch: &AppLaunch, log: &Path) -> Result<AppProcess, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .env("MONGO_URI", &launch.main_uri)
            .env("MASTER_ADMIN_MONGO_URI", &launch.masteradmin_uri)
            .env("AUTH_JWT_SECRET", &launch.secret)
            .env("PORT", port.to_string())
            // Whatever the caller's shell has for these would change what is measured.
            .env_remove("MONGO_MAX_POOL_SIZE")
            .env_remove("MONGO_SERVER_SELECTION_TIMEOUT_MS")
            .env_remove("EXTRA_BINDINGS")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .env_remove("AWS_LAMBDA_INITIALIZATION_TYPE")
            .env_remove("APP_BACKEND")
            .env_remove("AUTH_JWT_ISSUER")
            .env_remove("AUTH_JWT_AUDIENCE")
            .env_remove("AUTH_MAX_TOKEN_TTL")
            .envs(launch.env.clone())
            .stdin(Stdio::null())
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file);
        // As production runs it: `serve` with its Prometheus recorder (`lambda` always writes
        // its metrics), so the metrics' cost is part of what is measured.
        if launch.args.first().is_some_and(|arg| arg == "serve") {
            let metrics = free_port().map_err(|e| format!("no free port: {e}"))?;
            command.env("METRICS_PORT", metrics.to_string());
        }
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.program.display()))?;
        Ok(AppProcess {
            child,
            port,
            spawned,
            log: log.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its HTTP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// When `spawn` was called.
    pub fn spawned(&self) -> Instant {
        self.spawned
    }

    /// Fails if the process has exited, quoting the end of its log.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}):\n{}",
                self.log.display(),
                self.log_tail()
            )),
            Err(e) => Err(format!("cannot check the app process: {e}")),
        }
    }

    /// How many driver clients the app has logged creating so far (the Rust app only).
    pub fn clients_created(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|log| log.matches(CLIENT_CREATED).count())
            .unwrap_or(0)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM (a graceful drain, as Lambda and ECS stop it), then SIGKILL after 10 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Drop kills and reaps.
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
