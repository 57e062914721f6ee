//! How many commands of each kind a client has sent, counted from the driver's command
//! monitoring events: how tests and operators see what reached the database (one ping per
//! health interval, one index build despite a hundred writes), without trusting our own code
//! to count itself. The same events become `debug` lines: names, durations and outcomes only,
//! and metrics through the `metrics` facade, labelled with the client's `roles` and the
//! command's name (one of [`COUNTED`] or `other`, so that the label stays bounded):
//! `mongodb_commands_total{roles,command,outcome}` (`succeeded` or `failed`),
//! `mongodb_command_duration_seconds{roles,command}` and, for failures,
//! `mongodb_command_errors_total{roles,command,error}` (the server's code name, else the
//! driver's kind of error).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use metrics::{Counter, Histogram};
use mongodb::event::command::CommandEvent;
use mongodb::event::EventHandler;

use crate::state::{error_code, error_kind};

/// The target of the driver's command, pool and server events turned into `debug` lines:
/// `RUST_LOG=info,adapters_mongo::events=debug` shows them.
pub(crate) const EVENTS_TARGET: &str = "adapters_mongo::events";

/// A function given every command event of every client
/// ([`MongoSettings::with_command_event_handler`](crate::MongoSettings::with_command_event_handler)):
/// how a test sees the `writeConcern`, `readConcern` or `$readPreference` a command carried,
/// without this crate keeping any command body.
pub type CommandObserver = Arc<dyn Fn(&CommandEvent) + Send + Sync>;

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

/// The metric handles of one command name (one of [`COUNTED`], or `other`), resolved on the
/// client's first command of that name: later events cost atomics, not a registry lookup,
/// and names never sent make no series.
struct CommandHandles {
    succeeded: Counter,
    failed: Counter,
    duration: Histogram,
}

impl CommandHandles {
    fn new(roles: &str, command: &'static str) -> Self {
        let total = |outcome: &'static str| {
            metrics::counter!(
                "mongodb_commands_total",
                "roles" => roles.to_owned(),
                "command" => command,
                "outcome" => outcome
            )
        };
        Self {
            succeeded: total("succeeded"),
            failed: total("failed"),
            duration: metrics::histogram!(
                "mongodb_command_duration_seconds",
                "roles" => roles.to_owned(),
                "command" => command
            ),
        }
    }
}

/// The command metrics of one client serving `roles`.
struct CommandMetrics {
    roles: Arc<str>,
    /// Per counted name, then `other`.
    handles: Vec<OnceLock<CommandHandles>>,
}

impl CommandMetrics {
    fn new(roles: Arc<str>) -> Self {
        Self {
            roles,
            handles: (0..=COUNTED.len()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The handles of the command `name`, created on first use.
    fn of(&self, name: &str) -> &CommandHandles {
        let index = index(name);
        self.handles[index].get_or_init(|| CommandHandles::new(&self.roles, label(index)))
    }
}

/// The `command` label of the name at `index`: the name if counted, else `other`.
fn label(index: usize) -> &'static str {
    COUNTED.get(index).copied().unwrap_or("other")
}

/// The index of `name` in [`COUNTED`], or `COUNTED.len()` for any other name.
fn index(name: &str) -> usize {
    COUNTED
        .iter()
        .position(|counted| *counted == name)
        .unwrap_or(COUNTED.len())
}

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
        self.started.get(index(name)).unwrap_or(&self.other)
    }

    /// The driver's command event handler for the client whose commands these are, serving
    /// `roles` (`main,masteradmin`). Besides counting, it writes each event at `debug` (target
    /// [`EVENTS_TARGET`]): the command's name, duration and outcome (a failure's kind and
    /// code), never its body, its reply or a failure's message, which can quote stored data
    /// (an admin's password hash) or what the server was sent.
    /// Each event is first given to `observer`, if there is one.
    pub(crate) fn event_handler(
        self: &Arc<Self>,
        roles: Arc<str>,
        observer: Option<CommandObserver>,
    ) -> EventHandler<CommandEvent> {
        let counter = Arc::clone(self);
        let metrics = CommandMetrics::new(Arc::clone(&roles));
        EventHandler::callback(move |event| match observed(observer.as_ref(), event) {
            CommandEvent::Started(started) => {
                counter
                    .slot(&started.command_name)
                    .fetch_add(1, Ordering::AcqRel);
                tracing::debug!(
                    target: EVENTS_TARGET,
                    roles = &*roles,
                    command = started.command_name,
                    driver_request_id = started.request_id,
                    server = %started.connection.address,
                    "command started"
                );
            }
            CommandEvent::Succeeded(succeeded) => {
                let handles = metrics.of(&succeeded.command_name);
                handles.succeeded.increment(1);
                handles.duration.record(succeeded.duration.as_secs_f64());
                tracing::debug!(
                    target: EVENTS_TARGET,
                    roles = &*roles,
                    command = succeeded.command_name,
                    driver_request_id = succeeded.request_id,
                    duration_ms = succeeded.duration.as_secs_f64() * 1000.0,
                    "command succeeded"
                );
            }
            CommandEvent::Failed(failed) => {
                let (code, code_name) = error_code(&failed.failure).unzip();
                let handles = metrics.of(&failed.command_name);
                handles.failed.increment(1);
                handles.duration.record(failed.duration.as_secs_f64());
                // Failures are rare: their label set is looked up per event. Code names are
                // the server's fixed vocabulary, kinds the driver's enum: bounded either way.
                let error = code_name
                    .filter(|name| !name.is_empty())
                    .map_or_else(|| error_kind(&failed.failure), str::to_owned);
                metrics::counter!(
                    "mongodb_command_errors_total",
                    "roles" => roles.to_string(),
                    "command" => label(index(&failed.command_name)),
                    "error" => error
                )
                .increment(1);
                tracing::debug!(
                    target: EVENTS_TARGET,
                    roles = &*roles,
                    command = failed.command_name,
                    driver_request_id = failed.request_id,
                    duration_ms = failed.duration.as_secs_f64() * 1000.0,
                    error = error_kind(&failed.failure),
                    code,
                    code_name,
                    "command failed"
                );
            }
            _ => {}
        })
    }
}

/// `event`, once `observer` has seen it.
fn observed(observer: Option<&CommandObserver>, event: CommandEvent) -> CommandEvent {
    if let Some(observer) = observer {
        observer(&event);
    }
    event
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
