//! `kiln serve`: the HTTP API and the workers in one process (or the API alone), over the
//! embedded queue or a shared Redis queue.

use crate::config::Config;
use crate::service::{Role, Service};
use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

/// After a drain, how long responses still being written may take before their connections are
/// closed.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides service.listen); port 0 picks a free one.
    #[arg(long)]
    pub listen: Option<String>,
    /// The API alone: no browsers and no workers; jobs wait in the queue for `kiln worker`
    /// processes (with a Redis queue) or a later `kiln serve`.
    #[arg(long, alias = "no-workers")]
    pub api_only: bool,
}

pub async fn run(mut config: Config, args: ServeArgs) -> Result<ExitCode> {
    let mut signals = StopSignals::listen()?;
    if let Some(listen) = args.listen {
        config.service.listen = listen;
    }
    let listener = tokio::net::TcpListener::bind(&config.service.listen)
        .await
        .with_context(|| format!("listening on {}", config.service.listen))?;
    let address = listener.local_addr()?;
    let warning = crate::api::exposure_warning(address, &config.service);
    let role = if args.api_only { Role::Api } else { Role::All };
    let drain_timeout = Duration::from_secs(config.service.drain_timeout_s);
    let service = Service::start_with(config, role).await?;
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    // Tests and scripts read this line to find the port.
    eprintln!("kiln: listening on http://{address}");
    let app = crate::api::router(service.clone());
    let (stop_accepting, stop) = tokio::sync::oneshot::channel::<()>();
    let settings = service.settings.clone();
    let mut server = tokio::spawn(async move {
        crate::api::serve(listener, app, &settings, async {
            let _ = stop.await;
        })
        .await
    });
    tokio::select! {
        _ = signals.recv() => {}
        served = &mut server => {
            service.shutdown().await;
            served.context("the HTTP server failed")?.context("serving HTTP")?;
            return Ok(ExitCode::FAILURE);
        }
    }
    // No new connections; requests in flight finish. Running jobs get the drain timeout.
    let _ = stop_accepting.send(());
    drain(&service, drain_timeout, &mut signals).await;
    // The drain answered `?wait` requests and ended event streams.
    if tokio::time::timeout(CLOSE_GRACE, &mut server)
        .await
        .is_err()
    {
        tracing::warn!("closing connections still open after the drain");
        server.abort();
    }
    service.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Drains `service` (a second signal cuts the wait short) and says what came of it.
pub(super) async fn drain(service: &Service, timeout: Duration, signals: &mut StopSignals) {
    eprintln!(
        "kiln: stopping: no new jobs; running jobs have {}s to finish (a second signal stops them now)",
        timeout.as_secs()
    );
    let drained = service.drain(timeout, signals.recv()).await;
    eprintln!(
        "kiln: drained: {} job(s) were running, {} put back in the queue to run again",
        drained.running, drained.put_back
    );
}

/// Ctrl-C or SIGTERM, listened for from when it is made: made before the process says it is
/// ready, so a signal that comes right after drains the service rather than killing it (before
/// tokio listens for SIGTERM, its default action ends the process at once).
pub(super) struct StopSignals {
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub(super) fn listen() -> Result<Self> {
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        Ok(Self { terminate })
    }

    /// The next Ctrl-C or SIGTERM.
    pub(super) async fn recv(&mut self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
