//! Running ffmpeg: one child per encode, killed if its owner is dropped, its stderr drained in
//! the background so a chatty ffmpeg never blocks on a full pipe.

use crate::error::RenderError;
use std::process::{ExitStatus, Stdio};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, Command};
use tokio::task::JoinHandle;

/// Debian's ffmpeg 5.1 (libx264, libvpx-vp9, gif).
pub(crate) const FFMPEG: &str = "/usr/bin/ffmpeg";

/// How much of ffmpeg's stderr is kept for error messages: the end is where the reason is.
const STDERR_TAIL: usize = 4096;

/// A fresh temporary directory `kiln-<prefix>-…` for ffmpeg's files (`what` says what for, in
/// the error); it is deleted when dropped.
pub(crate) fn work_dir(prefix: &str, what: &str) -> Result<tempfile::TempDir, RenderError> {
    tempfile::Builder::new()
        .prefix(&format!("kiln-{prefix}-"))
        .tempdir()
        .map_err(|e| {
            RenderError::unavailable(format!(
                "cannot create a temporary directory for {what}: {e}; check TMPDIR has space"
            ))
        })
}

/// A running ffmpeg. Dropping it kills the process (`kill_on_drop`), so an error or a cancelled
/// future never leaves an encoder behind.
pub(crate) struct Ffmpeg {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Option<JoinHandle<String>>,
    stdout: Option<JoinHandle<()>>,
}

/// How ffmpeg ended: its exit status and the last lines it wrote to stderr.
pub(crate) struct Exit {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Exit {
    /// The last stderr lines, or the exit status when ffmpeg said nothing.
    pub fn reason(&self) -> String {
        let text = self.stderr.trim();
        if text.is_empty() {
            format!("ffmpeg exited with {} and wrote nothing", self.status)
        } else {
            text.to_string()
        }
    }
}

impl Ffmpeg {
    /// Starts `ffmpeg <args>` with all three standard streams piped.
    pub fn spawn(args: &[String]) -> Result<Self, RenderError> {
        let mut child = Command::new(FFMPEG)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                RenderError::unavailable(format!(
                    "cannot start {FFMPEG}: {e}; install ffmpeg (Debian: apt-get install ffmpeg)"
                ))
            })?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().map(|mut pipe| {
            tokio::spawn(async move {
                let mut kept = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    kept.extend_from_slice(&buf[..n]);
                    // Trim only now and then, so a long stderr costs amortised O(1) a byte.
                    if kept.len() > 4 * STDERR_TAIL {
                        kept.drain(..kept.len() - STDERR_TAIL);
                    }
                }
                tail(&kept)
            })
        });
        // Outputs go to files, so ffmpeg writes nothing here; draining keeps that true even if
        // it someday does.
        let stdout = child.stdout.take().map(|mut pipe| {
            tokio::spawn(async move {
                let mut sink = tokio::io::sink();
                let _ = tokio::io::copy(&mut pipe, &mut sink).await;
            })
        });
        Ok(Self {
            child,
            stdin,
            stderr,
            stdout,
        })
    }

    /// The input pipe, until it is closed.
    pub fn stdin(&mut self) -> Option<&mut ChildStdin> {
        self.stdin.as_mut()
    }

    /// The process id while it runs (tests check it is gone after a failure).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills ffmpeg and waits until it is gone (reaped), for callers that give up on an encode
    /// and must not leave a process behind even for a moment.
    pub async fn kill(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill().await;
    }

    /// Closes stdin (end of input), waits for ffmpeg to exit and collects its stderr.
    pub async fn wait(&mut self) -> Result<Exit, RenderError> {
        drop(self.stdin.take());
        let status = self.child.wait().await.map_err(|e| {
            RenderError::internal(format!("could not wait for ffmpeg to finish: {e}"))
        })?;
        let stderr = match self.stderr.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => String::new(),
        };
        if let Some(task) = self.stdout.take() {
            let _ = task.await;
        }
        Ok(Exit { status, stderr })
    }
}

/// The last [`STDERR_TAIL`] bytes as text, starting at a line boundary when one is near.
fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_TAIL);
    let mut kept = &bytes[start..];
    if start > 0
        && let Some(nl) = kept.iter().position(|&b| b == b'\n')
    {
        kept = &kept[nl + 1..];
    }
    String::from_utf8_lossy(kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_whole_lines() {
        let mut text = Vec::new();
        for i in 0..1000 {
            text.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        let kept = tail(&text);
        assert!(kept.len() <= STDERR_TAIL);
        assert!(kept.starts_with("line "), "{kept:.20}");
        assert!(kept.ends_with("line 999\n"));
        assert_eq!(tail(b"short"), "short");
    }
}
