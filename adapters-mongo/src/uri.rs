//! The light, I/O-free reading of a MongoDB connection string: its database, the part that
//! decides which client it may share, and a form that is safe to show.
//!
//! The driver remains the authority on the syntax: [`MongoUri::parse`] also runs
//! `ConnectionString::parse`, which checks every option without I/O (SRV and TXT lookups happen
//! only in `ClientOptions::parse`, at first use). What this module adds is what the driver does
//! not expose: the raw pieces needed to tell whether two URIs reach the same deployment with
//! the same credentials, and redaction.

use mongodb::options::ConnectionString;
use secrecy::{ExposeSecret, SecretString};

/// What is wrong with a connection string; the caller adds the variable name and the redacted
/// URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriProblem {
    /// Neither `mongodb://` nor `mongodb+srv://`.
    Scheme,
    /// No host between the scheme and the path.
    NoHost,
    /// No database path (`mongodb://host` or `mongodb://host/`).
    NoDatabase,
    /// The driver rejects it; the message has been scrubbed of credentials.
    Driver(String),
}

/// A connection string that passed the structural checks. The text stays secret; only the
/// database name and a redacted form are visible.
#[derive(Clone)]
pub(crate) struct MongoUri {
    text: SecretString,
    database: String,
    /// Everything that decides which client may serve this URI: the URI without its database
    /// path, unless the path is also the authentication database (credentials without
    /// `authSource`), in which case two paths mean two different credentials.
    identity: SecretString,
    redacted: String,
    /// The password as written and percent-decoded, to scrub from driver messages.
    password_forms: Vec<SecretString>,
}

impl MongoUri {
    /// Checks `text` without I/O.
    pub(crate) fn parse(text: &str) -> Result<Self, UriProblem> {
        let text = text.trim();
        let parts = Parts::split(text).ok_or(UriProblem::Scheme)?;
        if parts.hosts.is_empty() {
            return Err(UriProblem::NoHost);
        }
        let password_forms = password_forms(parts.userinfo);
        let database = match parts.path {
            Some(path) if !path.is_empty() => percent_decode(path),
            _ => return Err(UriProblem::NoDatabase),
        };
        if let Err(err) = ConnectionString::parse(text) {
            let message = scrub(&err.to_string(), &password_forms);
            return Err(UriProblem::Driver(message));
        }
        let auth_database_matters = parts.userinfo.is_some()
            && !parts
                .query
                .unwrap_or("")
                .split('&')
                .any(|pair| pair.to_ascii_lowercase().starts_with("authsource="));
        let identity = format!(
            "{}://{}@{}/{}?{}",
            parts.scheme,
            parts.userinfo.unwrap_or(""),
            parts.hosts,
            if auth_database_matters {
                database.as_str()
            } else {
                ""
            },
            parts.query.unwrap_or(""),
        );
        Ok(Self {
            text: SecretString::from(text.to_owned()),
            database,
            identity: SecretString::from(identity),
            redacted: redact(text),
            password_forms,
        })
    }

    /// The full text, for the driver only.
    pub(crate) fn expose(&self) -> &str {
        self.text.expose_secret()
    }

    /// The database named by the path, percent-decoded.
    pub(crate) fn database(&self) -> &str {
        &self.database
    }

    /// Whether one client may serve both URIs: the same deployment, credentials and options.
    pub(crate) fn same_client_as(&self, other: &Self) -> bool {
        self.identity.expose_secret() == other.identity.expose_secret()
    }

    /// The URI with its password and secret options replaced by `****`.
    pub(crate) fn redacted(&self) -> &str {
        &self.redacted
    }

    /// `message` with any password of this URI and any URI credentials replaced by `****`.
    pub(crate) fn scrub(&self, message: &str) -> String {
        scrub(message, &self.password_forms)
    }
}

/// The pieces of a connection string, split the way the driver splits them: the query at the
/// first `?`, the credentials at the last `@` before it, the path at the first `/` after them.
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    hosts: &'a str,
    path: Option<&'a str>,
    query: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn split(text: &'a str) -> Option<Self> {
        let (scheme, rest) = text.split_once("://")?;
        if scheme != "mongodb" && scheme != "mongodb+srv" {
            return None;
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (userinfo, hosts_and_path) = match before_query.rsplit_once('@') {
            Some((userinfo, after)) => (Some(userinfo), after),
            None => (None, before_query),
        };
        let (hosts, path) = match hosts_and_path.split_once('/') {
            Some((hosts, path)) => (hosts, Some(path)),
            None => (hosts_and_path, None),
        };
        Some(Self {
            scheme,
            userinfo,
            hosts,
            path,
            query,
        })
    }
}

fn password_forms(userinfo: Option<&str>) -> Vec<SecretString> {
    let Some((_, password)) = userinfo.and_then(|u| u.split_once(':')) else {
        return Vec::new();
    };
    let mut forms = vec![password.to_owned()];
    let decoded = percent_decode(password);
    if decoded != password {
        forms.push(decoded);
    }
    forms
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(SecretString::from)
        .collect()
}

