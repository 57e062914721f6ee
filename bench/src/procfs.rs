//! What Linux says about a process: CPU time, peak memory, TCP connections, and the machine.
//! Parsing is separate from reading so it can be tested on fixed text.

use std::collections::HashSet;
use std::fs;
use std::process::Command;
use std::time::Duration;

/// User plus system CPU time of every thread of `pid` so far (`utime + stime` of
/// `/proc/PID/stat`).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = cpu_ticks(&stat)?;
    Some(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second(),
    ))
}

/// CPU time of this process (for the raw-driver column, whose driver runs in-process).
pub fn own_cpu_time() -> Option<Duration> {
    cpu_time(std::process::id())
}

/// `utime + stime` from the text of `/proc/PID/stat`, in clock ticks.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may itself hold spaces or ')': the
    // fields that follow start after the last ')'. There, state (field 3) is index 0, so
    // utime (field 14) is index 11 and stime (field 15) index 12.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_second() -> f64 {
    // sysconf(_SC_CLK_TCK) without unsafe code: ask getconf once; 100 is Linux's USER_HZ.
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The peak resident set size of `pid` so far, in bytes (`VmHWM` of `/proc/PID/status`).
pub fn peak_rss(pid: u32) -> Option<u64> {
    vm_hwm(&fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// `VmHWM` in bytes from the text of `/proc/PID/status`.
pub fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// How many ESTABLISHED TCP connections `pid` holds to each of `ports` (any address), in the
/// order of `ports`: its socket inodes (`/proc/PID/fd`) matched against `/proc/PID/net/tcp{,6}`.
pub fn established_to(pid: u32, ports: &[u16]) -> Vec<usize> {
    let inodes = socket_inodes(pid);
    let mut counts = vec![0; ports.len()];
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for connection in parse_tcp_table(&text) {
            let ours = inodes.contains(&connection.inode);
            if let (true, true, Some(i)) = (
                ours,
                connection.established,
                ports.iter().position(|&p| p == connection.remote_port),
            ) {
                counts[i] += 1;
            }
        }
    }
    counts
}

fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    entries
        .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| socket_inode(&target.to_string_lossy()))
        .collect()
}

/// The inode of an fd link target such as `socket:[12345]`.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRow {
    pub remote_port: u16,
    pub established: bool,
    pub inode: u64,
}

/// The rows of a `/proc/net/tcp{,6}` table (header skipped, malformed rows ignored).
pub fn parse_tcp_table(text: &str) -> Vec<TcpRow> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote = fields.get(2)?;
            let port_hex = remote.rsplit(':').next()?;
            Some(TcpRow {
                remote_port: u16::from_str_radix(port_hex, 16).ok()?,
                established: *fields.get(3)? == "01",
                inode: fields.get(9)?.parse().ok()?,
            })
        })
        .collect()
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
    /// Read from `/proc` and `rustc --version`.
    pub fn describe() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let first_value = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, value)| value.trim().to_owned())
        };
        let memory = first_value(&meminfo, "MemTotal")
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        Machine {
            // The machine's CPUs, not this process's share of them (it may be pinned).
            cores: cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count(),
            load: fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into()),
            cpu: first_value(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "unknown".into()),
            rustc: Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
                .arg("--version")
                .output()
                .ok()
                .and_then(|out| String::from_utf8(out.stdout).ok())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".into()),
            memory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_add_utime_and_stime_after_a_name_with_spaces_and_parens() {
        let stat = "4242 (app (serve) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    153 47 0 0 20 0 6 0 12345 1000000 3000 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(200));
    }

    #[test]
    fn a_truncated_stat_has_no_cpu_time() {
        assert_eq!(cpu_ticks("1 (x) S 1 2 3"), None);
    }

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\tapp\nVmPeak:\t  900000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 12000 kB\n";
        assert_eq!(vm_hwm(status), Some(12345 * 1024));
        assert_eq!(vm_hwm("Name:\tapp\n"), None);
    }

    #[test]
    fn socket_links_give_their_inode_and_other_links_none() {
        assert_eq!(socket_inode("socket:[98765]"), Some(98765));
        assert_eq!(socket_inode("pipe:[98765]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn tcp_rows_give_the_remote_port_state_and_inode() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:D431 0100007F:6989 01 00000000:00000000 00:00000000 00000000     0        0 55501 1 0000000000000000 20 4 30 10 -1\n\
   1: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55502 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(
            parse_tcp_table(table),
            vec![
                TcpRow {
                    remote_port: 0x6989,
                    established: true,
                    inode: 55501
                },
                TcpRow {
                    remote_port: 0,
                    established: false,
                    inode: 55502
                },
            ]
        );
    }

    #[test]
    fn tcp6_rows_parse_the_same_way() {
        let table = "header\n   0: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:6989 01 00000000:00000000 00:00000000 00000000 0 0 77 1\n";
        assert_eq!(parse_tcp_table(table)[0].remote_port, 0x6989);
        assert_eq!(parse_tcp_table(table)[0].inode, 77);
    }
}
