//! The connection state of one client, kept current from the driver's monitoring events, and
//! one log line each time it changes.
//!
//! The states are Mongoose's `readyState`: a client that does not exist yet is disconnected;
//! once created it is connecting until its monitor hears from a server; connected while any
//! server of the deployment answers; disconnected when none does (the driver keeps retrying,
//! and the state follows when a server answers again); disconnecting, then disconnected, on
//! shutdown, after which events no longer change it.
//!
//! Like Mongoose's connection events, each change is logged once (`connecting`, `connected`:
//! info; `disconnected`: warn, with the kind of error that caused it), naming every role the
//! client serves. A heartbeat that changes nothing logs nothing.
//!
//! The state is also a gauge through the `metrics` facade, set on each change only (never per
//! heartbeat): `mongodb_client_state{roles,state}` is 1 for the client's current state and 0
//! for the other three.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use mongodb::error::{Error, ErrorKind, WriteFailure};
use mongodb::event::sdam::{SdamEvent, TopologyDescription};
use mongodb::event::EventHandler;
use mongodb::ServerType;
use ports::ConnectionState;

/// The target of the state-change lines: `RUST_LOG=adapters_mongo::connection=warn` keeps
/// only the disconnections.
pub(crate) const CONNECTION_TARGET: &str = "adapters_mongo::connection";

const DISCONNECTED: u8 = 0;
const CONNECTED: u8 = 1;
const CONNECTING: u8 = 2;
const DISCONNECTING: u8 = 3;
/// Shut down: disconnected for good, whatever events still arrive.
const CLOSED: u8 = 4;
/// Shutting down a client that was not connected: reads as disconnecting, but there was
/// nothing to disconnect, so neither this step nor the next is logged.
const DISCONNECTING_IDLE: u8 = 5;

/// Why a client is disconnected, for its log line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    /// Every server's last check failed, with these kinds of error (`Io(ConnectionRefused)`).
    Unreachable(String),
    /// The client could not be created (a `mongodb+srv://` lookup failed).
    NotCreated,
    /// [`crate::ConnectionManager::shutdown`].
    Shutdown,
}

/// The log line a change of state deserves, if any: decided apart from the logging, so that
/// "one line per change, none per heartbeat" is tested without a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Connecting,
    Connected,
    Disconnecting,
    Disconnected,
}

/// The line for a move from `from` to `to`, as stored (`to` is only ever stored when it
/// differs from `from`).
fn line(from: u8, to: u8) -> Option<Line> {
    match (from, to) {
        _ if from == to => None,
        (_, CONNECTING) => Some(Line::Connecting),
        (_, CONNECTED) => Some(Line::Connected),
        (_, DISCONNECTING) => Some(Line::Disconnecting),
        (DISCONNECTING_IDLE | CLOSED, _) | (_, DISCONNECTING_IDLE) => None,
        (_, DISCONNECTED | CLOSED) => Some(Line::Disconnected),
        _ => None,
    }
}

/// The state of one client, shared by the roles it serves and by its event handler.
#[derive(Debug, Default)]
pub(crate) struct StateCell {
    state: AtomicU8,
    /// The roles the client serves, joined by commas, for the log lines; set when the client is
    /// created.
    roles: OnceLock<Arc<str>>,
    /// Held while the state gauges are set, so that the last writer sets the latest state.
    publishing: Mutex<()>,
}

/// Every state a client reports, in the order of the gauge's series.
const STATES: [ConnectionState; 4] = [
    ConnectionState::Disconnected,
    ConnectionState::Connecting,
    ConnectionState::Connected,
    ConnectionState::Disconnecting,
];

impl StateCell {
    pub(crate) fn get(&self) -> ConnectionState {
        match self.state.load(Ordering::Acquire) {
            CONNECTED => ConnectionState::Connected,
            CONNECTING => ConnectionState::Connecting,
            DISCONNECTING | DISCONNECTING_IDLE => ConnectionState::Disconnecting,
            _ => ConnectionState::Disconnected,
        }
    }

    /// The client will serve `roles` (`main,masteradmin`), named in its log lines and its
    /// state gauge, which this sets for the first time.
    pub(crate) fn serves(&self, roles: Arc<str>) {
        let _ = self.roles.set(roles);
        self.publish();
    }

    /// The client is being created for `roles` (`main,masteradmin`), named in its log lines.
    pub(crate) fn client_created(&self, roles: Arc<str>) {
        let _ = self.roles.set(roles);
        self.observe(CONNECTING, None);
    }

    /// Sets the state gauge of the client to its current state; nothing before its roles are
    /// known. Called after each change only, so heartbeats cost nothing here.
    fn publish(&self) {
        let Some(roles) = self.roles.get() else {
            return;
        };
        let _publishing = self
            .publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.get();
        for state in STATES {
            let gauge = metrics::gauge!(
                "mongodb_client_state",
                "roles" => roles.to_string(),
                "state" => state.as_str()
            );
            gauge.set(if state == current { 1.0 } else { 0.0 });
        }
    }

