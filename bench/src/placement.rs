//! Which CPUs the server and the stack under test run on: on 2 cores, the server on one and
//! everything measured on the other, so that they do not take CPU from each other.

use std::process::{Command, Stdio};

/// Which CPUs the server and the stack under test run on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement {
    /// The CPU of the nx-27017 servers, if pinned.
    pub server: Option<usize>,
    /// How many CPUs this process (and so the app it spawns) keeps, if pinned.
    pub others: Option<usize>,
}

impl Placement {
    pub fn describe(self) -> String {
        match (self.server, self.others) {
            (Some(server), Some(1)) => format!(
                "nx-27017 pinned to CPU {server}; the app and the load generator (or the raw \
                 driver) share CPU {}",
                server + 1
            ),
            (Some(server), Some(n)) => format!(
                "nx-27017 pinned to CPU {server}; the app and the load generator (or the raw \
                 driver) on the other {n} CPUs"
            ),
            _ => "not pinned: the scheduler places every process".to_owned(),
        }
    }
}

/// Keeps CPU 0 for the server: moves every thread of this process (and so the app processes
/// it spawns, which inherit the mask) to CPUs 1…n-1. With one CPU there is nothing to split.
pub fn pin_self() -> Result<Placement, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return Ok(Placement::default());
    }
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &format!("1-{}", cores - 1)])
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| {
            format!("taskset (util-linux) is needed to pin CPUs, or set BENCH_PIN=false: {e}")
        })?;
    match status.success() {
        true => Ok(Placement {
            server: Some(0),
            others: Some(cores - 1),
        }),
        false => Err(format!(
            "taskset failed ({status}); set BENCH_PIN=false to run unpinned"
        )),
    }
}
