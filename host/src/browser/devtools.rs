//! Chromium's DevTools protocol over `--remote-debugging-pipe`, handed to chromiumoxide.
//!
//! With `--remote-debugging-port`, Chromium serves an unauthenticated DevTools endpoint on
//! loopback: any local user who finds the port drives the browser (reads files through it,
//! runs code in its pages). Over a pipe (the browser reads commands on fd 3 and writes replies on
//! fd 4, each message ended by a NUL byte) only the process holding the pipe's ends can talk to it.
//!
//! chromiumoxide 0.9.1 speaks only WebSocket (`Connection` wraps a TCP `WebSocketStream`), so this
//! bridge serves the pipe as a WebSocket inside Kiln: it listens on a loopback port for exactly one
//! connection, at a path holding a random 128-bit token, and closes the listener as soon as that
//! connection arrives (chromiumoxide connects at once). Another user who finds the port in that
//! moment gets a 404 without the token; afterwards there is nothing to connect to.

use anyhow::{Context, Result};
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::http::StatusCode;
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long a connection to the bridge may take to complete its WebSocket handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The bridge between one browser's pipe and chromiumoxide's WebSocket connection.
pub struct PipeBridge {
    /// Where chromiumoxide connects: `ws://127.0.0.1:<port>/devtools/browser/<token>`.
    pub url: String,
    task: JoinHandle<()>,
}

impl PipeBridge {
    /// Starts serving `to_browser` (Chromium's fd 3) and `from_browser` (its fd 4) to one
    /// WebSocket client.
    pub async fn start(
        index: usize,
        to_browser: impl AsyncWrite + Unpin + Send + 'static,
        from_browser: impl AsyncRead + Unpin + Send + 'static,
    ) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the DevTools bridge to loopback")?;
        let port = listener.local_addr()?.port();
        let path = format!("/devtools/browser/{}", uuid::Uuid::new_v4().simple());
        let url = format!("ws://127.0.0.1:{port}{path}");
        let task = tokio::spawn(async move {
            let Some(socket) = accept_one(listener, &path).await else {
                return;
            };
            relay(index, socket, to_browser, from_browser).await;
        });
        Ok(Self { url, task })
    }
}

impl Drop for PipeBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Socket = async_tungstenite::WebSocketStream<
    async_tungstenite::tokio::TokioAdapter<tokio::net::TcpStream>,
>;

/// Accepts the first connection that asks for `path`; the listener is closed when this returns.
async fn accept_one(listener: TcpListener, path: &str) -> Option<Socket> {
    loop {
        let (stream, from) = listener.accept().await.ok()?;
        // Replies are many small messages: without this, Nagle's algorithm holds each one back
        // until the client's delayed ACK (~40 ms).
        let _ = stream.set_nodelay(true);
        // The error type is tungstenite's (`Callback`), an HTTP response.
        #[allow(clippy::result_large_err)]
        let check = |request: &Request, response: Response| {
            if request.uri().path() == path {
                Ok(response)
            } else {
                let mut refusal = ErrorResponse::new(None);
                *refusal.status_mut() = StatusCode::NOT_FOUND;
                Err(refusal)
            }
        };
        let handshake = async_tungstenite::tokio::accept_hdr_async_with_config(
            stream,
            check,
            Some(
                async_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .max_message_size(None)
                    .max_frame_size(None),
            ),
        );
        // A connection that never finishes its handshake must not keep chromiumoxide out.
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(socket)) => return Some(socket),
            Ok(Err(err)) => {
                tracing::warn!("refused a DevTools bridge connection from {from}: {err}");
            }
            Err(_) => {
                tracing::warn!("dropped a DevTools bridge connection from {from}: no handshake");
            }
        }
    }
}

/// Copies messages both ways until either side closes.
async fn relay(
    index: usize,
    socket: Socket,
    mut to_browser: impl AsyncWrite + Unpin,
    from_browser: impl AsyncRead + Unpin,
) {
    let (mut sink, mut stream) = socket.split();
    let outbound = async {
        while let Some(Ok(message)) = stream.next().await {
            let bytes = match message {
                Message::Text(text) => text.as_bytes().to_vec(),
                Message::Binary(bytes) => bytes.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            if to_browser.write_all(&bytes).await.is_err()
                || to_browser.write_all(b"\0").await.is_err()
                || to_browser.flush().await.is_err()
            {
                break;
            }
        }
    };
    let inbound = async {
        let mut reader = BufReader::with_capacity(1 << 20, from_browser);
        let mut message = Vec::new();
        loop {
            message.clear();
            match reader.read_until(0, &mut message).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if message.last() == Some(&0) {
                message.pop();
            }
            let Ok(text) = String::from_utf8(std::mem::take(&mut message)) else {
                tracing::warn!(
                    browser = index,
                    "skipping a DevTools message that is not UTF-8"
                );
                continue;
            };
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        // The browser closed its end (it exited): end the WebSocket too, so chromiumoxide sees
        // the connection go.
        let _ = sink.close(None).await;
    };
    tokio::select! {
        _ = outbound => {}
        _ = inbound => {}
    }
    tracing::debug!(browser = index, "DevTools pipe closed");
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_tungstenite::tokio::connect_async;
    use tokio::io::{AsyncReadExt, duplex};

    #[tokio::test]
    async fn only_the_token_path_connects_and_messages_cross_with_nul_ends() {
        // The "browser" ends of the two pipes.
        let (to_browser, mut browser_reads) = duplex(1 << 16);
        let (mut browser_writes, from_browser) = duplex(1 << 16);
        let bridge = PipeBridge::start(0, to_browser, from_browser)
            .await
            .unwrap();
        let (prefix, _token) = bridge.url.rsplit_once('/').unwrap();

        let wrong = connect_async(format!("{prefix}/guessed")).await;
        assert!(
            wrong.is_err(),
            "a connection without the token was accepted"
        );

        let (mut socket, _) = connect_async(bridge.url.as_str()).await.unwrap();
        socket.send(Message::text(r#"{"id":1}"#)).await.unwrap();
        let mut command = vec![0u8; 9];
        browser_reads.read_exact(&mut command).await.unwrap();
        assert_eq!(command, b"{\"id\":1}\0");

        browser_writes
            .write_all(b"{\"id\":1,\"result\":{}}\0{\"method\":\"x\"}\0")
            .await
            .unwrap();
        let first = socket.next().await.unwrap().unwrap();
        let second = socket.next().await.unwrap().unwrap();
        assert_eq!(
            first.into_text().unwrap().as_str(),
            r#"{"id":1,"result":{}}"#
        );
        assert_eq!(second.into_text().unwrap().as_str(), r#"{"method":"x"}"#);

        // Once connected, the listener is gone.
        let again = connect_async(bridge.url.as_str()).await;
        assert!(again.is_err(), "a second connection was accepted");
    }
}
