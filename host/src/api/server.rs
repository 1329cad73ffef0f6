//! The HTTP server under the router, and the request checks that keep the API safe to expose.
//!
//! - **Slow and many clients.** hyper's HTTP/1 connections are driven here (not through
//!   `axum::serve`) so that a client has `service.header_read_timeout_ms` to send a request's
//!   headers (an idle keep-alive connection too), `service.body_read_timeout_ms` to send its body
//!   (a total, not a pause between bytes: dripping one byte at a time does not extend it), and at
//!   most `service.max_connections` connections are open at once; one more is answered `503` and
//!   closed.
//! - **Web pages.** A request whose `Host` (or `Origin`) names a host this server was not told
//!   about is refused (`403`): a page on another site that rebinds its own name to this address
//!   (DNS rebinding) sends its own name as `Host`. See [`AllowedHosts`].

use super::error::ApiError;
use crate::config::ServiceSettings;
use crate::error::ErrorKind;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header, uri::Authority};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Pause after `accept` failed (e.g. out of file descriptors) before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish their
/// requests and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &ServiceSettings,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let header_timeout = Duration::from_millis(settings.header_read_timeout_ms.max(1));
    let max_connections = settings.max_connections.max(1);
    let permits = Arc::new(Semaphore::new(max_connections));
    let at_cap = Arc::new(AtomicBool::new(false));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!("cannot accept a connection: {err}");
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if !at_cap.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    max_connections,
                    "service.max_connections connections are open; refusing more until some close"
                );
            }
            refuse(stream, max_connections);
            continue;
        };
        at_cap.store(false, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, "connection ended: {err}");
                    }
                }
                () = stopped(&mut stopping) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Resolves once the server is told to stop.
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here.
    let _ = stopping.wait_for(|stop| *stop).await.is_ok();
}

/// Answers a connection over the cap with `503` and closes it, without reading from it.
fn refuse(stream: TcpStream, max_connections: usize) {
    let body = ApiError::unavailable(format!(
        "this server has its most connections open (service.max_connections = {max_connections}); retry later"
    ));
    let body = serde_json::json!({ "error": body.body() }).to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    // A new socket's send buffer takes this at once; if not, the client gets the close alone.
    let _ = stream.try_write(response.as_bytes());
}

/// A request body that fails once its deadline has passed, however the bytes trickle in.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

/// The error a body past its deadline fails with.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive within service.body_read_timeout_ms")
    }
}

impl std::error::Error for BodyTimeout {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: the request's body must arrive within `timeout` of its headers.
pub async fn body_deadline(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = if http_body::Body::is_end_stream(&body) {
        body
    } else {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        })
    };
    next.run(Request::from_parts(parts, body)).await
}

/// Whether reading a body failed because its deadline passed.
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    // axum's rejections show the error that failed the body in their message.
    if error.to_string().contains("service.body_read_timeout_ms") {
        return true;
    }
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTimeout>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The hosts requests may name in `Host` and `Origin`: `service.allowed_hosts`, the host of
/// `service.listen`, and `localhost`, `127.0.0.1` and `[::1]`. An entry without a port allows
/// any port; `*` allows every host. When the server listens on every address (`0.0.0.0`, `[::]`)
/// any IP address is allowed too: only a name can be rebound to this server, and which of its
/// addresses clients use is not known here.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    entries: Vec<(String, Option<u16>)>,
    any_ip: bool,
    any: bool,
}

impl AllowedHosts {
    pub fn new(listen: &str, configured: &[String]) -> Self {
        let mut hosts = Self {
            entries: Vec::new(),
            any_ip: false,
            any: false,
        };
        for name in ["localhost", "127.0.0.1", "[::1]"] {
            hosts.entries.push((name.to_string(), None));
        }
        match listen.parse::<SocketAddr>() {
            Ok(addr) if addr.ip().is_unspecified() => hosts.any_ip = true,
            Ok(addr) => hosts.entries.push((host_of_ip(addr.ip()), None)),
            Err(_) => {
                if let Ok(authority) = listen.parse::<Authority>() {
                    hosts.entries.push((normalize(authority.host()), None));
                }
            }
        }
        for entry in configured {
            let entry = entry.trim();
            if entry == "*" {
                hosts.any = true;
            } else if let Ok(authority) = entry.parse::<Authority>() {
                hosts
                    .entries
                    .push((normalize(authority.host()), authority.port_u16()));
            } else {
                tracing::warn!("service.allowed_hosts: {entry:?} is not a host name; ignored");
            }
        }
        hosts
    }

