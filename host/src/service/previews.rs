//! The latest frame of each recording running in this process, for the dashboard's live preview
//! (`GET /dashboard/preview/{id}`).
//!
//! A recording hands its frames (PNG) to the encoders; every 15th frame, when it also reports
//! progress, the frame is kept here too (a reference to the same bytes, no copy or re-encode), so
//! the preview costs the dashboard nothing while nobody looks. One frame per running job: the
//! entry goes when the job ends, retries or is put back. A frame larger than
//! `service.dashboard_preview_max_bytes` is not kept (the job shows no preview). Jobs that do not
//! record (a still image, a card) have no frame, and jobs running in another process of a Redis
//! deployment neither: their events reach this process, their frames do not.

use crate::config::DEFAULT_DASHBOARD_PREVIEW_MAX_BYTES as DEFAULT_MAX_BYTES;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One job's latest frame.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The frame, a PNG.
    pub png: Bytes,
    /// Counts the frames kept for this job (1 for the first), so a page knows when to fetch again.
    pub seq: u64,
}

/// The latest frames of the jobs running here.
pub struct Previews {
    frames: Mutex<HashMap<String, Preview>>,
    max_bytes: AtomicUsize,
}

impl Default for Previews {
    fn default() -> Self {
        Self {
            frames: Mutex::new(HashMap::new()),
            max_bytes: AtomicUsize::new(DEFAULT_MAX_BYTES),
        }
    }
}

impl Previews {
    /// Frames larger than `bytes` are not kept (`service.dashboard_preview_max_bytes`).
    pub fn set_max_bytes(&self, bytes: usize) {
        self.max_bytes.store(bytes, Ordering::Relaxed);
    }

    /// `png` is job `id`'s latest frame.
    pub fn set(&self, id: &str, png: Bytes) {
        if png.len() > self.max_bytes.load(Ordering::Relaxed) {
            return;
        }
        let mut frames = self.frames.lock().expect("previews lock");
        let seq = frames.get(id).map_or(0, |p| p.seq) + 1;
        frames.insert(id.to_string(), Preview { png, seq });
    }

    /// Job `id`'s latest frame, if it is recording here.
    pub fn get(&self, id: &str) -> Option<Preview> {
        self.frames.lock().expect("previews lock").get(id).cloned()
    }

    /// Job `id` stopped running here.
    pub fn remove(&self, id: &str) {
        self.frames.lock().expect("previews lock").remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_per_job_counted_and_bounded() {
        let previews = Previews::default();
        previews.set("a", Bytes::from_static(b"one"));
        previews.set("a", Bytes::from_static(b"two"));
        let latest = previews.get("a").unwrap();
        assert_eq!((latest.png.as_ref(), latest.seq), (b"two".as_ref(), 2));
        previews.set_max_bytes(2);
        previews.set("b", Bytes::from_static(b"big"));
        assert!(previews.get("b").is_none(), "over the limit: not kept");
        previews.remove("a");
        assert!(previews.get("a").is_none());
    }
}
