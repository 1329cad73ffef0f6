//! A real S3-compatible server for the storage tests: moto's `moto_server` on loopback, started
//! on a free port and killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `moto_server` executable: `KILN_TEST_MOTO_SERVER`, else the one `tests/run.sh` installs
/// into `.kiln/test-venv`.
pub fn moto_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KILN_TEST_MOTO_SERVER") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "KILN_TEST_MOTO_SERVER={} does not exist: run tests/run.sh, which installs moto[server] into .kiln/test-venv",
            path.display()
        );
        return path;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.kiln/test-venv/bin/moto_server");
    assert!(
        venv.exists(),
        "moto_server is missing (KILN_TEST_MOTO_SERVER is unset and {} does not exist): run tests/run.sh, \
         which installs moto[server] into .kiln/test-venv and sets KILN_TEST_MOTO_SERVER",
        venv.display()
    );
    venv
}

/// A running moto server.
pub struct Moto {
    child: Option<Child>,
    pub port: u16,
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    /// Starts moto on `port` (e.g. again after [`Moto::stop`]; it starts empty).
    pub fn start_on(port: u16) -> Self {
        let mut child = Command::new(moto_server_binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::blocking::Client::new();
        loop {
            if client
                .get(format!("http://127.0.0.1:{port}/"))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited with {status} before answering on port {port}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child: Some(child),
            port,
        }
    }

    /// `http://127.0.0.1:<port>`, the endpoint for `aws_endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates `bucket` with a plain HTTP PUT, readable without credentials (`public-read`), so
    /// its path-style URL can stand in for a CDN.
    pub fn create_public_bucket(&self, bucket: &str) {
        let response = reqwest::blocking::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .header("x-amz-acl", "public-read")
            .send()
            .expect("moto answers");
        assert!(
            response.status().is_success(),
            "creating bucket {bucket}: {}",
            response.status()
        );
    }

    /// The `storage.options` that point an `s3://` store at this server.
    pub fn options(&self) -> std::collections::BTreeMap<String, String> {
        [
            ("aws_endpoint", self.endpoint()),
            ("aws_allow_http", "true".into()),
            ("aws_region", "us-east-1".into()),
            ("aws_access_key_id", "testing".into()),
            ("aws_secret_access_key", "testing".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Kills the server (everything it stored is lost).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}
