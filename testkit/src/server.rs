//! The MongoDB wire-protocol server that database tests run against.
//!
//! `scripts/test` provides one shared server through `MONGO_TEST_URI`: a real `mongod` when the
//! caller gives one, otherwise the `nx-27017` stand-in (then `MONGO_TEST_SERVER=nx-27017`). Each
//! test takes its own database on it ([`unique_database_name`], [`uri_with_database`]), so tests
//! run in parallel without seeing each other's data.
//!
//! Fault tests and the benchmark need a server of their own: [`SpawnedServer`] starts a
//! private nx-27017 from `NX_27017_BIN`, and [`stalled_listener`] is a server that accepts connections and never answers.
//!
//! Database tests never skip silently: without a server, [`test_server_uri`] panics and says how
//! to get one. Where the stand-in is known to differ from MongoDB (`docs/test-server.md`), a
//! test reports the gap through [`known_server_gap`] instead of passing.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::BuildHasher;
use std::io::Write;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The value of `MONGO_TEST_SERVER` when the server is the nx-27017 stand-in.
const STAND_IN: &str = "nx-27017";

/// How long a spawned server may take to accept connections (it usually needs about 0.3 s).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest database name [`unique_database_name`] returns.
const MAX_DATABASE_NAME: usize = 38;

/// The URI of the shared test server, from `MONGO_TEST_URI`.
///
/// # Panics
///
/// When `MONGO_TEST_URI` is unset or empty: a database test must fail rather than skip, and the
/// message says how to provide a server.
pub fn test_server_uri() -> String {
    match std::env::var("MONGO_TEST_URI") {
        Ok(uri) if !uri.trim().is_empty() => uri,
        _ => panic!(
            "MONGO_TEST_URI is not set, and database tests do not skip: run ./scripts/test, \
             which starts a test server; or start one with `eval \"$(./scripts/test-server)\"` \
             and run cargo test in the same shell; or set \
             MONGO_TEST_URI=mongodb://127.0.0.1:27017 for a real mongod (see compose.yaml)"
        ),
    }
}

/// A fresh database name for one test: `prefix`, the process id, a counter and a random suffix.
///
/// The result has at most 38 characters, all in `[a-z0-9_]`; other characters of `prefix` become
/// `_`, and a long prefix is shortened. The process id and counter keep names apart within a run,
/// the suffix keeps them apart from leftovers of earlier runs on the same server.
pub fn unique_database_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tail = format!(
        "_{}_{count}_{:06x}",
        std::process::id(),
        random_u64() & 0xff_ffff
    );
    let prefix: String = prefix
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .take(MAX_DATABASE_NAME.saturating_sub(tail.len()))
        .collect();
    format!("{prefix}{tail}")
}

/// `base` (a `mongodb://` URI) with its database path set to `db`.
///
/// An existing path is replaced; options after `?` are kept:
/// `mongodb://h:1/old?w=1` with `new` gives `mongodb://h:1/new?w=1`.
pub fn uri_with_database(base: &str, db: &str) -> String {
    let (before_options, options) = match base.split_once('?') {
        Some((before, options)) => (before, Some(options)),
        None => (base, None),
    };
    // The host list holds no unescaped '/', so the first '/' after the scheme starts the path.
    let authority_start = before_options.find("://").map_or(0, |i| i + 3);
    let server = match before_options[authority_start..].find('/') {
        Some(slash) => &before_options[..authority_start + slash],
        None => before_options,
    };
    match options {
        Some(options) => format!("{server}/{db}?{options}"),
        None => format!("{server}/{db}"),
    }
}

/// `uri` with the option `option` (`name=value`) added after those it has.
///
/// `mongodb://h:1/db` with `w=1` gives `mongodb://h:1/db?w=1`; `mongodb://h:1/db?a=b` gives
/// `mongodb://h:1/db?a=b&w=1`.
pub fn uri_with_option(uri: &str, option: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{option}")
}

/// Whether the test server is the nx-27017 stand-in, which lacks the behaviour `what` describes.
///
/// When it is, this reports the gap: a line on stderr, and a line appended to the file named by
/// `MONGO_TEST_GAP_LOG` (if set), which `scripts/test` counts and prints after the run, since
/// cargo hides the output of passing tests. Use it only around the assertion the stand-in fails:
///
/// ```no_run
/// # use testkit::server::known_server_gap;
/// # let (counted, expected) = (0, 2);
/// if known_server_gap("count_documents with an ObjectId in the filter returns 0") {
///     return;
/// }
/// assert_eq!(counted, expected);
/// ```
pub fn known_server_gap(what: &str) -> bool {
    if std::env::var("MONGO_TEST_SERVER").as_deref() != Ok(STAND_IN) {
        return false;
    }
    // The test harness names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unknown test");
    eprintln!("KNOWN TEST-SERVER GAP: {what} ({test})");
    if let Some(path) = std::env::var_os("MONGO_TEST_GAP_LOG") {
        let line = format!("{test}: {what}\n");
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!(
                "cannot append to MONGO_TEST_GAP_LOG {}: {e}",
                Path::new(&path).display()
            );
        }
    }
    true
}

