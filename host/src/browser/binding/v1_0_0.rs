//! `kiln:render/browser@1.0.0`, served by the newest implementation: the records are the same
//! fields under other generated types, so each call converts and forwards.

use super::super::context::BrowserView;
use super::super::page::JobPage;
use crate::contract::latest::kiln::render::browser as latest;
use crate::contract::v1_0_0::kiln::render::browser::{
    CaptureOptions, CaptureSource, ConsoleLine, Host, HostPage, Library, PageError, PageOptions,
};
use crate::error::RenderError;
use crate::media::HostImage;
use wasmtime::component::Resource;

impl Host for BrowserView<'_> {
    async fn libraries(&mut self) -> wasmtime::Result<Vec<Library>> {
        let libraries = latest::Host::libraries(self).await?;
        Ok(libraries
            .into_iter()
            .map(|l| Library {
                name: l.name,
                version: l.version,
                url: l.url,
            })
            .collect())
    }

    async fn open(&mut self, options: PageOptions) -> Result<Resource<JobPage>, RenderError> {
        let options = latest::PageOptions {
            width: options.width,
            height: options.height,
            scale: options.scale,
            seed: options.seed,
        };
        latest::Host::open(self, options).await
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
        latest::HostPage::serve(self, page, path, content_type, body).await
    }

    async fn navigate(&mut self, page: Resource<JobPage>, path: String) -> Result<(), RenderError> {
        latest::HostPage::navigate(self, page, path).await
    }

    async fn wait_until(
        &mut self,
        page: Resource<JobPage>,
        expression: String,
        timeout_ms: u32,
    ) -> Result<(), RenderError> {
        latest::HostPage::wait_until(self, page, expression, timeout_ms).await
    }

    async fn evaluate(
        &mut self,
        page: Resource<JobPage>,
        expression: String,
    ) -> Result<String, RenderError> {
        latest::HostPage::evaluate(self, page, expression).await
    }

    async fn capture(
        &mut self,
        page: Resource<JobPage>,
        options: CaptureOptions,
    ) -> Result<Resource<HostImage>, RenderError> {
        let options = latest::CaptureOptions {
            source: match options.source {
                CaptureSource::Viewport => latest::CaptureSource::Viewport,
                CaptureSource::Canvas(selector) => latest::CaptureSource::Canvas(selector),
            },
            format: options.format,
            quality: options.quality,
        };
        latest::HostPage::capture(self, page, options).await
    }

    async fn errors(&mut self, page: Resource<JobPage>) -> wasmtime::Result<Vec<PageError>> {
        let errors = latest::HostPage::errors(self, page).await?;
        Ok(errors
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
        let lines = latest::HostPage::console(self, page).await?;
        Ok(lines
            .into_iter()
            .map(|l| ConsoleLine {
                level: l.level,
                text: l.text,
            })
            .collect())
    }

    async fn drop(&mut self, page: Resource<JobPage>) -> wasmtime::Result<()> {
        latest::HostPage::drop(self, page).await
    }
}
