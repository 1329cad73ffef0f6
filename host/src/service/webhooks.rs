//! Webhooks: when a job that named a `callback` ends, its record is POSTed there, signed with
//! HMAC-SHA256 over the body (`X-Kiln-Signature: sha256=<hex>`), and retried with backoff until
//! the receiver answers 2xx or the attempts run out.
//!
//! A callback is a URL a stranger chose, POSTed from inside the operator's network, so it may
//! only reach public addresses (unless `service.webhook_allow_private`): loopback, private,
//! link-local (cloud metadata), shared, multicast and reserved addresses are refused at submit
//! (every address the name resolves to) and again at delivery, where the client's resolver
//! hands the connector only the addresses that pass; so the connection goes to an address that
//! was checked, whatever the name resolves to by then (no DNS-rebinding gap). Redirects are not
//! followed and no proxy is used.

use super::EventName;
pub use crate::net::non_public;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub secret: String,
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each one after.
    pub first_backoff: Duration,
    pub timeout: Duration,
    /// Whether callbacks may reach loopback, private and link-local addresses.
    pub allow_private: bool,
}

/// How long resolving a callback's host at submit may take.
const SUBMIT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// `sha256=<hex HMAC-SHA256 of body>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// A callback refused because of where it leads.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "callback host {host:?} {reason}; webhooks go only to public addresses unless service.webhook_allow_private = true"
)]
pub struct Refused {
    pub host: String,
    pub reason: String,
}

fn refused_address(host: &str, ip: IpAddr, kind: &str) -> Refused {
    Refused {
        host: host.to_string(),
        reason: format!("leads to {ip}, {kind}"),
    }
}

/// The addresses of `addrs` a webhook may connect to; refused when none is left.
pub fn public_only(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
    let mut first_refused = None;
    let public: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|addr| match non_public(addr.ip()) {
            None => true,
            Some(kind) => {
                first_refused.get_or_insert((addr.ip(), kind));
                false
            }
        })
        .collect();
    match (public.is_empty(), first_refused) {
        (false, _) => Ok(public),
        (true, Some((ip, kind))) => Err(refused_address(host, ip, kind)),
        (true, None) => Err(Refused {
            host: host.to_string(),
            reason: "resolves to no address".into(),
        }),
    }
}

/// The resolver of the webhook client: the system's, keeping only public addresses, so the
/// connector can only connect to an address that passed the check.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public = public_only(&host, addrs)?;
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client webhooks are sent with: no redirects, no proxy, and (unless
/// `allow_private`) a resolver that drops non-public addresses.
pub fn client(allow_private: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicResolver));
    }
    builder.build().expect("the webhook client builds")
}

/// The URL's host, checked without resolving: http(s), a host, and (unless `allow_private`)
/// not an address literal that is non-public. Returns the host name when it is a name to
/// resolve.
fn check_syntax(url: &str, allow_private: bool) -> Result<Option<String>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("callback {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("callback {url:?} must be an http or https URL"));
    }
    let ip = match parsed.host() {
        None => return Err(format!("callback {url:?} must be an http or https URL")),
        Some(url::Host::Domain(name)) => return Ok(Some(name.to_string())),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
    };
    if !allow_private && let Some(kind) = non_public(ip) {
        return Err(refused_address(&ip.to_string(), ip, kind).to_string());
    }
    Ok(None)
}

/// Checks a callback URL at submission: http or https, with a host, and (unless
/// `allow_private`) every address it resolves to now is public.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let Some(name) = check_syntax(url, allow_private)? else {
        return Ok(());
    };
    if allow_private {
        return Ok(());
    }
    let lookup = tokio::time::timeout(
        SUBMIT_RESOLVE_TIMEOUT,
        tokio::net::lookup_host((name.as_str(), 0)),
    )
    .await
    .map_err(|_| {
        format!("callback: resolving {name:?} took longer than {SUBMIT_RESOLVE_TIMEOUT:?}")
    })?
    .map_err(|e| format!("callback: host {name:?} does not resolve: {e}"))?;
    let addrs: Vec<SocketAddr> = lookup.collect();
    if addrs.is_empty() {
        return Err(format!("callback: host {name:?} resolves to no address"));
    }
    // At submit, one non-public address is enough to refuse: a public receiver has no reason
    // to publish one. (Delivery connects only to the public ones anyway.)
    for addr in &addrs {
        if let Some(kind) = non_public(addr.ip()) {
            return Err(refused_address(&name, addr.ip(), kind).to_string());
        }
    }
    Ok(())
}

/// The refusal inside a failed request, if where it led was refused.
pub fn refusal(err: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        source = current.source();
    }
    None
}

/// What one delivery attempt came to.
#[derive(Debug)]
pub enum Delivery {
    /// The receiver answered 2xx.
    Delivered,
    /// It answered another status (a redirect included: they are not followed); try again.
    Status(reqwest::StatusCode),
    /// It could not be reached; try again.
    Failed(String),
    /// Where it leads is refused; not tried again.
    Refused(String),
}

