//! Jobs: what a client submits, how one runs, and what comes back.

mod context;
mod envelope;
mod host_binding;
mod log;
mod observer;
mod outcome;
mod runner;

pub use context::{JobContext, JobLimits, Services};
pub use envelope::JobSpec;
pub use log::{JobLog, LogLine};
pub use observer::JobObserver;
pub use outcome::{JobOutcome, JobStatus};
pub use runner::JobRunner;
