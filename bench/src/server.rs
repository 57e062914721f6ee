//! The database server under test, as the benchmark addresses it: a URI to give each role a
//! database on it, and the ports its connections go to (to count the app's connections).

use mongodb::options::{ConnectionString, HostInfo, ServerAddress};
use testkit::server::uri_with_database;

/// The default port of a host written without one.
const DEFAULT_PORT: u16 = 27017;

/// A server's URI and the ports of its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUri {
    uri: String,
    ports: Vec<u16>,
}

impl ServerUri {
    /// Reads `mongodb://host:port[/db][?options]` with the driver's parser.
    pub fn parse(uri: &str) -> Result<ServerUri, String> {
        let parsed = ConnectionString::parse(uri).map_err(|e| format!("{}", e.kind))?;
        let ports = match parsed.host_info {
            HostInfo::HostIdentifiers(hosts) => hosts.iter().map(port_of).collect(),
            // An SRV record names the hosts: their ports are not known here.
            _ => Vec::new(),
        };
        Ok(ServerUri {
            uri: uri.to_owned(),
            ports,
        })
    }

    /// The URI of `database` on this server, with the same options.
    pub fn with_database(&self, database: &str) -> String {
        uri_with_database(&self.uri, database)
    }

    /// The server ports (empty for `mongodb+srv://`).
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }
}

fn port_of(host: &ServerAddress) -> u16 {
    match host {
        ServerAddress::Tcp { port, .. } => port.unwrap_or(DEFAULT_PORT),
        _ => DEFAULT_PORT,
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
    fn hostless_uris_are_refused() {
        assert!(ServerUri::parse("mongodb:///db").is_err());
        assert!(ServerUri::parse("127.0.0.1:27017").is_err());
    }
}
