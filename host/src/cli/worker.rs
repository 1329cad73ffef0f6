//! `kiln worker`: workers only, for scale-out. They take jobs from the Redis queue that
//! `kiln serve` processes (and Redis clients) put them on. No jobs API: only `/health`, `/ready`
//! and `/metrics` on `service.worker_listen`.

use crate::config::Config;
use crate::service::{Role, Service};
use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs this process runs at once (overrides service.workers; 0 = one per browser page).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Address for `/health`, `/ready` and `/metrics` (overrides service.worker_listen; "" for
    /// none).
    #[arg(long)]
    pub listen: Option<String>,
}

pub async fn run(mut config: Config, args: WorkerArgs) -> Result<ExitCode> {
    let mut signals = super::serve::StopSignals::listen()?;
    if let Some(workers) = args.workers {
        config.service.workers = workers;
    }
    if let Some(listen) = args.listen {
        config.service.worker_listen = listen;
    }
    let listener = match config.service.worker_listen.as_str() {
        "" => None,
        address => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("listening on {address} (service.worker_listen)"))?,
        ),
    };
    let service = Service::start_with(config, Role::Workers).await?;
    let (stop_serving, stop) = tokio::sync::oneshot::channel::<()>();
    let server = match listener {
        Some(listener) => {
            // Tests and scrapers read this line to find the port.
            eprintln!(
                "kiln: probes and metrics on http://{}",
                listener.local_addr()?
            );
            let app = crate::api::worker_router(service.clone());
            let settings = service.settings.clone();
            Some(tokio::spawn(async move {
                crate::api::serve(listener, app, &settings, async {
                    let _ = stop.await;
                })
                .await
            }))
        }
        None => None,
    };
    // Tests and scripts read this line to know the workers are taking jobs.
    eprintln!(
        "kiln: worker {} taking jobs",
        service.consumer_name().unwrap_or("?")
    );
    signals.recv().await;
    let timeout = std::time::Duration::from_secs(service.settings.drain_timeout_s);
    // Probes keep answering while the jobs drain.
    super::serve::drain(&service, timeout, &mut signals).await;
    let _ = stop_serving.send(());
    if let Some(server) = server {
        server.abort();
    }
    service.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
