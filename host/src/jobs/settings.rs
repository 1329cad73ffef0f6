//! `[jobs]`: the limits on every job.

use serde::Deserialize;

/// Limits on every job.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Wall-clock budget of one job attempt, in milliseconds.
    pub timeout_ms: u64,
    /// Largest width or height, in CSS pixels.
    pub max_dimension: u32,
    /// Largest width × height × scale² of one capture.
    pub max_pixels: u64,
    /// Extra in-process attempts `kiln render` and `kiln batch` give a job that failed as
    /// `unavailable` (e.g. its browser crashed). The service does not use it: its queue retries
    /// (`queue.max_attempts`, `queue.retry_backoff_ms`), so the two never stack.
    pub unavailable_retries: u32,
    /// Most frames in one recording or baked tape.
    pub max_frames: u32,
    /// Largest frames × pixels per frame (after scale) of one recording or tape: bounds the
    /// encoders' work, whatever the frame count and size.
    pub max_frame_pixels: u64,
    /// Largest object a plugin may read from the store (`storage.get`), in bytes.
    pub max_read_bytes: u64,
    /// Longest one recorded frame may take (advancing the clock and capturing), in
    /// milliseconds; a frame past it fails the recording as `timeout` naming the frame.
    pub frame_timeout_ms: u64,
    /// Log lines a job's record keeps (`GET /jobs/{id}`, `?wait`, events, webhooks); the first
    /// ones are kept, then one line says how many more there were.
    pub max_log_lines: usize,
    /// Bytes of log messages a job's record keeps, all lines together.
    pub max_log_bytes: usize,
    /// Memory one page's renderer process may hold of its own (anonymous and shared resident
    /// memory: the JS heap, array buffers, canvases, workers), in MiB. A renderer over it is
    /// killed and its job fails as `piece-failed`; 0 turns the limit off.
    pub max_page_memory_mib: u64,
    /// Console calls one page document makes that are logged; later ones are dropped in the page
    /// (so a logging loop costs nothing) and one line says so.
    pub max_console_lines: u32,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 30_000,
            max_dimension: 8192,
            max_pixels: 16_777_216,
            unavailable_retries: 1,
            max_frames: 3600,
            max_frame_pixels: 2_000_000_000,
            max_read_bytes: 256 << 20,
            frame_timeout_ms: 10_000,
            max_log_lines: 200,
            max_log_bytes: 64 << 10,
            max_page_memory_mib: 512,
            max_console_lines: 200,
        }
    }
}
