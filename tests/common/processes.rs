//! The real `kiln serve` and `kiln worker` binaries as child processes, and a blocking HTTP
//! client to talk to them.

use super::kiln_command;
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
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
                let _ = sender.send(Ok(rest.to_string()));
            }
            log.push(line);
        }
        let _ = sender.send(Err(log.join("\n")));
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(rest)) => (child, rest),
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
}

impl Worker {
    /// Starts `kiln worker` over its own data dir `dir` and waits until it takes jobs.
    pub fn start(dir: &Path, config: &str, env: &[(&str, String)]) -> Self {
        let (child, rest) = spawn_until(
            dir,
            "kiln-worker.toml",
            config,
            &["worker"],
            env,
            "kiln: worker ",
        );
        let name = rest.trim_end_matches(" taking jobs").to_string();
        Self { child, name }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill_9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
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
