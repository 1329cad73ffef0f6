//! 1.4.0's `about` interface on [`JobHost`]: what the host is.

use super::super::host_ctx::JobHost;
use crate::contract::latest::kiln::render::about::Host;

impl Host for JobHost {
    async fn host_version(&mut self) -> wasmtime::Result<String> {
        Ok(format!("kiln {}", env!("CARGO_PKG_VERSION")))
    }
}
