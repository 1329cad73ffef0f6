//! Schedules (`[[schedules]]`): jobs submitted on a cron schedule, in UTC.
//!
//! This folder holds the rules: the settings and their checks, cron expressions, which fire
//! time is due ([`plan`]), and where each schedule's history is kept ([`ScheduleStore`]). The
//! service runs them (`service/schedules.rs`): every `kiln serve` and `kiln worker` process
//! submits each fire time through the same path as `POST /jobs`, under an idempotency key that
//! names the schedule and the fire time, so the queue keeps one job per fire time however many
//! processes share it, and the claim and the enqueue are one atomic step of the queue.

mod cron;
mod file_store;
pub mod plan;
mod redis_store;
mod settings;
mod state;

pub use cron::CronExpr;
pub use file_store::FileStore;
pub use redis_store::RedisStore;
pub use settings::{MAX_SCHEDULES, ScheduleSettings, validate};
pub use state::{FireState, ScheduleStore, StateError};
