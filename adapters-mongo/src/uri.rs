//! A MongoDB connection string as the driver parses it: its database, the identity that decides
//! which client may serve it, and a form that is safe to show.
//!
//! The driver's `ConnectionString::parse` is the only reader of the text (it does no I/O; SRV
//! and TXT lookups happen in `ClientOptions::parse`, at first use). Everything shown is built
//! from its parsed fields (hosts, database, option *names*), never from the text, so a secret
//! in an unexpected place (an `@` in the query, an option of a newer driver) is never shown.

use mongodb::bson;
use mongodb::error::ErrorKind;
use mongodb::options::{ConnectionString, HostInfo};
use secrecy::{ExposeSecret, SecretString};

/// Why a connection string was refused. Neither variant holds any of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriProblem {
    /// It parses, but names no database; `shown` is its safe form.
    NoDatabase { shown: String },
    /// The driver cannot parse it.
    Unparsable {
        /// `mongodb`, `mongodb+srv`, or a note that the scheme is neither.
        scheme: &'static str,
        /// The kind of the driver's error; its message may quote the text, so it is dropped.
        kind: &'static str,
    },
}

/// A connection string the driver parsed. Its secrets stay inside the parsed form, which is
/// never printed.
#[derive(Clone)]
pub(crate) struct MongoUri {
    parsed: ConnectionString,
    database: String,
    /// The parsed form without the database, unless the database is also where the credentials
    /// are checked (credentials without `authSource`): what decides which client may serve it.
    identity: ConnectionString,
    shown: String,
    /// Secret values in their decoded form, to scrub from driver messages at run time.
    secrets: Vec<SecretString>,
}

impl MongoUri {
    /// Parses `text` without I/O.
    pub(crate) fn parse(text: &str) -> Result<Self, UriProblem> {
        let text = text.trim();
        let parsed = ConnectionString::parse(text).map_err(|err| UriProblem::Unparsable {
            scheme: scheme(text),
            kind: kind(&err.kind),
        })?;
        let shown = shown(&parsed);
        let database = match parsed.default_database.as_deref() {
            Some(database) if !database.is_empty() => database.to_owned(),
            _ => return Err(UriProblem::NoDatabase { shown }),
        };
        let mut identity = parsed.clone();
        let checks_credentials_here = parsed
            .credential
            .as_ref()
            .is_some_and(|credential| credential.source.is_none());
        if !checks_credentials_here {
            identity.default_database = None;
        }
        Ok(Self {
            secrets: secrets(&parsed),
            parsed,
            database,
            identity,
            shown,
        })
    }

    /// The parsed form, for the driver only.
    pub(crate) fn parsed(&self) -> &ConnectionString {
        &self.parsed
    }

    /// The database named by the path.
    pub(crate) fn database(&self) -> &str {
        &self.database
    }

    /// Whether one client may serve both URIs: the same deployment, credentials and options.
    pub(crate) fn same_client_as(&self, other: &Self) -> bool {
        self.identity == other.identity
    }

    /// What may be shown: scheme, hosts, database and the names of the options set, with
    /// `****` for credentials and option values.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// `message` with every secret value of this URI replaced by `****`.
    pub(crate) fn scrub(&self, message: &str) -> String {
        let mut message = message.to_owned();
        for secret in &self.secrets {
            message = message.replace(secret.expose_secret(), "****");
        }
        message
    }
}

fn scheme(text: &str) -> &'static str {
    if text.starts_with("mongodb+srv://") {
        "mongodb+srv"
    } else if text.starts_with("mongodb://") {
        "mongodb"
    } else {
        "neither mongodb:// nor mongodb+srv://"
    }
}

fn kind(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument { .. } => "an invalid argument",
        ErrorKind::DnsResolve { .. } => "a DNS name that does not resolve",
        _ => "an unreadable connection string",
    }
}

fn shown(parsed: &ConnectionString) -> String {
    let (scheme, hosts) = match &parsed.host_info {
        HostInfo::DnsRecord(name) => ("mongodb+srv", name.clone()),
        HostInfo::HostIdentifiers(addresses) => {
            let hosts: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            ("mongodb", hosts.join(","))
        }
        _ => ("mongodb", String::new()),
    };
    let credentials = if parsed.credential.is_some() {
        "****@"
    } else {
        ""
    };
    let database = parsed.default_database.as_deref().unwrap_or_default();
    let options: Vec<String> = option_names(parsed)
        .iter()
        .map(|name| format!("{name}=****"))
        .collect();
    let query = if options.is_empty() {
        String::new()
    } else {
        format!("?{}", options.join("&"))
    };
    format!("{scheme}://{credentials}{hosts}/{database}{query}")
}

