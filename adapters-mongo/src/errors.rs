//! Driver errors turned into the port's [`RepositoryError`], by kind and code only: server
//! messages differ between servers and versions, so they are never parsed.

use std::error::Error as _;

use mongodb::error::{Error, ErrorKind, WriteFailure};
use ports::{Conflict, RepositoryError, Role};

/// Duplicate key: a unique index refused the write. 11001 and 12582 are older spellings of it.
const DUPLICATE_KEY_CODES: [i32; 3] = [11000, 11001, 12582];

/// Server codes meaning the server is unreachable, stepping down, shutting down or timed out:
/// the same call may work against the next primary or after a restart.
const UNAVAILABLE_CODES: [i32; 13] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// The longest reason kept from a driver message (server-selection errors list the whole
/// topology).
const MAX_REASON_CHARS: usize = 600;

/// What a failed operation was about, to name it in the error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operation {
    pub(crate) role: Role,
    /// The model's name and unique key written, when a duplicate key can happen.
    pub(crate) unique: Option<(&'static str, &'static str)>,
}

/// Maps `err`; `scrub` removes credentials from the driver's message.
pub(crate) fn repository_error(
    err: &Error,
    operation: Operation,
    scrub: impl Fn(&str) -> String,
) -> RepositoryError {
    if let Some((model, key)) = operation.unique {
        if chain(err).any(is_duplicate_key) {
            return Conflict::Duplicate { model, key }.into();
        }
    }
    // The kinds' own messages: the driver's `Display` of the error adds labels and empty
    // fields that only make reasons harder to read.
    let described: Vec<String> = chain(err).map(|e| e.kind.to_string()).collect();
    let reason: String = scrub(&described.join(": caused by: "))
        .chars()
        .take(MAX_REASON_CHARS)
        .collect();
    if chain(err).any(is_unavailable) {
        RepositoryError::Unavailable {
            role: operation.role,
            reason,
        }
    } else {
        RepositoryError::Internal(format!("{} database: {reason}", operation.role))
    }
}

/// `err` and the driver errors it wraps.
fn chain(err: &Error) -> impl Iterator<Item = &Error> {
    std::iter::successors(Some(err), |&e| {
        e.source().and_then(|s| s.downcast_ref::<Error>())
    })
}

fn is_duplicate_key(err: &Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => DUPLICATE_KEY_CODES.contains(&e.code),
        ErrorKind::Command(e) => DUPLICATE_KEY_CODES.contains(&e.code),
        ErrorKind::InsertMany(e) => e
            .write_errors
            .iter()
            .flatten()
            .any(|w| DUPLICATE_KEY_CODES.contains(&w.code)),
        _ => false,
    }
}

fn is_unavailable(err: &Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Authentication { .. }
        | ErrorKind::Shutdown => true,
        ErrorKind::Command(e) => UNAVAILABLE_CODES.contains(&e.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => UNAVAILABLE_CODES.contains(&e.code),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATION: Operation = Operation {
        role: Role::MAIN,
        unique: Some(("Machine", "serialNumber")),
    };

    fn map(err: Error) -> RepositoryError {
        repository_error(&err, OPERATION, |m| m.replace("s3cret", "****"))
    }

    #[test]
    fn network_failures_are_unavailable_for_the_role() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by s3cret");
        let err = map(Error::from(io));
        let RepositoryError::Unavailable { role, reason } = err else {
            panic!("{err:?}");
        };
        assert_eq!(role, Role::MAIN);
        assert!(
            reason.contains("refused") && !reason.contains("s3cret"),
            "{reason}"
        );
        assert!(map(Error::from(std::io::ErrorKind::TimedOut)).is_retryable());
    }

    #[test]
    fn anything_else_is_internal_and_names_the_role() {
        let err = map(Error::custom("odd"));
        assert!(
            matches!(&err, RepositoryError::Internal(m) if m.starts_with("main database")),
            "{err:?}"
        );
    }
}
