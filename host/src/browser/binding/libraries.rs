//! 1.4.0's `libraries` interface: the bytes of the libraries pages load, for plugins that pack
//! them (offline bundles). No capability: every page of every job can load them already.

use super::super::context::BrowserView;
use crate::contract::latest::kiln::render::libraries::{Host, InstalledLibrary};
use crate::error::RenderError;

impl Host for BrowserView<'_> {
    async fn installed(&mut self) -> wasmtime::Result<Vec<InstalledLibrary>> {
        let Some(pool) = self.ctx.pool_for_listing() else {
            return Ok(Vec::new());
        };
        Ok(pool
            .libraries()
            .iter()
            .map(|lib| InstalledLibrary {
                name: lib.name.clone(),
                version: lib.version.clone(),
                main: lib.file_name().to_string(),
                license: lib.license.clone(),
                license_file: lib.license_file.as_ref().map(|(name, _)| name.clone()),
            })
            .collect())
    }

    async fn read(
        &mut self,
        name: String,
        version: String,
        file: String,
    ) -> Result<Vec<u8>, RenderError> {
        let pool = self.ctx.pool()?;
        let libraries = pool.libraries();
        let installed = || {
            libraries
                .iter()
                .map(|lib| format!("{}@{}", lib.name, lib.version))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(library) = libraries
            .iter()
            .find(|lib| lib.name == name && lib.version == version)
        else {
            return Err(RenderError::invalid_input(format!(
                "no library {name}@{version} is installed on this host (installed: {})",
                installed()
            )));
        };
        if file == library.file_name() {
            return Ok(library.bytes.to_vec());
        }
        match &library.license_file {
            Some((license, bytes)) if *license == file => Ok(bytes.to_vec()),
            _ => Err(RenderError::invalid_input(format!(
                "{name}@{version} has no readable file {file:?}; read its main file {:?}{}",
                library.file_name(),
                library
                    .license_file
                    .as_ref()
                    .map(|(license, _)| format!(" or its licence file {license:?}"))
                    .unwrap_or_default()
            ))),
        }
    }
}
