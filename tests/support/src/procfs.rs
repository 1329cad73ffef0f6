//! What the tests read of processes in `/proc`: a process tree, its CPU time, command lines
//! and status lines (user, seccomp, memory).

use std::collections::BTreeSet;

/// Fields after the command name in `/proc/<pid>/stat` (field 3 onwards).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// `pids` and all their descendants that are alive now.
pub fn tree(pids: &[u32]) -> BTreeSet<u32> {
    let mut all: BTreeSet<u32> = pids.iter().copied().collect();
    let entries: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat_fields(pid)?.get(1)?.parse().ok()?)))
        .collect();
    loop {
        let before = all.len();
        for (pid, ppid) in &entries {
            if all.contains(ppid) {
                all.insert(*pid);
            }
        }
        if all.len() == before {
            return all;
        }
    }
}

/// CPU time (user + system) of `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    stat_fields(pid)
        .map(|f| f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0))
        .unwrap_or(0)
}

pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Renderer processes under `browsers`.
pub fn renderers(browsers: &[u32]) -> Vec<u32> {
    tree(browsers)
        .into_iter()
        .filter(|pid| cmdline(*pid).contains("--type=renderer"))
        .collect()
}

/// A line of `/proc/<pid>/status`, e.g. `Uid`, without its key.
pub fn status(pid: u32, key: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_string())
        })
}

/// Chromium's browser processes (not its zygotes, renderers or utilities) under `pid`.
pub fn browsers_under(pid: u32) -> Vec<u32> {
    tree(&[pid])
        .into_iter()
        .filter(|p| {
            let cmdline = cmdline(*p);
            cmdline.contains("--remote-debugging-pipe") && !cmdline.contains("--type=")
        })
        .collect()
}
