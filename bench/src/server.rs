//! The database server under test: one given by `MONGO_BENCH_URI`, or an `nx-27017` started
//! here (on a free loopback port, with its own data dir, pid file and log file) and stopped
//! when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server address from a `mongodb://` URI: everything up to the hosts, the options, and the
/// ports (to find the app's connections to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUri {
    /// `scheme://[user:pass@]host[:port][,host…]`
    base: String,
    /// What follows `?`, if anything.
    query: Option<String>,
    ports: Vec<u16>,
}

impl ServerUri {
    /// Parses `mongodb://host:port[/db][?options]`; any database path is dropped.
    pub fn parse(uri: &str) -> Result<ServerUri, String> {
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| "a MongoDB URI starts with mongodb:// or mongodb+srv://".to_owned())?;
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q.to_owned())),
            None => (rest, None),
        };
        let hosts = before_query.split('/').next().unwrap_or_default();
        if hosts.is_empty() {
            return Err("the URI names no host".to_owned());
        }
        let host_list = hosts.rsplit('@').next().unwrap_or(hosts);
        let ports = match scheme {
            // An SRV record names the hosts: their ports are not known here.
            "mongodb+srv" => Vec::new(),
            _ => host_list.split(',').map(port_of).collect(),
        };
        Ok(ServerUri {
            base: format!("{scheme}://{hosts}"),
            query,
            ports,
        })
    }

    /// The URI of `database` on this server, with the same options.
    pub fn with_database(&self, database: &str) -> String {
        match &self.query {
            Some(query) => format!("{}/{database}?{query}", self.base),
            None => format!("{}/{database}", self.base),
        }
    }

    /// The server ports (empty for `mongodb+srv://`).
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }
}

fn port_of(host: &str) -> u16 {
    // `[::1]:27017`, `host:27017` or `host` (the default port).
    match host.rsplit_once(':') {
        Some((_, port)) if !port.ends_with(']') => port.parse().unwrap_or(27017),
        _ => 27017,
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; the kernel may hand it out again later).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// An `nx-27017` process started by the benchmark, killed when dropped.
pub struct NxServer {
    child: Child,
    port: u16,
}

impl NxServer {
    /// Starts `bin` on a free port with its files under `dir` (on CPU `cpu` alone, when given),
    /// and waits (30 s at most) until it accepts TCP connections.
    pub fn start(bin: &Path, dir: &Path, cpu: Option<usize>) -> Result<NxServer, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let out = std::fs::File::create(dir.join("nx-27017.out")).map_err(|e| e.to_string())?;
        // Its own data dir, pid file and log file: the defaults are shared paths in /tmp, and
        // a stale pid file there makes a new server exit at once.
        // taskset execs the server: the child's pid is the server's.
        let mut command = match cpu {
            Some(cpu) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", &cpu.to_string()]).arg(bin);
                taskset
            }
            None => Command::new(bin),
        };
        let child = command
            .args(["--host", "127.0.0.1", "-p", &port.to_string(), "--data-dir"])
            .arg(dir.join("data"))
            .arg("--pid-file")
            .arg(dir.join("nx-27017.pid"))
            .arg("--log-file")
            .arg(dir.join("nx-27017.log"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = NxServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before accepting connections; see {}",
                    bin.display(),
                    dir.join("nx-27017.out").display()
                ));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on {port} in 30 s",
                    bin.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `mongodb://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }
}

impl Drop for NxServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory for this run's servers and logs, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory under the system's temporary directory.
    pub fn new() -> std::io::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }

    /// `name` inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_replaces_the_path_and_keeps_the_options() {
        let server = ServerUri::parse("mongodb://127.0.0.1:4000/test?appName=x").unwrap();
        assert_eq!(
            server.with_database("bench_main"),
            "mongodb://127.0.0.1:4000/bench_main?appName=x"
        );
        assert_eq!(server.ports(), &[4000]);
    }

    #[test]
    fn hosts_without_a_port_use_27017_and_credentials_are_kept() {
        let server = ServerUri::parse("mongodb://u:p@a,b:27018,[::1]").unwrap();
        assert_eq!(
            server.with_database("db"),
            "mongodb://u:p@a,b:27018,[::1]/db"
        );
        assert_eq!(server.ports(), &[27017, 27018, 27017]);
    }

    #[test]
    fn srv_uris_have_no_known_ports_and_hostless_uris_are_refused() {
        let server = ServerUri::parse("mongodb+srv://cluster0.example.net/").unwrap();
        assert!(server.ports().is_empty());
        assert!(ServerUri::parse("mongodb:///db").is_err());
        assert!(ServerUri::parse("127.0.0.1:27017").is_err());
    }
}
