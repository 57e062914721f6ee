//! The connection state of one client, kept current from the driver's monitoring events.
//!
//! The states are Mongoose's `readyState`: a client that does not exist yet is disconnected;
//! once created it is connecting until its monitor hears from a server; connected while any
//! server of the deployment answers; disconnected when none does (the driver keeps retrying,
//! and the state follows when a server answers again); disconnecting, then disconnected, on
//! shutdown, after which events no longer change it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use mongodb::event::sdam::{SdamEvent, TopologyDescription};
use mongodb::event::EventHandler;
use mongodb::ServerType;
use ports::ConnectionState;

const DISCONNECTED: u8 = 0;
const CONNECTED: u8 = 1;
const CONNECTING: u8 = 2;
const DISCONNECTING: u8 = 3;
/// Shut down: disconnected for good, whatever events still arrive.
const CLOSED: u8 = 4;

/// The state of one client, shared by the roles it serves and by its event handler.
#[derive(Debug, Default)]
pub(crate) struct StateCell(AtomicU8);

impl StateCell {
    pub(crate) fn get(&self) -> ConnectionState {
        match self.0.load(Ordering::Acquire) {
            CONNECTED => ConnectionState::Connected,
            CONNECTING => ConnectionState::Connecting,
            DISCONNECTING => ConnectionState::Disconnecting,
            _ => ConnectionState::Disconnected,
        }
    }

    /// The client is being created.
    pub(crate) fn client_created(&self) {
        self.observe(CONNECTING);
    }

    /// The client could not be created: there is none to connect.
    pub(crate) fn creation_failed(&self) {
        self.observe(DISCONNECTED);
    }

    /// An operation got an answer: a server is reachable now, whatever the last event said.
    pub(crate) fn answered(&self) {
        self.observe(CONNECTED);
    }

    /// Shutdown started: only [`Self::closed`] changes the state from now on.
    pub(crate) fn closing(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current != CLOSED).then_some(DISCONNECTING)
            });
    }

    /// Shutdown finished.
    pub(crate) fn closed(&self) {
        self.0.store(CLOSED, Ordering::Release);
    }

    /// Sets `state` unless shutdown has begun.
    fn observe(&self, state: u8) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current != DISCONNECTING && current != CLOSED && current != state).then_some(state)
            });
    }

    /// The driver's SDAM event handler for the client whose state this is.
    pub(crate) fn event_handler(self: &Arc<Self>) -> EventHandler<SdamEvent> {
        let cell = Arc::clone(self);
        EventHandler::callback(move |event| {
            if let SdamEvent::TopologyDescriptionChanged(change) = event {
                cell.observe(topology_state(&change.new_description));
            }
        })
    }
}

/// Connected when any server has answered its monitor; disconnected when every server's last
/// check failed; connecting while the servers are unknown without error (not checked yet).
fn topology_state(topology: &TopologyDescription) -> u8 {
    let servers = topology.servers();
    if servers
        .values()
        .any(|s| s.server_type() != ServerType::Unknown)
    {
        CONNECTED
    } else if servers.values().any(|s| s.error().is_some()) {
        DISCONNECTED
    } else {
        CONNECTING
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_cell_is_disconnected_and_shutdown_is_final() {
        let cell = StateCell::default();
        assert_eq!(cell.get(), ConnectionState::Disconnected);
        cell.client_created();
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
}
