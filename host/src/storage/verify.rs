//! CDN verification: after a put, `HEAD` the artifact's public URL until it answers 200.

use super::settings::StorageSettings;
use crate::error::RenderError;
use anyhow::{Context, Result};
use std::time::Duration;

/// Checks that a public URL serves an artifact, with bounded, backed-off retries.
pub struct PublicUrlCheck {
    client: reqwest::Client,
    attempts: u32,
    backoff: Duration,
    max_backoff: Duration,
}

impl PublicUrlCheck {
    /// The check `settings` ask for (`storage.verify_*`).
    pub fn new(settings: &StorageSettings) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.verify_timeout_ms))
            .build()
            .context("building the HTTP client for storage.verify_public_url")?;
        Ok(Self {
            client,
            attempts: settings.verify_attempts.max(1),
            backoff: Duration::from_millis(settings.verify_backoff_ms),
            max_backoff: Duration::from_millis(settings.verify_max_backoff_ms),
        })
    }

    /// Sends `HEAD url` until it answers 200. Gives up after the configured attempts with an
    /// `unavailable` error naming the URL and the last status or error.
    pub async fn wait_until_served(&self, url: &str) -> Result<(), RenderError> {
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            match self.client.head(url).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return Ok(()),
                Ok(response) => last = format!("HTTP {}", response.status()),
                Err(err) => last = super::error_chain(&err),
            }
            tracing::debug!(url, attempt, last, "public URL not served yet");
            if attempt < self.attempts {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(self.max_backoff);
            }
        }
        Err(RenderError::unavailable(format!(
            "the artifact was stored but its public URL {url} did not answer 200 to {} HEAD requests \
             (last: {last}); check that storage.public_base_url serves this store's keys, or raise \
             storage.verify_attempts / storage.verify_max_backoff_ms if the CDN is slow to see new objects",
            self.attempts
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback HTTP server that answers each request with the next status in `statuses`
    /// (the last one repeated) and counts requests.
    async fn server(statuses: Vec<u16>) -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/job/image.png", listener.local_addr().unwrap());
        let count = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as usize;
                let status = statuses[n.min(statuses.len() - 1)];
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        (url, count)
    }

    fn check(attempts: u32) -> PublicUrlCheck {
        PublicUrlCheck::new(&StorageSettings {
            verify_attempts: attempts,
            verify_backoff_ms: 10,
            verify_max_backoff_ms: 20,
            verify_timeout_ms: 1000,
            ..StorageSettings::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn retries_until_200() {
        let (url, count) = server(vec![404, 404, 200]).await;
        check(5).wait_until_served(&url).await.unwrap();
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_attempts_with_the_last_status() {
        let (url, count) = server(vec![503, 404]).await;
        let err = check(3).wait_until_served(&url).await.unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Unavailable);
        assert!(
            err.message.contains(&url)
                && err.message.contains("3 HEAD requests")
                && err.message.contains("last: HTTP 404"),
            "{}",
            err.message
        );
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refused_connection_is_the_last_error() {
        // Bind, then drop, to get a port where nothing listens.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/x");
        let err = check(2).wait_until_served(&url).await.unwrap_err();
        assert!(
            err.message.to_lowercase().contains("refused"),
            "{}",
            err.message
        );
    }
}
