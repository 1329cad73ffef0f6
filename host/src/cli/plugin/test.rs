//! `kiln plugin test FILE.wasm [CASES…]`: runs a plugin's jobs against a real host (the
//! configured one, with its browsers, store and grants, plus this file) and checks each against
//! what its case file expects. An author runs it by hand or from their own tests; it exits 1 when
//! a case fails.
//!
//! A case is a JSON file (a folder means every `*.json` in it, in name order):
//!
//! ```json
//! {"input": {"text": "hi"},
//!  "type": "badge",
//!  "expect": {"status": "succeeded", "artifacts": ["badge.svg"],
//!             "contains": {"badge.svg": "hi"}}}
//! ```
//!
//! `type` defaults to the plugin's own name and version (`badge@0.1.0`: this file, not another
//! version the host has). `expect.status` is `succeeded` (the default) or
//! `failed`; a failure may name its `kind` (`invalid-input`, …) and words its `message`
//! contains; `artifacts` lists every artifact the job must store (exactly those), and
//! `contains` words a stored text artifact must contain.

use crate::config::Config;
use crate::jobs::{JobOutcome, JobSpec};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The plugin component to test.
    pub file: PathBuf,
    /// Case files, or folders of them (default: `tests/jobs`).
    pub cases: Vec<PathBuf>,
}

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The job type; the plugin's own name when absent.
    #[serde(rename = "type")]
    job_type: Option<String>,
    input: serde_json::Value,
    #[serde(default)]
    expect: Expect,
}

/// What a case expects of its job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// `succeeded` (default) or `failed`.
    status: Option<String>,
    /// The error kind of a failure.
    kind: Option<String>,
    /// Words the failure's message contains.
    message: Option<String>,
    /// The names of every artifact stored.
    artifacts: Option<Vec<String>>,
    /// Words each named text artifact contains.
    #[serde(default)]
    contains: BTreeMap<String, String>,
}

pub async fn run(config: Config, args: TestArgs) -> Result<ExitCode> {
    let cases = case_files(&args.cases)?;
    if cases.is_empty() {
        bail!("no case files (*.json) found; give files or folders of them, default tests/jobs");
    }
    // The file's own name and version: its jobs are pinned to it, so a plugin of the same name
    // in the configured folders is not what runs.
    let engine = std::sync::Arc::new(crate::kiln::open_engine(&config)?);
    let policy = crate::plugins::LoadPolicy::new(&config.plugins, &config.jobs);
    let loaded = crate::plugins::load_file(&engine, &args.file, &policy)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", args.file.display()))?;
    let (plugin_name, pinned) = (loaded.info.name.clone(), loaded.label());
    drop((loaded, engine));
    let (kiln, _extra) =
        crate::cli::extra_plugins::start_with(config, std::slice::from_ref(&args.file)).await?;
    let mut reports = Vec::new();
    let mut failed = 0;
    for path in &cases {
        let name = path.display().to_string();
        let started = Instant::now();
        let (outcome, problems) = match read_case(path) {
            Ok(case) => {
                let spec = JobSpec {
                    id: None,
                    job_type: case.job_type.clone().unwrap_or_else(|| pinned.clone()),
                    input: case.input.clone(),
                    callback: None,
                };
                let outcome = kiln.runner.run(&spec).await;
                let problems = check(&case.expect, &outcome);
                (Some(outcome), problems)
            }
            Err(err) => (None, vec![format!("{err:#}")]),
        };
        let ms = started.elapsed().as_millis();
        if problems.is_empty() {
            eprintln!("ok   {name} ({ms} ms)");
        } else {
            failed += 1;
            eprintln!("FAIL {name} ({ms} ms)");
            for problem in &problems {
                eprintln!("     {problem}");
            }
        }
        reports.push(serde_json::json!({
            "case": name, "ok": problems.is_empty(), "problems": problems, "outcome": outcome,
        }));
    }
    kiln.shutdown().await;
    eprintln!("{} passed, {failed} failed", reports.len() - failed);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "plugin": plugin_name, "passed": reports.len() - failed, "failed": failed,
            "cases": reports,
        }))?
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The case files `paths` name: files as given, folders as their `*.json` in name order.
fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let default = [PathBuf::from("tests/jobs")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{} is neither a case file nor a folder", path.display());
        }
    }
    Ok(files)
}

fn read_case(path: &Path) -> Result<Case> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a case", path.display()))
}

/// What in `outcome` differs from `expect`, each said in a line.
fn check(expect: &Expect, outcome: &JobOutcome) -> Vec<String> {
    let mut problems = Vec::new();
    let wanted = expect.status.as_deref().unwrap_or("succeeded");
    let got = if outcome.succeeded() {
        "succeeded"
    } else {
        "failed"
    };
    if wanted != got {
        let why = outcome
            .error
            .as_ref()
            .map(|e| format!(": {} {}", e.kind, e.message))
            .unwrap_or_default();
        problems.push(format!("expected the job to have {wanted}, it {got}{why}"));
        return problems;
    }
    if let Some(error) = &outcome.error {
        if let Some(kind) = &expect.kind
            && error.kind.to_string() != *kind
        {
            problems.push(format!("expected error kind {kind}, got {}", error.kind));
        }
        if let Some(words) = &expect.message
            && !error.message.contains(words.as_str())
        {
            problems.push(format!(
                "expected the error message to contain {words:?}: {}",
                error.message
            ));
        }
    }
    let stored: Vec<&str> = outcome.artifacts.iter().map(|a| a.name.as_str()).collect();
    if let Some(names) = &expect.artifacts {
        let (mut want, mut have) = (names.clone(), stored.clone());
        want.sort();
        have.sort();
        if want.iter().map(String::as_str).ne(have.iter().copied()) {
            problems.push(format!("expected artifacts {want:?}, got {have:?}"));
        }
    }
    for (name, words) in &expect.contains {
        let Some(artifact) = outcome.artifacts.iter().find(|a| &a.name == name) else {
            problems.push(format!("expected an artifact {name}; got {stored:?}"));
            continue;
        };
        let text = artifact
            .url
            .strip_prefix("file://")
            .and_then(|path| std::fs::read_to_string(path).ok());
        match text {
            Some(text) if text.contains(words.as_str()) => {}
            Some(_) => problems.push(format!("{name} does not contain {words:?}")),
            None => problems.push(format!(
                "{name} could not be read as text from {} (contains checks need a file:// store)",
                artifact.url
            )),
        }
    }
    problems
}
