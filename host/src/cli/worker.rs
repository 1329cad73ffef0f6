//! `kiln worker`: workers only, for scale-out. They take jobs from the Redis queue that
//! `kiln serve` processes (and Redis clients) put them on; no HTTP listener.

use crate::config::Config;
use crate::service::{Role, Service};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs this process runs at once (overrides service.workers; 0 = one per browser page).
    #[arg(long)]
    pub workers: Option<usize>,
}

pub async fn run(mut config: Config, args: WorkerArgs) -> Result<ExitCode> {
    let mut signals = super::serve::StopSignals::listen()?;
    if let Some(workers) = args.workers {
        config.service.workers = workers;
    }
    let service = Service::start_with(config, Role::Workers).await?;
    // Tests and scripts read this line to know the workers are taking jobs.
    eprintln!(
        "kiln: worker {} taking jobs",
        service.consumer_name().unwrap_or("?")
    );
    signals.recv().await;
    let timeout = std::time::Duration::from_secs(service.settings.drain_timeout_s);
    super::serve::drain(&service, timeout, &mut signals).await;
    service.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
