//! The one wasmtime engine of the process: configuration, the epoch ticker and the linker.

use super::WasmtimeContext;
use super::compile_cache::CompileCache;
use super::store::PluginStore;
use crate::browser::BrowserAccess;
use crate::contract::{latest, v1_0_0};
use crate::jobs::JobHost;
use crate::media::MediaAccess;
use crate::sources::SourcesCtx;
use crate::storage::StorageAccess;
use anyhow::Result;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

/// How often the epoch advances. The CPU budget is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine, its linker with every host interface, and the compiled-component cache.
pub struct PluginEngine {
    engine: Engine,
    linker: Linker<PluginStore>,
    cache: CompileCache,
    ticker_stop: Arc<AtomicBool>,
}

/// A compiled component and how it was obtained.
pub struct CompiledComponent {
    pub component: Component,
    pub from_cache: bool,
    pub elapsed: Duration,
}

impl PluginEngine {
    /// Builds the engine; compiled components are cached under `cache_dir`.
    pub fn new(cache_dir: &Path) -> Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).wasm_context("configuring wasmtime")?;

        let mut linker = Linker::<PluginStore>::new(&engine);
        // WASI is linked because std for wasm32-wasip2 imports it; the context grants nothing
        // (no preopened directories, no sockets, stdout/stderr captured). See `store.rs`.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).wasm_context("linking WASI")?;
        link_contract(&mut linker).wasm_context("linking the kiln:render interfaces")?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), ticker_stop.clone());
        Ok(Self {
            engine,
            linker,
            cache: CompileCache::new(cache_dir)?,
            ticker_stop,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<PluginStore> {
        &self.linker
    }

    /// Compiles `bytes` (from `source`, for messages), or loads the cached compilation.
    pub fn compile(&self, bytes: &[u8]) -> Result<CompiledComponent> {
        let started = Instant::now();
        if let Some(component) = self.cache.load(&self.engine, bytes)? {
            return Ok(CompiledComponent {
                component,
                from_cache: true,
                elapsed: started.elapsed(),
            });
        }
        let component =
            Component::new(&self.engine, bytes).wasm_context("compiling the component")?;
        self.cache.store(&self.engine, bytes, &component)?;
        Ok(CompiledComponent {
            component,
            from_cache: false,
            elapsed: started.elapsed(),
        })
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Links every released version of every `kiln:render` interface, each to its capability's own
/// per-job context. Names are exact (`kiln:render/browser@1.0.0`), so each plugin gets the version
/// it was built against; which versions exist is checked at load (`load.rs`).
fn link_contract(linker: &mut Linker<PluginStore>) -> wasmtime::Result<()> {
    use latest::kiln::render as now;
    now::types::add_to_linker::<_, HasSelf<JobHost>>(linker, PluginStore::host)?;
    now::host::add_to_linker::<_, HasSelf<JobHost>>(linker, PluginStore::host)?;
    now::media::add_to_linker::<_, MediaAccess>(linker, PluginStore::media)?;
    now::storage::add_to_linker::<_, StorageAccess>(linker, PluginStore::storage)?;
    now::browser::add_to_linker::<_, BrowserAccess>(linker, PluginStore::browser)?;
    // 1.2.0 added `pixels`; its other interfaces are 1.1.0's, which the lines above define, and a
    // 1.2.0 import of them finds those (wasmtime looks up the newest 1.x of an interface).
    now::pixels::add_to_linker::<_, MediaAccess>(linker, PluginStore::media)?;
    // 1.3.0 added `sources`; its `types` is 1.1.0's less `capability` (moved into the world),
    // so 1.1.0's `types` instance above answers a 1.3.0 import of it too.
    now::sources::add_to_linker::<_, HasSelf<SourcesCtx>>(linker, PluginStore::sources)?;
    // 1.4.0 added `libraries` and `recording`, both served by the browser capability's context,
    // and `about`, served by the job's.
    now::about::add_to_linker::<_, HasSelf<JobHost>>(linker, PluginStore::host)?;
    now::libraries::add_to_linker::<_, BrowserAccess>(linker, PluginStore::browser)?;
    now::recording::add_to_linker::<_, BrowserAccess>(linker, PluginStore::browser)?;

    use v1_0_0::kiln::render as first;
    // 1.0.0's `types` is 1.1.0's (no functions, no resources): an instance of the same name.
    linker.instance("kiln:render/types@1.0.0")?;
    first::host::add_to_linker::<_, HasSelf<JobHost>>(linker, PluginStore::host)?;
    first::media::add_to_linker::<_, MediaAccess>(linker, PluginStore::media)?;
    first::storage::add_to_linker::<_, StorageAccess>(linker, PluginStore::storage)?;
    first::browser::add_to_linker::<_, BrowserAccess>(linker, PluginStore::browser)?;
    Ok(())
}

/// Advances the epoch every [`EPOCH_TICK`] so running guests reach their deadline checks.
fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("kiln-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch ticker thread");
}
