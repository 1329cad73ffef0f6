//! `kiln render`: one job, in-process.

use crate::config::Config;
use crate::error::RenderError;
use crate::jobs::JobSpec;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A job file `{"id"?, "type", "input"}`; `-` reads standard input.
    #[arg(conflicts_with_all = ["job_type", "input"])]
    pub job: Option<PathBuf>,
    /// The job type (with --input), e.g. `p5` or `p5@0.1.0`.
    #[arg(long = "type", requires = "input")]
    pub job_type: Option<String>,
    /// The job's input as JSON (with --type).
    #[arg(long, requires = "job_type")]
    pub input: Option<String>,
    /// The job id (with --type); generated when absent.
    #[arg(long)]
    pub id: Option<String>,
    /// Also load this plugin component (repeatable): how an author runs a plugin they just built
    /// against a real host.
    #[arg(long = "plugin", value_name = "FILE.wasm")]
    pub plugins: Vec<PathBuf>,
}

pub async fn run(config: Config, args: RenderArgs) -> Result<ExitCode> {
    let spec = match read_spec(&args) {
        Ok(spec) => spec,
        Err(err) => {
            let outcome = crate::jobs::JobOutcome::from_error(err);
            println!("{}", serde_json::to_string_pretty(&outcome)?);
            return Ok(ExitCode::from(1));
        }
    };
    let (kiln, _extra) = super::extra_plugins::start_with(config, &args.plugins)
        .await
        .map_err(|e| anyhow::anyhow!("--plugin: {e:#}"))?;
    let outcome = kiln.runner.run(&spec).await;
    kiln.shutdown().await;
    println!("{}", serde_json::to_string_pretty(&outcome)?);
    Ok(if outcome.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_spec(args: &RenderArgs) -> Result<JobSpec, RenderError> {
    match (&args.job, &args.job_type, &args.input) {
        (Some(path), _, _) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(path)
            }
            .with_context(|| format!("reading job file {}", path.display()))
            .map_err(|e| RenderError::invalid_input(format!("{e:#}")))?;
            JobSpec::from_json(&text)
        }
        (None, Some(job_type), Some(input)) => {
            let input = serde_json::from_str(input).map_err(|e| {
                RenderError::invalid_input(format!("--input is not valid JSON: {e}"))
            })?;
            Ok(JobSpec {
                id: args.id.clone(),
                job_type: job_type.clone(),
                input,
                callback: None,
            })
        }
        _ => Err(RenderError::invalid_input(
            "give a job file, or --type and --input",
        )),
    }
}
