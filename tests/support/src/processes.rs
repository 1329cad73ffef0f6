//! The real `kiln serve` and `kiln worker` binaries as child processes, and a blocking HTTP
//! client to talk to them.

use crate::kiln_command;
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Spawns `kiln --config <dir>/<config_name> <args…>` with `env`, and waits for a stderr line
/// starting with `ready_prefix`; returns the child and the rest of that line.
fn spawn_until(
    dir: &Path,
    config_name: &str,
    config: &str,
    args: &[&str],
    env: &[(&str, String)],
    ready_prefix: &'static str,
) -> (Child, String) {
    let (child, rest, _) =
        spawn_until_with_lines(dir, config_name, config, args, env, ready_prefix);
    (child, rest)
}

/// As [`spawn_until`], also returning the stderr lines printed before the ready line.
fn spawn_until_with_lines(
    dir: &Path,
    config_name: &str,
    config: &str,
    args: &[&str],
    env: &[(&str, String)],
    ready_prefix: &'static str,
) -> (Child, String, Vec<String>) {
    let config_path = dir.join(config_name);
    std::fs::write(&config_path, config).unwrap();
    let mut command = kiln_command(dir);
    command
        .arg("--config")
        .arg(&config_path)
        .args(args)
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("kiln starts");
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut log = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(ready_prefix) {
                let _ = sender.send(Ok((rest.to_string(), log.clone())));
            }
            log.push(line);
        }
        let _ = sender.send(Err(log.join("\n")));
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok((rest, before))) => (child, rest, before),
        Ok(Err(log)) => panic!("kiln {args:?} exited before it was ready:\n{log}"),
        Err(_) => panic!("kiln {args:?} printed no {ready_prefix:?} line within 60 s"),
    }
}

/// A `kiln serve` process on a free port, over a data dir.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `kiln serve` on `dir` with `config` (TOML) and waits for its address.
    pub fn start(dir: &Path, config: &str) -> Self {
        Self::start_with(dir, config, &[], &[])
    }

    /// As [`Self::start`], with extra `serve` arguments (`--api-only`) and environment.
    pub fn start_with(dir: &Path, config: &str, args: &[&str], env: &[(&str, String)]) -> Self {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let (child, base) = spawn_until(dir, "kiln.toml", config, &all, env, "kiln: listening on ");
        Self { child, base }
    }

    /// As [`Self::start_with`]; also returns what it printed on stderr before its "listening
    /// on" line.
    pub fn start_with_lines(
        dir: &Path,
        config: &str,
        args: &[&str],
        env: &[(&str, String)],
    ) -> (Self, Vec<String>) {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let (child, base, before) =
            spawn_until_with_lines(dir, "kiln.toml", config, &all, env, "kiln: listening on ");
        (Self { child, base }, before)
    }

    /// `kiln serve --listen <listen> <args…>`; also returns what it printed on stderr before
    /// its "listening on" line.
    pub fn start_listening(
        dir: &Path,
        config: &str,
        listen: &str,
        args: &[&str],
    ) -> (Self, Vec<String>) {
        let mut all = vec!["serve", "--listen", listen];
        all.extend_from_slice(args);
        let (child, base, before) =
            spawn_until_with_lines(dir, "kiln.toml", config, &all, &[], "kiln: listening on ");
        (Self { child, base }, before)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill_9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM, as an init system or a container runtime stops a service.
    pub fn sigterm(&self) {
        sigterm(self.child.id());
    }

    /// Waits up to `limit` for the process to exit; panics if it is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        wait_exit(&mut self.child, limit)
    }
}

/// Sends SIGTERM to `pid`.
pub fn sigterm(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM {pid} failed");
}

/// Waits up to `limit` for `child` to exit.
fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "the process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kiln worker` process.
pub struct Worker {
    child: Child,
    /// Its consumer name in the Redis worker group.
    pub name: String,
    /// Where it serves `/health`, `/ready` and `/metrics` (`service.worker_listen`), when it
    /// serves them: `http://host:port`.
    pub probes_url: Option<String>,
}

impl Worker {
    /// Starts `kiln worker` over its own data dir `dir` and waits until it takes jobs.
    pub fn start(dir: &Path, config: &str, env: &[(&str, String)]) -> Self {
        let (child, rest, before) = spawn_until_with_lines(
            dir,
            "kiln-worker.toml",
            config,
            &["worker"],
            env,
            "kiln: worker ",
        );
        let name = rest.trim_end_matches(" taking jobs").to_string();
        let probes_url = before
            .iter()
            .find_map(|line| line.strip_prefix("kiln: probes and metrics on "))
            .map(str::to_string);
        Self {
            child,
            name,
            probes_url,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill_9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        sigterm(self.child.id());
    }

    /// Waits up to `limit` for the process to exit; panics if it is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        wait_exit(&mut self.child, limit)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// A response's status and JSON body; a panic shows the body when it is not JSON.
pub fn body(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

/// Polls `GET /jobs/{id}` until it is final.
pub fn wait_final(server: &Server, client: &Client, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (status, job) = body(
            client
                .get(server.url(&format!("/jobs/{id}")))
                .send()
                .unwrap(),
        );
        assert_eq!(status, StatusCode::OK, "{job}");
        if ["succeeded", "failed", "cancelled"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        assert!(started.elapsed() < limit, "job {id} did not finish: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
