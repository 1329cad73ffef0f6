//! `kiln serve`: the HTTP API and the workers in one process (or the API alone), over the
//! embedded queue or a shared Redis queue.

use crate::config::Config;
use crate::service::{Role, Service};
use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;

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
    if let Some(listen) = args.listen {
        config.service.listen = listen;
    }
    let listener = tokio::net::TcpListener::bind(&config.service.listen)
        .await
        .with_context(|| format!("listening on {}", config.service.listen))?;
    let address = listener.local_addr()?;
    let warning = crate::api::exposure_warning(address, &config.service);
    let role = if args.api_only { Role::Api } else { Role::All };
    let service = Service::start_with(config, role).await?;
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    // Tests and scripts read this line to find the port.
    eprintln!("kiln: listening on http://{address}");
    let app = crate::api::router(service.clone());
    crate::api::serve(listener, app, &service.settings, shutdown_signal())
        .await
        .context("serving HTTP")?;
    service.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = interrupt => {}
        _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
    }
}