/// One POST of `body` to `url`.
pub async fn deliver_once(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Delivery {
    // An address literal is connected to without the resolver: check it here.
    if let Err(err) = check_syntax(url, settings.allow_private) {
        return Delivery::Refused(err);
    }
    let mut request = client
        .post(url)
        .timeout(settings.timeout)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    match request.body(body).send().await {
        Ok(response) if response.status().is_success() => Delivery::Delivered,
        Ok(response) => Delivery::Status(response.status()),
        Err(err) => match refusal(&err) {
            Some(refused) => Delivery::Refused(refused.to_string()),
            None => Delivery::Failed(err.to_string()),
        },
    }
}

/// Delivers `body` (a job record) for `event` to `url`, in the background.
pub fn deliver(
    client: reqwest::Client,
    settings: WebhookSettings,
    url: String,
    job: String,
    event: EventName,
    body: Vec<u8>,
) {
    tokio::spawn(async move {
        let delivery = uuid::Uuid::new_v4().to_string();
        let signed = signature(&settings.secret, &body);
        let headers = [
            ("x-kiln-event", event.as_str()),
            ("x-kiln-delivery", delivery.as_str()),
            ("x-kiln-signature", signed.as_str()),
        ];
        let mut backoff = settings.first_backoff;
        for attempt in 1..=settings.attempts {
            match deliver_once(&client, &settings, &url, &headers, body.clone()).await {
                Delivery::Delivered => {
                    tracing::info!(%job, %url, attempt, "webhook delivered");
                    return;
                }
                Delivery::Status(status) => {
                    tracing::warn!(%job, %url, attempt, %status, "webhook refused by its receiver")
                }
                Delivery::Failed(err) => {
                    tracing::warn!(%job, %url, attempt, "webhook failed: {err}")
                }
                Delivery::Refused(err) => {
                    tracing::error!(%job, %url, "webhook not sent: {err}");
                    return;
                }
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
    use std::io::{BufRead, BufReader, Write};
    use std::sync::mpsc;

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_public_addresses_pass() {
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(non_public(ip).is_some(), "{refused} passed");
        }
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert_eq!(non_public(ip), None, "{public} was refused");
        }
    }

    #[test]
    fn the_resolver_keeps_only_public_addresses() {
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        // A name that rebinds to loopback after the check at submit: nothing is left to
        // connect to.
        let err = public_only("rebind.example", vec![addr("127.0.0.1:0")]).unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        let err = public_only("meta.example", vec![addr("169.254.169.254:0")]).unwrap_err();
        assert!(err.to_string().contains("link-local"), "{err}");
        // Mixed answers: the connector only sees the public one.
        assert_eq!(
            public_only(
                "mixed.example",
                vec![addr("10.0.0.1:0"), addr("8.8.8.8:0"), addr("[::1]:0")]
            )
            .unwrap(),
            vec![addr("8.8.8.8:0")]
        );
    }

    #[tokio::test]
    async fn callbacks_to_loopback_link_local_and_private_hosts_are_refused_at_submit() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost:9/hook",
            "http://[::1]:9/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.7/hook",
            "http://0x7f.1/hook",
            "http://[::ffff:127.0.0.1]/hook",
        ] {
            let err = check_url(url, false).await.unwrap_err();
            assert!(
                err.starts_with("callback") && err.contains("webhook_allow_private"),
                "{url}: {err}"
            );
        }
        assert!(check_url("file:///etc/passwd", false).await.is_err());
        assert!(check_url("not a url", false).await.is_err());
        // Allowed by the operator: not even resolved.
        assert!(check_url("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(check_url("http://localhost:9/hook", true).await.is_ok());
        assert!(check_url("file:///etc/passwd", true).await.is_err());
    }

    /// A loopback listener that answers every request with `reply` and reports each request
    /// line it read.
    fn listener(reply: &'static str) -> (u16, mpsc::Receiver<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let _ = stream.write_all(reply.as_bytes());
                let _ = sender.send(first);
            }
        });
        (port, receiver)
    }

    fn settings(allow_private: bool) -> WebhookSettings {
        WebhookSettings {
            secret: "s".into(),
            attempts: 1,
            first_backoff: Duration::from_millis(10),
            timeout: Duration::from_secs(5),
            allow_private,
        }
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

    #[tokio::test]
    async fn delivery_connects_only_to_addresses_that_pass() {
        let (port, requests) = listener(OK);
        let settings = settings(false);
        let client = client(false);
        // `localhost` resolves to the listener, but the resolver drops loopback addresses, so
        // no connection is made: the check is on the address connected, not on the name.
        for url in [
            format!("http://localhost:{port}/hook"),
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        ] {
            match deliver_once(&client, &settings, &url, &[], b"{}".to_vec()).await {
                Delivery::Refused(message) => {
                    assert!(message.contains("loopback"), "{url}: {message}")
                }
                other => panic!("{url}: expected a refusal, got {other:?}"),
            }
        }
        assert!(
            requests.recv_timeout(Duration::from_millis(300)).is_err(),
            "a refused webhook reached the listener"
        );

        // Allowed by the operator, the same URL is delivered.
        let settings = self::settings(true);
        let url = format!("http://localhost:{port}/hook");
        let delivered =
            deliver_once(&super::client(true), &settings, &url, &[], b"{}".to_vec()).await;
        assert!(matches!(delivered, Delivery::Delivered), "{delivered:?}");
        assert_eq!(
            requests.recv_timeout(Duration::from_secs(5)).unwrap(),
            "POST /hook HTTP/1.1\r\n"
        );
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (target, reached) = listener(OK);
        let redirect: &'static str = Box::leak(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{target}/inner\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (port, first) = listener(redirect);
        let url = format!("http://127.0.0.1:{port}/hook");
        let delivered =
            deliver_once(&client(true), &settings(true), &url, &[], b"{}".to_vec()).await;
        match delivered {
            Delivery::Status(status) => assert_eq!(status.as_u16(), 307),
            other => panic!("expected the 307 itself, got {other:?}"),
        }
        assert!(first.recv_timeout(Duration::from_secs(5)).is_ok());
        assert!(
            reached.recv_timeout(Duration::from_millis(300)).is_err(),
            "the redirect was followed"
        );
    }
}
