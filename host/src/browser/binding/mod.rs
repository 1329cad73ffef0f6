//! The WIT `browser` interface on [`BrowserView`]: the library list, `open`, and the `page`
//! resource. `mod.rs` implements the newest contract; `v1_0_0.rs` adapts 1.0.0 to it.
//! `libraries.rs` and `recording.rs` are 1.4.0's interfaces of the same names.

mod libraries;
mod recording;
mod v1_0_0;

use super::context::BrowserView;
use super::page::{CaptureSource, JobPage, PageOptions};
use super::record::{RecordOptions, RecordSource};
use crate::contract::latest::kiln::render::browser::{
    CaptureOptions, CaptureSource as WitCaptureSource, ConsoleLine, Host, HostPage, Library,
    PageError, PageOptions as WitPageOptions, RecordOptions as WitRecordOptions,
    RecordSource as WitRecordSource,
};
use crate::error::RenderError;
use crate::media::{HostFrames, HostImage};
use std::time::Duration;
use wasmtime::component::Resource;

impl Host for BrowserView<'_> {
    async fn libraries(&mut self) -> wasmtime::Result<Vec<Library>> {
        let Some(pool) = self.ctx.pool_for_listing() else {
            return Ok(Vec::new());
        };
        Ok(pool
            .libraries()
            .iter()
            .map(|lib| Library {
                name: lib.name.clone(),
                version: lib.version.clone(),
                url: lib.url.clone(),
            })
            .collect())
    }

    async fn open(&mut self, options: WitPageOptions) -> Result<Resource<JobPage>, RenderError> {
        self.ctx.require_browser()?;
        self.ctx.reserve_page()?;
        let opened = async {
            let pool = self.ctx.pool()?;
            let options = PageOptions {
                width: options.width,
                height: options.height,
                scale: options.scale,
                seed: options.seed,
            };
            let page = JobPage::open(&pool, self.ctx.job.clone(), options).await?;
            page.grant_network(self.ctx.network());
            Ok(page)
        }
        .await;
        match opened.and_then(|page| Ok(self.table.push(page)?)) {
            Ok(page) => Ok(page),
            Err(err) => {
                self.ctx.release_page();
                Err(err)
            }
        }
    }
}

/// `page.record`'s options as the host's, with 1.4.0's additions off.
fn record_options(options: WitRecordOptions) -> RecordOptions {
    RecordOptions::plain(
        options.frames,
        options.fps,
        match options.source {
            WitRecordSource::Viewport => RecordSource::Viewport,
            WitRecordSource::Canvas(selector) => RecordSource::Canvas(selector),
            WitRecordSource::Element(selector) => RecordSource::Element(selector),
        },
        options.encode.formats.into_iter().map(Into::into).collect(),
        options.encode.quality,
        options.encode.scale,
        options.poster_frame,
    )
}

fn capture_source(source: WitCaptureSource) -> CaptureSource {
    match source {
        WitCaptureSource::Viewport => CaptureSource::Viewport,
        WitCaptureSource::Canvas(selector) => CaptureSource::Canvas(selector),
    }
}

impl HostPage for BrowserView<'_> {
    async fn serve(
        &mut self,
        page: Resource<JobPage>,
        path: String,
        content_type: String,
        body: Vec<u8>,
    ) -> Result<(), RenderError> {
        self.table.get(&page)?.serve(&path, &content_type, body)
    }

    async fn navigate(&mut self, page: Resource<JobPage>, path: String) -> Result<(), RenderError> {
        self.table.get(&page)?.navigate(&path).await
    }

    async fn wait_until(
        &mut self,
        page: Resource<JobPage>,
        expression: String,
        timeout_ms: u32,
    ) -> Result<(), RenderError> {
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        self.table
            .get(&page)?
            .wait_until(&expression, timeout)
            .await
    }

    async fn evaluate(
        &mut self,
        page: Resource<JobPage>,
        expression: String,
    ) -> Result<String, RenderError> {
        let value = self.table.get(&page)?.evaluate(&expression).await?;
        Ok(value.to_string())
    }

    async fn capture(
        &mut self,
        page: Resource<JobPage>,
        options: CaptureOptions,
    ) -> Result<Resource<HostImage>, RenderError> {
        let source = capture_source(options.source);
        let image = self
            .table
            .get(&page)?
            .capture(&source, options.format.into(), options.quality)
            .await?;
        Ok(self.table.push(image)?)
    }

    async fn use_virtual_time(&mut self, page: Resource<JobPage>) -> Result<(), RenderError> {
        self.table.get_mut(&page)?.use_virtual_time().await
    }

    async fn record(
        &mut self,
        page: Resource<JobPage>,
        options: WitRecordOptions,
    ) -> Result<Resource<HostFrames>, RenderError> {
        self.ctx.require_media()?;
        let options = record_options(options);
        let recorded = self.table.get(&page)?.record(&options).await?;
        Ok(self.table.push(recorded.frames)?)
    }

    async fn errors(&mut self, page: Resource<JobPage>) -> wasmtime::Result<Vec<PageError>> {
        Ok(self
            .table
            .get(&page)?
            .errors()
            .into_iter()
            .map(|e| PageError {
                message: e.message,
                source: e.source,
                line: e.line,
                column: e.column,
            })
            .collect())
    }

    async fn console(&mut self, page: Resource<JobPage>) -> wasmtime::Result<Vec<ConsoleLine>> {
        Ok(self
            .table
            .get(&page)?
            .console()
            .into_iter()
            .map(|(level, text)| ConsoleLine { level, text })
            .collect())
    }

    async fn drop(&mut self, page: Resource<JobPage>) -> wasmtime::Result<()> {
        self.table.delete(page)?;
        self.ctx.release_page();
        Ok(())
    }
}
