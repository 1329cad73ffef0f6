//! Jobs: what a client submits, the job as every capability sees it (id, deadline, limits, log),
//! the job's own `host` interface, and what comes back.

mod artifact;
mod binding;
mod context;
mod envelope;
mod host_ctx;
mod log;
mod observer;
mod outcome;
mod settings;

pub use artifact::StoredArtifact;
pub use context::{JobContext, JobLimits};
pub use envelope::JobSpec;
pub use host_ctx::{JobHost, MAX_LOG_LINE};
pub use log::{JobLog, LogLine};
pub use observer::JobObserver;
pub use outcome::{JobOutcome, JobStatus};
pub use settings::JobSettings;