    /// Whether `host` (as in a `Host` header, `[::1]` bracketed) on `port` may be answered.
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        if self.any {
            return true;
        }
        let host = normalize(host);
        if self.any_ip && host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
            return true;
        }
        self.entries
            .iter()
            .any(|(name, only)| *name == host && (only.is_none() || *only == port))
    }

    /// Checks a request's `Host` and, when it has one, its `Origin`.
    fn check(&self, request: &Request) -> Result<(), ApiError> {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
            .or_else(|| request.uri().authority().map(|a| a.to_string()));
        if let Some(host) = host {
            let allowed = host
                .parse::<Authority>()
                .is_ok_and(|a| self.allows(a.host(), a.port_u16()));
            if !allowed {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorKind::Denied,
                    format!(
                        "this server does not answer to the host {host:?}: add it to service.allowed_hosts if clients reach the server by that name"
                    ),
                ));
            }
        }
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
            let allowed = url::Url::parse(&origin).ok().is_some_and(|url| {
                url.host_str()
                    .is_some_and(|host| self.allows(host, url.port_or_known_default()))
            });
            if !allowed {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorKind::Denied,
                    format!(
                        "requests from web pages at {origin:?} are refused: that origin is not in service.allowed_hosts"
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn host_of_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// A host name as compared: lower case, without a trailing dot; IPv6 addresses bracketed.
fn normalize(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.parse::<IpAddr>() {
        Ok(ip) => host_of_ip(ip),
        Err(_) => host,
    }
}

/// Middleware: refuses requests naming a host that is not allowed.
pub async fn check_host(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    match hosts.check(&request) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// The warning `kiln serve` prints when it listens beyond loopback and anyone who reaches the
/// port may submit jobs.
pub fn exposure_warning(address: SocketAddr, settings: &ServiceSettings) -> Option<String> {
    if address.ip().is_loopback() || !settings.submit_tokens.is_empty() {
        return None;
    }
    Some(format!(
        "kiln: WARNING: listening on {address}, beyond loopback, and service.submit_tokens is empty: \
         ANYONE WHO CAN REACH THIS PORT CAN RUN CODE IN THIS HOST'S BROWSERS. Set \
         service.submit_tokens (KILN_SUBMIT_TOKENS), listen on 127.0.0.1 behind a proxy, or \
         firewall the port; see docs/operations.md, \"Exposing the API\"."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listen_address_and_localhost_are_allowed_and_other_names_are_not() {
        let hosts = AllowedHosts::new("127.0.0.1:8080", &[]);
        assert!(hosts.allows("127.0.0.1", Some(8080)));
        assert!(hosts.allows("LOCALHOST", Some(1234)));
        assert!(hosts.allows("[::1]", None));
        assert!(!hosts.allows("evil.example", Some(8080)));
        assert!(!hosts.allows("10.0.0.5", Some(8080)));

        let hosts = AllowedHosts::new(
            "0.0.0.0:8080",
            &["render.example.com".into(), "cdn.example:443".into()],
        );
        assert!(
            hosts.allows("10.0.0.5", Some(8080)),
            "any IP when on 0.0.0.0"
        );
        assert!(hosts.allows("[fe80::1]", Some(8080)));
        assert!(hosts.allows("render.example.com.", None));
        assert!(hosts.allows("cdn.example", Some(443)));
        assert!(!hosts.allows("cdn.example", Some(80)), "the port was named");
        assert!(!hosts.allows("evil.example", None));

        assert!(AllowedHosts::new("127.0.0.1:0", &["*".into()]).allows("evil.example", None));
    }

    #[test]
    fn the_warning_is_for_open_ports_without_tokens() {
        let mut settings = ServiceSettings::default();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(exposure_warning(local, &settings).is_none());
        let warning = exposure_warning(public, &settings).unwrap();
        assert!(warning.contains("service.submit_tokens"), "{warning}");
        settings.submit_tokens = vec!["t".into()];
        assert!(exposure_warning(public, &settings).is_none());
    }
}