/// The names of the options set, in the driver's camelCase: the keys of its own serde form
/// (whose values are dropped unread), and those of the credential.
fn option_names(parsed: &ConnectionString) -> Vec<String> {
    const NOT_OPTIONS: [&str; 3] = ["hostInfo", "defaultDatabase", "credential"];
    let mut names: Vec<String> = bson::to_document(parsed)
        .map(|document| document.keys().cloned().collect())
        .unwrap_or_default();
    names.retain(|name| !NOT_OPTIONS.contains(&name.as_str()));
    if let Some(credential) = &parsed.credential {
        let set = [
            ("authSource", credential.source.is_some()),
            ("authMechanism", credential.mechanism.is_some()),
            (
                "authMechanismProperties",
                credential.mechanism_properties.is_some(),
            ),
        ];
        names.extend(
            set.iter()
                .filter(|(_, set)| *set)
                .map(|(n, _)| (*n).to_owned()),
        );
    }
    names
}

/// The secret values the parsed form holds: the password and the string values of the
/// mechanism properties (an AWS session token). With the driver's features as built here, a
/// TLS key file's password is refused at parse time, so it is never held.
fn secrets(parsed: &ConnectionString) -> Vec<SecretString> {
    let mut secrets = Vec::new();
    if let Some(credential) = &parsed.credential {
        secrets.extend(credential.password.clone());
        if let Some(properties) = &credential.mechanism_properties {
            let values = properties.values().filter_map(|v| v.as_str());
            secrets.extend(values.map(str::to_owned));
        }
    }
    secrets
        .into_iter()
        .filter(|secret| !secret.is_empty())
        .map(SecretString::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_the_path_percent_decoded() {
        let uri = MongoUri::parse("mongodb://h1:27017,h2:27017/main%2Ddb?replicaSet=rs0").unwrap();
        assert_eq!(uri.database(), "main-db");
        assert_eq!(
            uri.shown(),
            "mongodb://h1:27017,h2:27017/main-db?replicaSet=****"
        );
    }

    #[test]
    fn srv_uris_are_accepted_without_any_lookup() {
        let text =
            "mongodb+srv://alice:pw@cluster0.example.invalid/main?retryWrites=true&w=majority";
        let uri = MongoUri::parse(text).unwrap();
        assert_eq!(uri.database(), "main");
        assert!(uri
            .shown()
            .starts_with("mongodb+srv://****@cluster0.example.invalid/main?"));
    }

    #[test]
    fn a_uri_without_a_database_or_host_or_known_scheme_is_rejected_without_its_text() {
        for text in ["mongodb://host", "mongodb://host/", "mongodb://host/?w=1"] {
            let problem = MongoUri::parse(text).err();
            assert!(
                matches!(problem, Some(UriProblem::NoDatabase { .. })),
                "{text}: {problem:?}"
            );
        }
        for (text, scheme) in [
            ("mongodb:///db", "mongodb"),
            ("http://host/db", "neither mongodb:// nor mongodb+srv://"),
            ("host/db", "neither mongodb:// nor mongodb+srv://"),
            ("mongodb+srv://h1,h2/db", "mongodb+srv"),
        ] {
            let problem = MongoUri::parse(text).err();
            let Some(UriProblem::Unparsable { scheme: found, .. }) = problem else {
                panic!("{text}: {problem:?}");
            };
            assert_eq!(found, scheme, "{text}");
        }
    }

    #[test]
    fn scrubbing_hides_the_decoded_secrets_of_the_uri() {
        let uri = MongoUri::parse("mongodb://alice:s3%40cret@host/db").unwrap();
        assert_eq!(uri.scrub("auth failed for s3@cret"), "auth failed for ****");
    }

    #[test]
    fn uris_that_differ_only_in_the_database_share_a_client() {
        let main = MongoUri::parse("mongodb://h:1/main?appName=a").unwrap();
        let admin = MongoUri::parse("mongodb://h:1/masteradmin?appName=a").unwrap();
        assert!(main.same_client_as(&admin));
        for other in [
            "mongodb://h:2/masteradmin?appName=a",
            "mongodb://localhost:1/masteradmin?appName=a",
            "mongodb://h:1/masteradmin?appName=b",
            "mongodb://u:p@h:1/masteradmin?appName=a",
        ] {
            assert!(
                !main.same_client_as(&MongoUri::parse(other).unwrap()),
                "{other}"
            );
        }
    }

    #[test]
    fn with_credentials_the_path_is_the_auth_database_unless_auth_source_is_given() {
        let a = MongoUri::parse("mongodb://u:p@h/main").unwrap();
        let b = MongoUri::parse("mongodb://u:p@h/masteradmin").unwrap();
        assert!(
            !a.same_client_as(&b),
            "two auth databases are two credentials"
        );
        let a = MongoUri::parse("mongodb://u:p@h/main?authSource=admin").unwrap();
        let b = MongoUri::parse("mongodb://u:p@h/masteradmin?authSource=admin").unwrap();
        assert!(a.same_client_as(&b));
        let c = MongoUri::parse("mongodb://u:other@h/masteradmin?authSource=admin").unwrap();
        assert!(!a.same_client_as(&c), "another password is another login");
    }
}
