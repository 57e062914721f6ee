//! What Linux says about a process (CPU time, peak memory, TCP connections) and about the
//! machine, read from `/proc` with the `procfs` crate. Only the choice of what to count is
//! ours, so only that is tested here.

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use procfs::net::{TcpNetEntry, TcpState};
use procfs::process::{FDTarget, Process};
use procfs::{Current, KernelVersion, LoadAverage, Meminfo};

fn process(pid: u32) -> Option<Process> {
    Process::new(i32::try_from(pid).ok()?).ok()
}

/// User plus system CPU time of every thread of `pid` so far (`utime + stime` of
/// `/proc/PID/stat`).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = process(pid)?.stat().ok()?;
    let ticks = stat.utime + stat.stime;
    Some(Duration::from_secs_f64(
        ticks as f64 / procfs::ticks_per_second() as f64,
    ))
}

/// CPU time of this process (for the raw-driver column, whose driver runs in-process).
pub fn own_cpu_time() -> Option<Duration> {
    cpu_time(std::process::id())
}

/// The peak resident set size of `pid` so far, in bytes (`VmHWM` of `/proc/PID/status`).
pub fn peak_rss(pid: u32) -> Option<u64> {
    let kib = process(pid)?.status().ok()?.vmhwm?;
    Some(kib * 1024)
}

/// How many ESTABLISHED TCP connections `pid` holds to each of `ports` (any address), in the
/// order of `ports`: its socket inodes (`/proc/PID/fd`) matched against `/proc/PID/net/tcp{,6}`.
/// The tables list every socket of the network namespace; the inodes keep the process's own.
pub fn established_to(pid: u32, ports: &[u16]) -> Vec<usize> {
    let Some(process) = process(pid) else {
        return vec![0; ports.len()];
    };
    let inodes: HashSet<u64> = match process.fd() {
        Ok(fds) => fds
            .filter_map(|fd| match fd.ok()?.target {
                FDTarget::Socket(inode) => Some(inode),
                _ => None,
            })
            .collect(),
        Err(_) => HashSet::new(),
    };
    let rows = [process.tcp(), process.tcp6()]
        .into_iter()
        .flat_map(Result::unwrap_or_default)
        .map(|entry| TcpRow::from(&entry));
    count_established(rows, &inodes, ports)
}

/// What counting needs of one socket-table row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRow {
    pub remote_port: u16,
    pub established: bool,
    pub inode: u64,
}

impl From<&TcpNetEntry> for TcpRow {
    fn from(entry: &TcpNetEntry) -> TcpRow {
        TcpRow {
            remote_port: entry.remote_address.port(),
            established: entry.state == TcpState::Established,
            inode: entry.inode,
        }
    }
}

/// Per port of `ports`, the ESTABLISHED rows whose socket is one of `inodes`.
pub fn count_established(
    rows: impl IntoIterator<Item = TcpRow>,
    inodes: &HashSet<u64>,
    ports: &[u16],
) -> Vec<usize> {
    let mut counts = vec![0; ports.len()];
    for row in rows {
        if !row.established || !inodes.contains(&row.inode) {
            continue;
        }
        if let Some(i) = ports.iter().position(|&p| p == row.remote_port) {
            counts[i] += 1;
        }
    }
    counts
}

/// The machine the numbers were measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub kernel: String,
    pub rustc: String,
    pub memory: String,
    /// The 1-minute load average when described: other work on the machine shows here.
    pub load: String,
}

impl Machine {
    /// Read from `/proc` and `rustc --version`; what cannot be read is `unknown`.
    pub fn describe() -> Machine {
        let unknown = || "unknown".to_owned();
        let cpuinfo = procfs::CpuInfo::current().ok();
        Machine {
            // The machine's CPUs, not this process's share of them (it may be pinned).
            cores: cpuinfo.as_ref().map_or(0, |c| c.num_cores()),
            cpu: cpuinfo
                .as_ref()
                .and_then(|c| c.model_name(0).map(str::to_owned))
                .unwrap_or_else(unknown),
            kernel: KernelVersion::current()
                .map(|v| format!("{}.{}.{}", v.major, v.minor, v.patch))
                .unwrap_or_else(|_| unknown()),
            rustc: rustc_version().unwrap_or_else(unknown),
            memory: Meminfo::current()
                .map(|m| format!("{:.1} GiB", m.mem_total as f64 / f64::from(1 << 30)))
                .unwrap_or_else(|_| unknown()),
            load: load_average().unwrap_or_else(unknown),
        }
    }
}

/// The 1-minute load average, as `/proc/loadavg` shows it.
pub fn load_average() -> Option<String> {
    LoadAverage::current()
        .ok()
        .map(|load| format!("{:.2}", load.one))
}

fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!version.is_empty()).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(remote_port: u16, established: bool, inode: u64) -> TcpRow {
        TcpRow {
            remote_port,
            established,
            inode,
        }
    }

    #[test]
    fn only_established_sockets_of_the_process_count_per_port() {
        let ours: HashSet<u64> = [1, 2, 3, 4].into();
        let rows = [
            row(27017, true, 1),
            row(27017, true, 2),
            row(27018, true, 3),
            // Closing, another process's, another port.
            row(27017, false, 4),
            row(27017, true, 99),
            row(8080, true, 1),
        ];
        assert_eq!(
            count_established(rows, &ours, &[27017, 27018, 27019]),
            vec![2, 1, 0]
        );
    }

    #[test]
    fn no_ports_count_nothing() {
        let rows = [row(27017, true, 1)];
        assert!(count_established(rows, &[1].into(), &[]).is_empty());
    }

    #[test]
    fn this_process_has_a_cpu_time_and_a_peak_rss() {
        assert!(own_cpu_time().is_some());
        assert!(peak_rss(std::process::id()).is_some_and(|bytes| bytes > 0));
    }
}
