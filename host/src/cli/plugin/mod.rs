//! `kiln plugin`: the plugin author's tools — scaffold a crate, build it to a component, check
//! a component the way a running host would load it, and run its jobs against a real host.

mod build;
mod check;
mod new;
mod test;

use crate::config::Config;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Creates a plugin crate that builds, with typed input and a README.
    New(new::NewArgs),
    /// Builds a plugin crate for wasm32-wasip2 and checks the component.
    Build(build::BuildArgs),
    /// Loads a component as a host would (world, describe, schema, grants) without a server.
    Check(check::CheckArgs),
    /// Runs a plugin's jobs against a real host and checks each against its case file.
    Test(test::TestArgs),
}

pub async fn run(config: Config, args: PluginArgs) -> Result<ExitCode> {
    match args.command {
        PluginCommand::New(args) => new::run(args),
        PluginCommand::Build(args) => build::run(config, args).await,
        PluginCommand::Check(args) => check::run(config, args).await,
        PluginCommand::Test(args) => test::run(config, args).await,
    }
}
