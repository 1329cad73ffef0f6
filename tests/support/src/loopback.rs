//! Test servers run as child processes on loopback: a free port, a readiness probe, and a kill
//! when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test tool's executable: the path in `env_var`, else `default` (relative to the workspace),
/// where `tests/run.sh` installs it. Panics, saying to run `tests/run.sh`, when it is missing.
pub fn test_tool(env_var: &str, default: &str, what: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env_var) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "{env_var}={} does not exist: run tests/run.sh, which installs {what}",
            path.display()
        );
        return path;
    }
    let installed = crate::workspace_dir().join(default);
    assert!(
        installed.exists(),
        "{} is missing ({env_var} is unset and {default} does not exist): run tests/run.sh, which \
         installs {what} and sets {env_var}",
        installed.display()
    );
    installed
}

/// A child process serving HTTP on a loopback port.
pub struct LoopbackServer {
    child: Option<Child>,
    pub port: u16,
}

impl LoopbackServer {
    /// Runs `command` (which must listen on `port`) and waits up to 30 s until `GET
    /// http://127.0.0.1:<port><probe>` gets any HTTP answer.
    pub fn start(mut command: Command, port: u16, probe: &str) -> Self {
        let name = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking::get(format!("http://127.0.0.1:{port}{probe}")).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{name} exited with {status} before answering on port {port}");
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not answer on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child: Some(child),
            port,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One POST a [`post_receiver`] took: the status it answered, the request head, the body.
pub type Delivery = (u16, String, Vec<u8>);

/// A one-thread HTTP receiver on loopback for webhooks and callbacks: answers each POST to its
/// URL (`path` on a free port) with the next status of `statuses` (then 200) and hands over each
/// [`Delivery`].
pub fn post_receiver(
    path: &str,
    statuses: Vec<u16>,
) -> (String, std::sync::mpsc::Receiver<Delivery>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    let (sender, deliveries) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = statuses.next().unwrap_or(200);
            write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .unwrap();
            let _ = sender.send((status, head, body));
        }
    });
    (url, deliveries)
}
