//! The app's real binary (or the Node.js reference the benchmark compares it with) as a child
//! process, configured only through its environment, as in production.
//!
//! [`command`] is the one way to start it: nothing of the caller's environment leaks in (a
//! developer's `MONGO_URI` or `RUST_LOG` would change what a test sees), and the working
//! directory is the system's temporary directory, so no `.env` file is read.
//! [`AppProcess`] is a server started that way on a free port, killed when dropped.
//!
//! ```no_run
//! use testkit::process::{AppProcess, Launch};
//!
//! let launch = Launch::new("target/debug/app", ["serve"]).env("APP_BACKEND", "memory");
//! let log = tempfile::NamedTempFile::new().unwrap();
//! let app = AppProcess::spawn(&launch, log.path()).unwrap();
//! println!("listening on {}", app.address());
//! app.stop();
//! ```

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::server::{free_port, last_lines};

/// How long [`AppProcess::stop`] waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// `program` with an empty environment but for `PATH` and `HOME`, run from the temporary
/// directory with no standard input.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(
            ["PATH", "HOME"]
                .into_iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (name, value))),
        )
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    command
}

/// How a server under test is started: its program, arguments and environment. `PORT` is
/// set by [`AppProcess::spawn`].
#[derive(Debug, Clone)]
pub struct Launch {
    /// The executable: the `app` binary, or `node`.
    pub program: PathBuf,
    /// Its arguments: `serve` or `lambda`, or the reference server's script.
    pub args: Vec<String>,
    /// Its whole environment, besides `PATH`, `HOME` and `PORT`.
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// `program` with `args` and no configuration.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    /// The same launch with the variable `name` set to `value` (replacing an earlier value).
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// The same launch with every pair of `vars` set.
    pub fn envs(self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        vars.into_iter()
            .fold(self, |launch, (name, value)| launch.env(&name, value))
    }
}

/// A running server under test; killed when dropped.
#[derive(Debug)]
pub struct AppProcess {
    child: Child,
    port: u16,
    spawned: Instant,
    log: PathBuf,
}

impl AppProcess {
    /// Spawns `launch` with `PORT` set to a free port, its stdout and stderr (the log; for
    /// `lambda`, also the CloudWatch metric lines) going to the file `log`, which never blocks
    /// it as a full pipe would. Returns at once: see [`AppProcess::wait_until_listening`].
    ///
    /// # Errors
    ///
    /// When no port is free, `log` cannot be created or the program cannot be started.
    pub fn spawn(launch: &Launch, log: &Path) -> Result<AppProcess, String> {
        let port = free_port();
        let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let output = file.try_clone().map_err(|e| e.to_string())?;
        let spawned = Instant::now();
        let child = command(&launch.program)
            .args(&launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .env("PORT", port.to_string())
            .stdout(output)
            .stderr(file)
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

    /// Its HTTP address, `127.0.0.1:PORT`.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// When `spawn` was called.
    pub fn spawned(&self) -> Instant {
        self.spawned
    }

    /// Everything it has written so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails if the process has exited, quoting the end of its log.
    ///
    /// # Errors
    ///
    /// When it has exited, or its state cannot be read.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}):\n{}",
                self.log.display(),
                last_lines(&self.log, 20)
            )),
            Err(e) => Err(format!("cannot check the app process: {e}")),
        }
    }

    /// Waits until its port accepts TCP connections.
    ///
    /// # Errors
    ///
    /// When it exits first, or `timeout` passes.
    pub async fn wait_until_listening(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if tokio::net::TcpStream::connect(self.address()).await.is_ok() {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() >= deadline {
                return Err(format!(
                    "not listening on {} within {timeout:?}:\n{}",
                    self.address(),
                    last_lines(&self.log, 20)
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills it at once with SIGKILL, as a crash or an out-of-memory kill would, and reaps it.
    pub fn kill(mut self) {
        self.reap();
    }

    /// SIGTERM (a graceful drain, as Lambda and ECS stop it), then SIGKILL after 10 s. Returns
    /// how it exited, if it did on its own.
    pub fn stop(mut self) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None // Drop kills and reaps.
    }

    fn reap(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        self.reap();
    }
}