    /// The client could not be created: there is none to connect.
    pub(crate) fn creation_failed(&self) {
        self.observe(DISCONNECTED, Some(Reason::NotCreated));
    }

    /// An operation got an answer: a server is reachable now, whatever the last event said.
    pub(crate) fn answered(&self) {
        self.observe(CONNECTED, None);
    }

    /// Shutdown started: only [`Self::closed`] changes the state from now on.
    pub(crate) fn closing(&self) {
        let moved =
            self.state.fetch_update(
                Ordering::AcqRel,
                Ordering::Acquire,
                |current| match current {
                    CLOSED | DISCONNECTING | DISCONNECTING_IDLE => None,
                    DISCONNECTED => Some(DISCONNECTING_IDLE),
                    _ => Some(DISCONNECTING),
                },
            );
        if let Ok(from) = moved {
            let to = if from == DISCONNECTED {
                DISCONNECTING_IDLE
            } else {
                DISCONNECTING
            };
            self.log(line(from, to), None);
            self.publish();
        }
    }

    /// Shutdown finished.
    pub(crate) fn closed(&self) {
        let from = self.state.swap(CLOSED, Ordering::AcqRel);
        self.log(line(from, CLOSED), Some(Reason::Shutdown));
        self.publish();
    }

    /// Sets `state` unless shutdown has begun, and logs the change.
    fn observe(&self, state: u8, reason: Option<Reason>) {
        let moved = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (!matches!(current, DISCONNECTING | DISCONNECTING_IDLE | CLOSED)
                    && current != state)
                    .then_some(state)
            });
        if let Ok(from) = moved {
            self.log(line(from, state), reason);
            self.publish();
        }
    }

    fn log(&self, line: Option<Line>, reason: Option<Reason>) {
        let Some(line) = line else { return };
        let roles = self.roles.get().map_or("-", |roles| &**roles);
        match (line, reason) {
            (Line::Connecting, _) => {
                tracing::info!(target: CONNECTION_TARGET, roles, "MongoDB connecting");
            }
            (Line::Connected, _) => {
                tracing::info!(target: CONNECTION_TARGET, roles, "MongoDB connected");
            }
            (Line::Disconnecting, _) => {
                tracing::info!(target: CONNECTION_TARGET, roles, "MongoDB disconnecting");
            }
            (Line::Disconnected, Some(Reason::Shutdown)) => {
                tracing::info!(target: CONNECTION_TARGET, roles, reason = "shutdown", "MongoDB disconnected");
            }
            (Line::Disconnected, Some(Reason::NotCreated)) => {
                tracing::warn!(target: CONNECTION_TARGET, roles, reason = "the client could not be created", "MongoDB disconnected");
            }
            (Line::Disconnected, Some(Reason::Unreachable(errors))) => {
                tracing::warn!(target: CONNECTION_TARGET, roles, reason = "no server answers", errors, "MongoDB disconnected");
            }
            (Line::Disconnected, None) => {
                tracing::warn!(target: CONNECTION_TARGET, roles, reason = "no server answers", "MongoDB disconnected");
            }
        }
    }

    /// The driver's SDAM event handler for the client whose state this is. Heartbeats are
    /// ignored: only a change of the deployment's description can change the state.
    pub(crate) fn event_handler(self: &Arc<Self>) -> EventHandler<SdamEvent> {
        let cell = Arc::clone(self);
        EventHandler::callback(move |event| {
            if let SdamEvent::TopologyDescriptionChanged(change) = event {
                let (state, reason) = topology_state(&change.new_description);
                cell.observe(state, reason);
            }
        })
    }
}

