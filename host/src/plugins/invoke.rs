//! One call into a plugin: a fresh `Store`, the sandbox limits, and a precise error for every way
//! the call can end badly.

use super::load::LoadedPlugin;
use super::store::{HostServices, PluginStore, Sandbox};
use crate::error::RenderError;
use crate::jobs::JobContext;
use crate::storage::StoredArtifact;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Engine, Store, UpdateDeadline};

/// Grace beyond the job's deadline before the call itself is abandoned, so host calls that honour
/// the deadline (page waits) report their own, more precise timeout first.
const WALL_GRACE: Duration = Duration::from_secs(2);

/// A store for one call, with the memory limiter and the epoch-based CPU budget armed.
pub(super) fn new_store(engine: &Engine, state: PluginStore) -> Store<PluginStore> {
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.sandbox.limiter);
    // Each tick in which guest code was running costs one tick of budget; yielding on every tick
    // lets the wall-clock timeout (a tokio timer) preempt a guest that never calls the host.
    store.epoch_deadline_callback(|mut ctx| {
        let state = &mut ctx.data_mut().sandbox;
        state.cpu_ticks_used += 1;
        if state.cpu_ticks_used > state.cpu_ticks_budget {
            state.cpu_exceeded = true;
            return Err(wasmtime::format_err!("CPU budget exhausted"));
        }
        Ok(UpdateDeadline::Yield(1))
    });
    store.set_epoch_deadline(1);
    store
}

/// Runs `plugin` on one job, under the limits of the plugin's policy, and returns the artifacts it
/// stored.
pub async fn run_plugin(
    engine: &Engine,
    plugin: &LoadedPlugin,
    job: Arc<JobContext>,
    services: &HostServices,
    input_json: String,
) -> Result<Vec<StoredArtifact>, RenderError> {
    let state = PluginStore::new(
        job.clone(),
        services,
        &plugin.info.name,
        &plugin.policy,
        plugin.capabilities(),
        crate::browser::gpu::wants_gpu(&input_json),
    )?;
    let mut store = new_store(engine, state);
    let wall = job.limits.timeout + WALL_GRACE;

    let outcome = tokio::time::timeout(wall, plugin.pre.run(&mut store, &job.id, input_json)).await;
    job.log.push(
        "debug",
        "host",
        format!(
            "sandbox: linear memory peaked at {:.1} MiB",
            store.data().sandbox.limiter.peak as f64 / f64::from(1 << 20)
        ),
    );
    let label = plugin.label();
    match outcome {
        Err(_) => Err(RenderError::timeout(format!(
            "plugin {label} did not finish within the job's wall-clock budget of {} ms \
             (jobs.timeout_ms, or plugins.per_plugin.{}.timeout_ms)",
            job.limits.timeout.as_millis(),
            plugin.info.name
        ))),
        Ok(Err(trap)) => Err(explain_trap(&label, &store.data().sandbox, &trap)),
        Ok(Ok(Err(error))) => Err(error.into()),
        Ok(Ok(Ok(returned))) => {
            let stored = store.data().stored();
            returned
                .iter()
                .map(|artifact| {
                    stored
                        .iter()
                        .find(|s| s.key == artifact.key)
                        .cloned()
                        .ok_or_else(|| {
                            RenderError::internal(format!(
                                "plugin {label} returned artifact {:?}, which it never stored",
                                artifact.key
                            ))
                        })
                })
                .collect()
        }
    }
}

/// Turns a trap into the error a user can act on: which limit was hit, or what the plugin said.
pub(super) fn explain_trap(label: &str, state: &Sandbox, trap: &wasmtime::Error) -> RenderError {
    if state.cpu_exceeded {
        return RenderError::timeout(format!(
            "plugin {label} used its whole CPU budget of {} ms (plugins.cpu_ms) without finishing",
            state.cpu_ticks_budget * super::engine::EPOCH_TICK.as_millis() as u64
        ));
    }
    if let Some(wanted) = state.limiter.refused_growth {
        return RenderError::internal(format!(
            "plugin {label} exceeded its memory limit of {} MiB (plugins.memory_mib): it tried to grow to {} MiB",
            state.limiter.limit() >> 20,
            wanted >> 20
        ));
    }
    let stderr = state.stderr_text();
    if let Some(panic) = stderr
        .lines()
        .find(|l| l.contains("panicked at"))
        .map(|_| stderr.as_str())
    {
        return RenderError::internal(format!("plugin {label} panicked: {panic}"));
    }
    let detail = if stderr.is_empty() {
        String::new()
    } else {
        format!("; it printed: {stderr}")
    };
    RenderError::internal(format!("plugin {label} trapped: {trap:#}{detail}"))
}
