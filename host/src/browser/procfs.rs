//! What Kiln reads of Chromium's processes in Linux's `/proc`: whether one runs, its children,
//! its command line, and how much memory of its own it holds.

use std::collections::BTreeSet;

/// Whether `pid` is a live process (not gone, not a zombie).
pub fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}

/// `pid`'s children, from every one of its threads (a child is listed under the thread that
/// forked it).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// All processes below `pid` (not `pid` itself).
pub fn descendants(pid: u32) -> BTreeSet<u32> {
    let mut found = BTreeSet::new();
    let mut todo = children(pid);
    while let Some(next) = todo.pop() {
        if found.insert(next) {
            todo.extend(children(next));
        }
    }
    found
}

/// The command line of `pid`, arguments joined by spaces ("" once it is gone).
pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
        .unwrap_or_default()
}

/// The command lines of every process this one may see.
pub fn all_cmdlines() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .map(cmdline)
        .filter(|c| !c.is_empty())
        .collect()
}

/// The value of `key` in `/proc/<pid>/status`.
pub fn status_field(pid: u32, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// Memory `pid` holds of its own, in KiB: resident anonymous pages plus resident shared memory
/// (`RssAnon + RssShmem`). Leaves out the mapped Chromium binary and fonts, which every renderer
/// shares.
pub fn private_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| {
        status.lines().find_map(|line| {
            line.strip_prefix(key)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    Some(field("RssAnon:")? + field("RssShmem:").unwrap_or(0))
}

/// Sends SIGKILL to `pid` (best effort: it may be gone already).
pub fn kill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_a_reaped_child_does_not() {
        assert!(process_running(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_running(pid));
    }

    #[test]
    fn a_child_is_found_with_its_command_line_and_memory() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(descendants(std::process::id()).contains(&pid));
        // Until the child has exec'd, its command line is still this process's.
        let started = std::time::Instant::now();
        while cmdline(pid) != "sleep 30 " && started.elapsed().as_secs() < 5 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(cmdline(pid), "sleep 30 ");
        assert!(private_memory_kib(pid).is_some_and(|kib| kib > 0));
        kill(pid);
        child.wait().unwrap();
        assert!(!process_running(pid));
    }
}
