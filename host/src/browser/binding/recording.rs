//! 1.4.0's `recording` interface: `page.record` with a playback rate, blank frames left out,
//! page errors tolerated and the flat-colour verdict (`record/judge.rs`).

use super::super::context::BrowserView;
use super::super::page::JobPage;
use super::record_options;
use crate::contract::latest::kiln::render::recording::{Host, Recorded, RecordingOptions};
use crate::error::RenderError;
use wasmtime::component::Resource;

impl Host for BrowserView<'_> {
    async fn record(
        &mut self,
        page: Resource<JobPage>,
        options: RecordingOptions,
    ) -> Result<Recorded, RenderError> {
        self.ctx.require_browser()?;
        self.ctx.require_media()?;
        let mut host_options = record_options(options.base);
        host_options.playback_fps = options.playback_fps;
        host_options.drop_blank_frames = options.drop_blank_frames;
        host_options.tolerate_page_errors = options.tolerate_page_errors;
        host_options.judge_flat_colour = true;
        let recorded = self.table.get(&page)?.record(&host_options).await?;
        Ok(Recorded {
            frames: self.table.push(recorded.frames)?,
            blank_frames: recorded.blank_frames,
            flat_colour: recorded.flat_colour,
            page_errors: recorded.page_errors,
        })
    }
}
