//! A proxy that answers nothing: Chromium is told to send all traffic through it, so anything a
//! page manages to send past request interception (a WebSocket, a worker's fetch) ends on
//! loopback, inside this process, instead of leaving the machine.

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct BlackholeProxy {
    port: u16,
    task: JoinHandle<()>,
}

impl BlackholeProxy {
    pub async fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the black-hole proxy on loopback")?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                // Chromium's own background services land here too (they are not pages' requests).
                tracing::debug!("black-hole proxy dropped a connection");
                drop(socket);
            }
        });
        Ok(Self { port, task })
    }

    /// The value for Chromium's `--proxy-server`.
    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for BlackholeProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