/// Connected when any server has answered its monitor; disconnected when every server's last
/// check failed (with the kinds of error, never their messages); connecting while the servers
/// are unknown without error (not checked yet).
fn topology_state(topology: &TopologyDescription) -> (u8, Option<Reason>) {
    let servers = topology.servers();
    if servers
        .values()
        .any(|s| s.server_type() != ServerType::Unknown)
    {
        (CONNECTED, None)
    } else if servers.values().any(|s| s.error().is_some()) {
        let mut kinds: Vec<String> = servers
            .values()
            .filter_map(|s| s.error())
            .map(error_kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        (DISCONNECTED, Some(Reason::Unreachable(kinds.join(","))))
    } else {
        (CONNECTING, None)
    }
}

/// The kind of a driver error, for a log line: the variant's name (`Command`, `Io`,
/// `ServerSelection`, …), with the I/O error's kind for `Io` (`Io(ConnectionRefused)`). Never
/// the message: a server's message can quote what it was sent, and the driver's can quote
/// the topology.
pub(crate) fn error_kind(err: &Error) -> String {
    if let ErrorKind::Io(io) = err.kind.as_ref() {
        return format!("Io({:?})", io.kind());
    }
    // `ErrorKind` is non-exhaustive; its derived `Debug` starts with the variant's name.
    let debug = format!("{:?}", err.kind);
    debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The server's error code and code name (`11000`, `DuplicateKey`) when the server answered
/// with one: names fixed by the server, unlike its messages.
pub(crate) fn error_code(err: &Error) -> Option<(i32, &str)> {
    match err.kind.as_ref() {
        ErrorKind::Command(e) => Some((e.code, &e.code_name)),
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => Some((e.code, &e.code_name)),
        ErrorKind::Write(WriteFailure::WriteError(e)) => {
            Some((e.code, e.code_name.as_deref().unwrap_or("")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_cell_is_disconnected_and_shutdown_is_final() {
        let cell = StateCell::default();
        assert_eq!(cell.get(), ConnectionState::Disconnected);
        cell.client_created("main".into());
        assert_eq!(cell.get(), ConnectionState::Connecting);
        cell.answered();
        assert_eq!(cell.get(), ConnectionState::Connected);
        cell.closing();
        cell.answered();
        assert_eq!(cell.get(), ConnectionState::Disconnecting);
        cell.closed();
        cell.closing();
        cell.answered();
        assert_eq!(cell.get(), ConnectionState::Disconnected);
    }

    #[test]
    fn a_cell_that_was_never_connected_shuts_down_as_disconnecting_then_disconnected() {
        let cell = StateCell::default();
        cell.closing();
        assert_eq!(cell.get(), ConnectionState::Disconnecting);
        cell.answered();
        assert_eq!(cell.get(), ConnectionState::Disconnecting);
        cell.closed();
        assert_eq!(cell.get(), ConnectionState::Disconnected);
    }

    /// A recorder that counts the gauges looked up, which `publish` does once per state.
    #[derive(Default)]
    struct GaugeLookups(std::sync::atomic::AtomicUsize);

    impl metrics::Recorder for GaugeLookups {
        fn describe_counter(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_gauge(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_histogram(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn register_counter(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Counter {
            metrics::Counter::noop()
        }
        fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
            assert_eq!(key.name(), "mongodb_client_state");
            self.0.fetch_add(1, Ordering::AcqRel);
            metrics::Gauge::noop()
        }
        fn register_histogram(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Histogram {
            metrics::Histogram::noop()
        }
    }

    #[test]
    fn the_state_gauge_is_set_on_changes_only_never_per_heartbeat() {
        let recorder = GaugeLookups::default();
        metrics::with_local_recorder(&recorder, || {
            let cell = StateCell::default();
            cell.answered();
            assert_eq!(recorder.0.load(Ordering::Acquire), 0, "no roles, no series");
            cell.serves("main,masteradmin".into());
            assert_eq!(recorder.0.load(Ordering::Acquire), STATES.len());
            for _ in 0..10 {
                // What every heartbeat of a healthy deployment amounts to: no change.
                cell.observe(CONNECTED, None);
            }
            assert_eq!(recorder.0.load(Ordering::Acquire), STATES.len());
            cell.observe(DISCONNECTED, None);
            assert_eq!(recorder.0.load(Ordering::Acquire), 2 * STATES.len());
        });
    }

    #[test]
    fn only_a_change_of_state_gets_a_line() {
        for state in [DISCONNECTED, CONNECTED, CONNECTING, DISCONNECTING, CLOSED] {
            assert_eq!(line(state, state), None, "{state}");
        }
        assert_eq!(line(DISCONNECTED, CONNECTING), Some(Line::Connecting));
        assert_eq!(line(CONNECTING, CONNECTED), Some(Line::Connected));
        assert_eq!(line(CONNECTED, DISCONNECTED), Some(Line::Disconnected));
        assert_eq!(line(DISCONNECTED, CONNECTED), Some(Line::Connected));
        assert_eq!(line(CONNECTED, DISCONNECTING), Some(Line::Disconnecting));
        assert_eq!(line(DISCONNECTING, CLOSED), Some(Line::Disconnected));
        // Shutting down a client that never connected, or already closed: nothing to say.
        assert_eq!(line(DISCONNECTED, DISCONNECTING_IDLE), None);
        assert_eq!(line(DISCONNECTING_IDLE, CLOSED), None);
        assert_eq!(line(CLOSED, CLOSED), None);
    }

    #[test]
    fn error_kinds_name_the_variant_and_never_the_message() {
        let io = Error::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused by S3cret",
        ));
        assert_eq!(error_kind(&io), "Io(ConnectionRefused)");
        assert_eq!(error_code(&io), None);
        let custom = Error::custom("S3cret");
        let kind = error_kind(&custom);
        assert_eq!(kind, "Custom");
    }
}
