//! The WIT `browser` interface: the library list, `open`, and the `page` resource.

use super::page::{CaptureSource, JobPage, PageOptions};
use super::record::{RecordOptions, RecordSource};
use crate::error::RenderError;
use crate::media::{HostFrames, HostImage};
use crate::plugins::bindings::kiln::render::browser::{
    CaptureOptions, CaptureSource as WitCaptureSource, ConsoleLine, Host, HostPage, Library,
    PageError, PageOptions as WitPageOptions, RecordOptions as WitRecordOptions,
    RecordSource as WitRecordSource,
};
use crate::plugins::bindings::kiln::render::types::{Capability, Error as WitError};
use crate::plugins::state::JobState;
use std::time::Duration;
use wasmtime::component::Resource;

type WitResult<T> = wasmtime::Result<Result<T, WitError>>;

impl Host for JobState {
    async fn libraries(&mut self) -> wasmtime::Result<Vec<Library>> {
        let Ok(services) = self.job.services() else {
            return Ok(Vec::new());
        };
        let Some(browser) = &services.browser else {
            return Ok(Vec::new());
        };
        Ok(browser
            .libraries()
            .iter()
            .map(|lib| Library {
                name: lib.name.clone(),
                version: lib.version.clone(),
                url: lib.url.clone(),
            })
            .collect())
    }

    async fn open(&mut self, options: WitPageOptions) -> WitResult<Resource<JobPage>> {
        if let Err(err) = self
            .require(Capability::Browser, "browser")
            .and_then(|()| self.reserve_page())
        {
            return Ok(Err(err.into()));
        }
        // Only the job context is held across the await: `JobState` itself is not `Sync`.
        let job = self.job.clone();
        let opened = async {
            let pool = job.services()?.browser.clone().ok_or_else(|| {
                RenderError::unavailable(
                    "this process runs no browsers (it was started API-only); the job needs a worker",
                )
            })?;
            let options = PageOptions {
                width: options.width,
                height: options.height,
                scale: options.scale,
                seed: options.seed,
            };
            JobPage::open(&pool, job.clone(), options).await
        }
        .await;
        match opened {
            Ok(page) => Ok(Ok(self.table.push(page)?)),
            Err(err) => {
                self.pages_open -= 1;
                Ok(Err(err.into()))
            }
        }
    }
}

fn capture_source(source: WitCaptureSource) -> CaptureSource {
    match source {
        WitCaptureSource::Viewport => CaptureSource::Viewport,
        WitCaptureSource::Canvas(selector) => CaptureSource::Canvas(selector),
    }
}

fn wit<T>(result: Result<T, RenderError>) -> Result<T, WitError> {
    result.map_err(Into::into)
}

impl HostPage for JobState {
    async fn serve(
        &mut self,
        page: Resource<JobPage>,
        path: String,
        content_type: String,
        body: Vec<u8>,
    ) -> WitResult<()> {
        Ok(wit(self.table.get(&page)?.serve(
            &path,
            &content_type,
            body,
        )))
    }

    async fn navigate(&mut self, page: Resource<JobPage>, path: String) -> WitResult<()> {
        Ok(wit(self.table.get(&page)?.navigate(&path).await))
    }

    async fn wait_until(
        &mut self,
        page: Resource<JobPage>,
        expression: String,
        timeout_ms: u32,
    ) -> WitResult<()> {
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        Ok(wit(self
            .table
            .get(&page)?
            .wait_until(&expression, timeout)
            .await))
    }

    async fn evaluate(&mut self, page: Resource<JobPage>, expression: String) -> WitResult<String> {
        Ok(wit(self
            .table
            .get(&page)?
            .evaluate(&expression)
            .await
            .map(|v| v.to_string())))
    }

    async fn capture(
        &mut self,
        page: Resource<JobPage>,
        options: CaptureOptions,
    ) -> WitResult<Resource<HostImage>> {
        let source = capture_source(options.source);
        let captured = self
            .table
            .get(&page)?
            .capture(&source, options.format.into(), options.quality)
            .await;
        match captured {
            Ok(image) => Ok(Ok(self.table.push(image)?)),
            Err(err) => Ok(Err(err.into())),
        }
    }

    async fn use_virtual_time(&mut self, page: Resource<JobPage>) -> WitResult<()> {
        Ok(wit(self.table.get_mut(&page)?.use_virtual_time().await))
    }

    async fn record(
        &mut self,
        page: Resource<JobPage>,
        options: WitRecordOptions,
    ) -> WitResult<Resource<HostFrames>> {
        if let Err(err) = self.require(Capability::Media, "media") {
            return Ok(Err(err.into()));
        }
        let options = RecordOptions {
            frames: options.frames,
            fps: options.fps,
            source: match options.source {
                WitRecordSource::Viewport => RecordSource::Viewport,
                WitRecordSource::Canvas(selector) => RecordSource::Canvas(selector),
                WitRecordSource::Element(selector) => RecordSource::Element(selector),
            },
            formats: options.encode.formats.into_iter().map(Into::into).collect(),
            quality: options.encode.quality,
            scale: options.encode.scale,
            poster_frame: options.poster_frame,
        };
        match self.table.get(&page)?.record(&options).await {
            Ok(frames) => Ok(Ok(self.table.push(frames)?)),
            Err(err) => Ok(Err(err.into())),
        }
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
        self.pages_open = self.pages_open.saturating_sub(1);
        Ok(())
    }
}