/// Query options whose value is a secret.
const SECRET_OPTIONS: [&str; 2] = ["authmechanismproperties", "tlscertificatekeyfilepassword"];

/// `text` (a connection string, well-formed or not) with its password and secret option values
/// replaced by `****`. The user name stays, to help tell configurations apart.
///
/// Errs on the side of hiding: everything up to the *last* `@` after the scheme is treated as
/// credentials, so a password with an unescaped `/` or `?` is still hidden.
pub(crate) fn redact(text: &str) -> String {
    let (prefix, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), text),
    };
    let (credentials, after) = match rest.rsplit_once('@') {
        Some((userinfo, after)) => {
            let shown = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:****@"),
                None => format!("{userinfo}@"),
            };
            (shown, after)
        }
        None => (String::new(), rest),
    };
    let after = match after.split_once('?') {
        Some((before, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if SECRET_OPTIONS.contains(&key.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{key}=****")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{before}?{}", query.join("&"))
        }
        None => after.to_owned(),
    };
    format!("{prefix}{credentials}{after}")
}

/// `message` with every known password form, and the credentials of any URI it quotes,
/// replaced by `****`.
pub(crate) fn scrub(message: &str, passwords: &[SecretString]) -> String {
    let mut message = message.to_owned();
    for password in passwords {
        let password = password.expose_secret();
        if !password.is_empty() {
            message = message.replace(password, "****");
        }
    }
    if !message.contains("://") {
        return message;
    }
    message
        .split(' ')
        .map(|word| {
            if word.contains("://") && word.contains('@') {
                redact(word)
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Decodes `%XX` escapes; anything that is not a valid escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_the_path_percent_decoded() {
        let uri = MongoUri::parse("mongodb://h1:27017,h2:27017/main%2Ddb?replicaSet=rs0").unwrap();
        assert_eq!(uri.database(), "main-db");
    }

    #[test]
    fn srv_uris_are_accepted_without_any_lookup() {
        let text =
            "mongodb+srv://alice:pw@cluster0.example.invalid/main?retryWrites=true&w=majority";
        let uri = MongoUri::parse(text).unwrap();
        assert_eq!(uri.database(), "main");
        assert_eq!(uri.expose(), text, "the URI reaches the driver untouched");
    }

    #[test]
    fn a_uri_without_a_database_or_host_or_known_scheme_is_rejected() {
        assert_eq!(
            MongoUri::parse("mongodb://host").err(),
            Some(UriProblem::NoDatabase)
        );
        assert_eq!(
            MongoUri::parse("mongodb://host/").err(),
            Some(UriProblem::NoDatabase)
        );
        assert_eq!(
            MongoUri::parse("mongodb://host/?w=1").err(),
            Some(UriProblem::NoDatabase)
        );
        assert_eq!(
            MongoUri::parse("mongodb:///db").err(),
            Some(UriProblem::NoHost)
        );
        assert_eq!(
            MongoUri::parse("http://host/db").err(),
            Some(UriProblem::Scheme)
        );
        assert_eq!(MongoUri::parse("host/db").err(), Some(UriProblem::Scheme));
    }

    #[test]
    fn what_the_driver_rejects_is_rejected_with_a_scrubbed_message() {
        let problem = MongoUri::parse("mongodb://alice:s3cret@host:notaport/db").err();
        let Some(UriProblem::Driver(message)) = problem else {
            panic!("expected a driver error, got {problem:?}");
        };
        assert!(!message.contains("s3cret"), "{message}");
        assert!(matches!(
            MongoUri::parse("mongodb+srv://h1,h2/db").err(),
            Some(UriProblem::Driver(_))
        ));
    }

    #[test]
    fn redaction_hides_passwords_and_secret_options_even_in_malformed_uris() {
        let cases = [
            ("mongodb://alice:s3cret@host/db", "mongodb://alice:****@host/db"),
            ("mongodb://alice:s3/c?ret@host/db", "mongodb://alice:****@host/db"),
            ("mongdb://alice:s3cret@host", "mongdb://alice:****@host"),
            ("alice:s3cret@host", "alice:****@host"),
            (
                "mongodb://host/db?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:s3cret",
                "mongodb://host/db?authMechanism=MONGODB-AWS&authMechanismProperties=****",
            ),
            ("mongodb://host/db", "mongodb://host/db"),
        ];
        for (text, expected) in cases {
            assert_eq!(redact(text), expected);
        }
    }

    #[test]
    fn scrubbing_hides_known_passwords_and_quoted_uris() {
        let uri = MongoUri::parse("mongodb://alice:s3%40cret@host/db").unwrap();
        let scrubbed = uri.scrub("auth failed for s3@cret and s3%40cret at mongodb://bob:pw@x/y");
        assert_eq!(
            scrubbed,
            "auth failed for **** and **** at mongodb://bob:****@x/y"
        );
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
    }
}
