//! A real S3-compatible server for the storage tests: moto's `moto_server` on loopback.

use crate::loopback::{LoopbackServer, free_port, test_tool};
use std::collections::BTreeMap;
use std::process::Command;

/// A running moto server, killed when dropped.
pub struct Moto {
    pub server: LoopbackServer,
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts moto on `port` (e.g. again after [`Moto::stop`]; it starts empty).
    pub fn start_on(port: u16) -> Self {
        let binary = test_tool(
            "KILN_TEST_MOTO_SERVER",
            ".kiln/test-venv/bin/moto_server",
            "moto[server] into .kiln/test-venv",
        );
        let mut command = Command::new(binary);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self {
            server: LoopbackServer::start(command, port, "/"),
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// `http://127.0.0.1:<port>`, the endpoint for `aws_endpoint`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
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
    pub fn options(&self) -> BTreeMap<String, String> {
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
        self.server.stop();
    }
}
