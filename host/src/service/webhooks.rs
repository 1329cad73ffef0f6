//! Webhooks: when a job that named a `callback` ends, its record is POSTed there, signed with
//! HMAC-SHA256 over the body (`X-Kiln-Signature: sha256=<hex>`), and retried with backoff until
//! the receiver answers 2xx or the attempts run out.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub secret: String,
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each one after.
    pub first_backoff: Duration,
    pub timeout: Duration,
}

/// `sha256=<hex HMAC-SHA256 of body>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Checks a callback URL at submission: http or https, with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("callback {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!("callback {url:?} must be an http or https URL"));
    }
    Ok(())
}

/// Delivers `body` (a job record) for `event` to `url`, in the background.
pub fn deliver(
    client: reqwest::Client,
    settings: WebhookSettings,
    url: String,
    job: String,
    event: &'static str,
    body: Vec<u8>,
) {
    tokio::spawn(async move {
        let delivery = uuid::Uuid::new_v4().to_string();
        let signed = signature(&settings.secret, &body);
        let mut backoff = settings.first_backoff;
        for attempt in 1..=settings.attempts {
            let sent = client
                .post(&url)
                .timeout(settings.timeout)
                .header("content-type", "application/json")
                .header("x-kiln-event", event)
                .header("x-kiln-delivery", &delivery)
                .header("x-kiln-signature", &signed)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    tracing::info!(%job, %url, attempt, "webhook delivered");
                    return;
                }
                Ok(response) => {
                    tracing::warn!(%job, %url, attempt, status = %response.status(), "webhook refused")
                }
                Err(err) => tracing::warn!(%job, %url, attempt, "webhook failed: {err}"),
            }
            if attempt < settings.attempts {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        tracing::error!(%job, %url, attempts = settings.attempts, "webhook abandoned");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_http_urls_are_callbacks() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("not a url").is_err());
    }
}