/// A private nx-27017 server, for fault tests (which may kill and restart it) and for the
/// benchmark.
///
/// It listens on a free 127.0.0.1 port and keeps its data dir, pid file and log file in a
/// temporary directory of its own (the defaults are shared paths in /tmp, and a stale pid file
/// there makes a new server exit at once). Dropping it kills the process and removes that
/// directory.
#[derive(Debug)]
pub struct SpawnedServer {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    /// The only CPU it may run on, when pinned.
    cpu: Option<usize>,
    /// `None` while killed.
    child: Option<Child>,
}

impl SpawnedServer {
    /// Starts a server from `NX_27017_BIN` and waits until it accepts TCP connections.
    ///
    /// # Panics
    ///
    /// When `NX_27017_BIN` is unset, or the server does not come up within 30 s (the message then
    /// ends with its log).
    pub async fn start() -> Self {
        Self::start_on(None).await
    }

    /// As [`SpawnedServer::start`], on CPU `cpu` alone when given (through `taskset`), so that a
    /// benchmark's server and load generator do not share a core.
    ///
    /// # Panics
    ///
    /// As [`SpawnedServer::start`].
    pub async fn start_on(cpu: Option<usize>) -> Self {
        let bin = std::env::var_os("NX_27017_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "NX_27017_BIN is not set, and this needs it to start a server of its own: \
                     run ./scripts/test (or ./scripts/test-server), which installs nx-27017 \
                     and sets it"
                )
            });
        Self::start_from(bin, cpu).await
    }

    /// As [`SpawnedServer::start_on`], with the nx-27017 executable `bin`.
    ///
    /// # Panics
    ///
    /// As [`SpawnedServer::start`].
    pub async fn start_from(bin: PathBuf, cpu: Option<usize>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("nx-27017-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        let mut server = SpawnedServer {
            bin,
            dir,
            port: free_port(),
            cpu,
            child: None,
        };
        server.spawn_and_wait().await;
        server
    }

    /// The server's URI, `mongodb://127.0.0.1:PORT` (no database path).
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// The port it listens on, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server with SIGKILL and waits for it to exit; its data dir is kept.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means it has already exited; `wait` then reaps it all the same.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server if it is running, then starts it again on the same port and data dir and
    /// waits until it accepts TCP connections.
    ///
    /// # Panics
    ///
    /// When the server does not come up again within 30 s.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn_and_wait().await;
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn spawn_and_wait(&mut self) {
        // A killed server leaves its pid file behind, and a live PID in it (a reused one) would
        // make the new server exit at once.
        let _ = fs::remove_file(self.file("nx-27017.pid"));
        let output = File::options()
            .create(true)
            .append(true)
            .open(self.file("nx-27017.out"))
            .unwrap_or_else(|e| panic!("cannot open the output file: {e}"));
        let errors = output
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the output file handle: {e}"));
        // taskset execs the server, so the child's pid is the server's either way.
        let mut command = match self.cpu {
            Some(cpu) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", &cpu.to_string()]).arg(&self.bin);
                taskset
            }
            None => Command::new(&self.bin),
        };
        // Foreground process (no `-d`), so that the `Child` is the server itself.
        let child = command
            .args(["--host", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--data-dir")
            .arg(self.file("data"))
            .arg("--pid-file")
            .arg(self.file("nx-27017.pid"))
            .arg("--log-file")
            .arg(self.file("nx-27017.log"))
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_until_up().await;
    }

    async fn wait_until_up(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            let exited = match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some(status.to_string()),
                _ => None,
            };
            if exited.is_some() || Instant::now() >= deadline {
                let why = exited.map_or_else(
                    || format!("did not accept connections within {START_TIMEOUT:?}"),
                    |status| format!("exited ({status})"),
                );
                self.kill();
                panic!(
                    "nx-27017 on 127.0.0.1:{} {why}; its output and log:\n{}",
                    self.port,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self) -> String {
        ["nx-27017.out", "nx-27017.log"]
            .iter()
            .map(|name| format!("--- {name}\n{}", last_lines(&self.file(name), 20)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for SpawnedServer {
    /// Kills the server; the temporary directory removes itself.
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `n` lines of the text file at `path`, or nothing if it cannot be read.
pub(crate) fn last_lines(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Keeps a [`stalled_listener`] open; dropping it closes the listener and its connections.
#[derive(Debug)]
pub struct StalledListener {
    task: JoinHandle<()>,
}

impl Drop for StalledListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A "stalled server" on 127.0.0.1: it accepts TCP connections and never answers on them.
///
/// Returns its port and the guard that keeps it open. Must be called within a tokio runtime.
pub async fn stalled_listener() -> (u16, StalledListener) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("cannot bind a stalled listener on 127.0.0.1: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("cannot read the stalled listener's address: {e}"))
        .port();
    let task = tokio::spawn(async move {
        // Held, never read nor written, so that clients wait instead of seeing a closed socket.
        let mut connections = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            connections.push(stream);
        }
    });
    (port, StalledListener { task })
}

/// A port on 127.0.0.1 that was free a moment ago, chosen by the kernel: a port where nothing
/// listens, for a server that is down.
pub fn free_port() -> u16 {
    StdTcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|e| panic!("cannot find a free port on 127.0.0.1: {e}"))
        .port()
}

/// Not cryptographic: enough to tell apart names from different runs.
fn random_u64() -> u64 {
    // `RandomState` is seeded randomly per process; the clock varies it between calls.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    RandomState::new().hash_one(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_path_is_added_to_a_bare_server_uri() {
        assert_eq!(
            uri_with_database("mongodb://127.0.0.1:27017", "db1"),
            "mongodb://127.0.0.1:27017/db1"
        );
        assert_eq!(
            uri_with_database("mongodb://127.0.0.1:27017/", "db1"),
            "mongodb://127.0.0.1:27017/db1"
        );
    }

    #[test]
    fn an_existing_database_path_is_replaced_and_options_are_kept() {
        assert_eq!(
            uri_with_database("mongodb://h1:1,h2:2/old?replicaSet=rs&w=1", "new"),
            "mongodb://h1:1,h2:2/new?replicaSet=rs&w=1"
        );
        assert_eq!(
            uri_with_database("mongodb://h:1/?serverSelectionTimeoutMS=1000", "new"),
            "mongodb://h:1/new?serverSelectionTimeoutMS=1000"
        );
        assert_eq!(
            uri_with_database("mongodb://u:p@h:1?w=1", "new"),
            "mongodb://u:p@h:1/new?w=1"
        );
        assert_eq!(
            uri_with_database("mongodb+srv://cluster.example.net/admin", "new"),
            "mongodb+srv://cluster.example.net/new"
        );
    }

    #[test]
    fn an_option_is_added_after_the_existing_ones() {
        assert_eq!(
            uri_with_option("mongodb://h:1/db", "w=1"),
            "mongodb://h:1/db?w=1"
        );
        assert_eq!(
            uri_with_option("mongodb://h:1/db?a=b", "w=1"),
            "mongodb://h:1/db?a=b&w=1"
        );
    }

    #[test]
    fn database_names_are_short_lowercase_and_distinct() {
        let names: Vec<String> = (0..100)
            .map(|_| unique_database_name("Contract-Tests: Branch Repository, very long prefix"))
            .collect();
        for name in &names {
            assert!(name.len() <= MAX_DATABASE_NAME, "{name} is too long");
            assert!(
                name.chars()
                    .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_')),
                "{name} has a character outside [a-z0-9_]"
            );
            assert!(name.starts_with("contract_tests"), "{name} lost its prefix");
        }
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len());
    }

    #[test]
    fn a_short_prefix_is_kept_whole() {
        let name = unique_database_name("orders");
        assert!(name.starts_with(&format!("orders_{}_", std::process::id())));
    }

    #[tokio::test]
    async fn a_stalled_listener_accepts_and_never_answers_until_dropped() {
        let (port, guard) = stalled_listener().await;
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("the stalled listener accepts connections");
        let waited = tokio::time::timeout(Duration::from_millis(300), stream.readable()).await;
        assert!(waited.is_err(), "the stalled listener answered");

        drop(guard);
        tokio::time::timeout(Duration::from_secs(5), stream.readable())
            .await
            .expect("dropping the guard closes the connection")
            .expect("the stream is readable");
        let mut buf = [0_u8; 1];
        assert!(matches!(stream.try_read(&mut buf), Ok(0) | Err(_)));
    }

    #[tokio::test]
    async fn a_spawned_server_keeps_its_data_across_a_kill_and_restart_and_is_removed_on_drop() {
        use mongodb::bson::{doc, Document};

        let mut server = SpawnedServer::start().await;
        let (port, dir) = (server.port(), server.dir.path().to_owned());
        let uri = uri_with_database(&server.uri(), "restart");
        let client = mongodb::Client::with_uri_str(format!("{uri}?serverSelectionTimeoutMS=5000"))
            .await
            .expect("a valid URI");
        let orders = client.database("restart").collection::<Document>("orders");
        orders
            .insert_one(doc! { "n": 1 })
            .await
            .expect("insert before the kill");

        server.kill();
        assert!(
            TcpStream::connect(("127.0.0.1", port)).await.is_err(),
            "still listening"
        );
        server.restart().await;
        assert_eq!(server.port(), port);
        let count = orders
            .estimated_document_count()
            .await
            .expect("count after the restart");
        assert_eq!(count, 1);

        client.shutdown().await;
        drop(server);
        assert!(!dir.exists(), "the temp dir was not removed");
        assert!(
            TcpStream::connect(("127.0.0.1", port)).await.is_err(),
            "still listening"
        );
    }
}
