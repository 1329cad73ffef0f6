//! The `media` capability's per-job state: whether the plugin may encode, and where a tape's
//! stored frames are read from.

use super::HostBlob;
use crate::error::RenderError;
use crate::jobs::JobContext;
use std::sync::Arc;
use wasmtime::component::{HasData, ResourceTable};

/// Reads stored objects for tapes made of stored frames. The storage capability provides it, with
/// its own read rules; media only asks.
#[async_trait::async_trait]
pub trait ObjectReader: Send + Sync {
    /// The object at `key`, or why this job may not have it.
    async fn read(&self, key: &str) -> Result<HostBlob, RenderError>;
}

/// One job's use of the encoders.
pub struct MediaCtx {
    pub(super) job: Arc<JobContext>,
    /// Whether the plugin declared (and was granted) the `media` capability.
    granted: bool,
    /// Where stored tape frames come from; `None` when the job cannot read the store.
    objects: Option<Arc<dyn ObjectReader>>,
}

impl MediaCtx {
    /// The context of one job; `objects` reads stored tape frames.
    pub fn new(
        job: Arc<JobContext>,
        granted: bool,
        objects: Option<Arc<dyn ObjectReader>>,
    ) -> Self {
        Self {
            job,
            granted,
            objects,
        }
    }

    /// Fails with `denied` unless the plugin holds the `media` capability.
    pub(super) fn require_media(&self) -> Result<(), RenderError> {
        self.job.check_services_allowed()?;
        RenderError::require_capability(self.granted, "media", "media")
    }

    /// Reads a stored tape frame.
    pub(super) async fn read_object(&self, key: &str) -> Result<HostBlob, RenderError> {
        match &self.objects {
            Some(objects) => objects.read(key).await,
            None => Err(RenderError::denied(format!(
                "this job cannot read stored objects, so the tape frame {key} cannot be baked; \
                 the plugin needs the `storage` capability"
            ))),
        }
    }
}

/// What the `media` interface's host functions see: this job's media state and the store's
/// resource table (images, blobs, frames).
pub struct MediaView<'a> {
    pub ctx: &'a mut MediaCtx,
    pub table: &'a mut ResourceTable,
}

/// Links the `media` interface to [`MediaView`] (wasmtime's `HasData` pattern).
pub struct MediaAccess;

impl HasData for MediaAccess {
    type Data<'a> = MediaView<'a>;
}

crate::impl_wit_types!(MediaView<'_>);
