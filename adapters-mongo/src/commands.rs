//! How many commands of each kind a client has sent, counted from the driver's command
//! monitoring events: how tests and operators see what reached the database (one ping per
//! health interval, one index build despite a hundred writes), without trusting our own code
//! to count itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mongodb::event::command::CommandEvent;
use mongodb::event::EventHandler;

/// The command names counted one by one; any other command counts as `other`.
const COUNTED: [&str; 12] = [
    "ping",
    "hello",
    "find",
    "getMore",
    "insert",
    "update",
    "delete",
    "count",
    "aggregate",
    "createIndexes",
    "listIndexes",
    "endSessions",
];

/// The live counts of one client, shared by the roles it serves and by its event handler.
/// One atomic per command name: counting costs no lock on the request path.
#[derive(Debug, Default)]
pub(crate) struct CommandCounter {
    started: [AtomicU64; COUNTED.len()],
    other: AtomicU64,
}

impl CommandCounter {
    /// How many `name` commands the client has started (the driver's own heartbeats are not
    /// commands and are not counted).
    pub(crate) fn started(&self, name: &str) -> u64 {
        self.slot(name).load(Ordering::Acquire)
    }

    fn slot(&self, name: &str) -> &AtomicU64 {
        COUNTED
            .iter()
            .position(|counted| *counted == name)
            .map_or(&self.other, |index| &self.started[index])
    }

    /// The driver's command event handler for the client whose commands these are.
    pub(crate) fn event_handler(self: &Arc<Self>) -> EventHandler<CommandEvent> {
        let counter = Arc::clone(self);
        EventHandler::callback(move |event| {
            if let CommandEvent::Started(started) = event {
                counter
                    .slot(&started.command_name)
                    .fetch_add(1, Ordering::AcqRel);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_counted_name_has_its_own_count_and_the_rest_share_one() {
        let counter = CommandCounter::default();
        counter.slot("ping").fetch_add(2, Ordering::AcqRel);
        counter.slot("createIndexes").fetch_add(1, Ordering::AcqRel);
        counter.slot("killCursors").fetch_add(1, Ordering::AcqRel);
        assert_eq!(counter.started("ping"), 2);
        assert_eq!(counter.started("createIndexes"), 1);
        assert_eq!(counter.started("find"), 0);
        assert_eq!(counter.started("anything else"), 1);
    }
}
