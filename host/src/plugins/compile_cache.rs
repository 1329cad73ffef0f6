//! Compiled components cached on disk, so a restart deserializes (≈0.1 ms) instead of compiling.
//!
//! The key is the SHA-256 of the component bytes plus the engine's compatibility hash (wasmtime
//! version and settings), so a cache entry is never loaded into an engine that cannot run it.

use super::WasmtimeContext;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating compile cache {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn path_for(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        engine
            .precompile_compatibility_hash()
            .hash(&mut engine_hash);
        let digest = Sha256::new()
            .chain_update(bytes)
            .chain_update(engine_hash.finish().to_le_bytes())
            .finalize();
        self.dir.join(format!("{}.cwasm", hex::encode(digest)))
    }

    /// The cached compilation of `bytes`, if there is a usable one.
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<Option<Component>> {
        let path = self.path_for(engine, bytes);
        if !path.exists() {
            return Ok(None);
        }
        // SAFETY: the file was written by `store` below from `Component::serialize` of this very
        // engine configuration (the key includes its compatibility hash), in a directory only
        // Kiln writes. A file that fails wasmtime's own header checks is recompiled.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Ok(Some(component)),
            Err(err) => {
                tracing::warn!(path = %path.display(), "ignoring unusable compile cache entry: {err:#}");
                let _ = std::fs::remove_file(&path);
                Ok(None)
            }
        }
    }

    /// Writes the compilation atomically (temp file, then rename).
    pub fn store(&self, engine: &Engine, bytes: &[u8], component: &Component) -> Result<()> {
        let path = self.path_for(engine, bytes);
        let serialized = component
            .serialize()
            .wasm_context("serializing a compiled component")?;
        let tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::fs::write(tmp.path(), serialized)?;
        tmp.persist(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}
