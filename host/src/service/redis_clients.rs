//! Jobs from clients that speak Redis instead of HTTP. Two protocols, both documented in
//! docs/api.md:
//!
//! - **Kiln's own**: `XADD <prefix>:submit * job <envelope JSON> [lane bulk] [idempotency_key K]`,
//!   then `BLPOP <prefix>:result:<id>` for the final job record. Read through the `ingress`
//!   consumer group, so each submission is taken by exactly one Kiln process and acknowledged
//!   only once it is queued (or refused).
//! - **emprops style**: `LPUSH <queue.emprops_list> <envelope JSON>`, then
//!   `BLPOP <prefix>:emprops:result:<id>` for `{id, success, src, htmlSrc?, mimeType, error?}`.
//!   The job's `id` doubles as its idempotency key, so a job picked up twice (a Kiln process died
//!   mid-way) is queued once.

use super::{Service, SubmitError, SubmitOptions};
use crate::error::RenderError;
use crate::jobs::JobSpec;
use crate::queue::{
    ClientProtocol, INGRESS_GROUP, JobRecord, JobState, Lane, RedisQueue, Submitted,
};
use redis::AsyncCommands;
use redis::streams::{StreamReadOptions, StreamReadReply};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long an idle reader waits before looking again.
const IDLE: Duration = Duration::from_millis(200);
/// Pause after Redis failed, before trying again.
const REDIS_RETRY: Duration = Duration::from_secs(1);
/// Submissions taken from Redis at once.
const BATCH: usize = 16;

/// Starts the readers of both protocols.
pub fn spawn(service: Arc<Service>, redis: RedisQueue) -> Vec<JoinHandle<()>> {
    let mut handles = vec![tokio::spawn(read_stream(service.clone(), redis.clone()))];
    if !service.queue_settings.emprops_list.is_empty() {
        handles.push(tokio::spawn(read_emprops(service, redis)));
    }
    handles
}

/// Kiln's own protocol: the submission stream.
async fn read_stream(service: Arc<Service>, redis: RedisQueue) {
    let stream = redis.keys().submit_stream();
    let mut conn = redis.connection();
    loop {
        let _: Result<(), _> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(INGRESS_GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        // Entries this process took before it was interrupted come first (`0`), then new ones.
        for start in ["0", ">"] {
            let options = StreamReadOptions::default()
                .group(INGRESS_GROUP, redis.consumer())
                .count(BATCH);
            let reply: Result<StreamReadReply, _> = conn
                .xread_options(&[stream.as_str()], &[start], &options)
                .await;
            let entries = match reply {
                Ok(reply) => reply
                    .keys
                    .into_iter()
                    .flat_map(|key| key.ids)
                    .collect::<Vec<_>>(),
                Err(err) => {
                    tracing::warn!("reading {stream}: {err}");
                    tokio::time::sleep(REDIS_RETRY).await;
                    continue;
                }
            };
            let idle = entries.is_empty();
            for entry in entries {
                let field = |name: &str| -> Option<String> {
                    entry
                        .map
                        .get(name)
                        .and_then(|v| redis::from_redis_value_ref(v).ok())
                };
                // An absent or unknown lane is the default one, as it always was.
                let lane = field("lane")
                    .as_deref()
                    .and_then(Lane::from_wire)
                    .unwrap_or_default();
                let options = SubmitOptions {
                    lane,
                    idempotency_key: field("idempotency_key"),
                    ..SubmitOptions::default()
                };
                accept(&service, &redis, field("job").unwrap_or_default(), options).await;
                let _: Result<(), _> = conn.xack(&stream, INGRESS_GROUP, &[&entry.id]).await;
                let _: Result<(), _> = conn.xdel(&stream, &[&entry.id]).await;
            }
            if idle && start == ">" {
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}

/// The emprops protocol: a plain list.
async fn read_emprops(service: Arc<Service>, redis: RedisQueue) {
    let list = service.queue_settings.emprops_list.clone();
    let claimed = redis.keys().emprops_claimed();
    let mut conn = redis.connection();
    // Jobs a Kiln process had taken but perhaps not queued when it stopped: their ids make them
    // idempotent, so queue them again.
    loop {
        let moved: Result<Option<String>, _> = conn
            .lmove(
                &claimed,
                &list,
                redis::Direction::Right,
                redis::Direction::Right,
            )
            .await;
        match moved {
            Ok(Some(_)) => continue,
            _ => break,
        }
    }
    loop {
        let taken: Result<Option<String>, _> = conn
            .lmove(
                &list,
                &claimed,
                redis::Direction::Right,
                redis::Direction::Left,
            )
            .await;
        match taken {
            Ok(Some(text)) => {
                let options = SubmitOptions {
                    idempotency_key: envelope_id(&text).map(|id| format!("emprops:{id}")),
                    source: Some(ClientProtocol::Emprops),
                    ..SubmitOptions::default()
                };
                accept(&service, &redis, text.clone(), options).await;
                let _: Result<i64, _> = conn.lrem(&claimed, 1, &text).await;
            }
            Ok(None) => tokio::time::sleep(IDLE).await,
            Err(err) => {
                tracing::warn!("reading {list}: {err}");
                tokio::time::sleep(REDIS_RETRY).await;
            }
        }
    }
}

/// Queues one job sent through Redis; a refused one gets a failed record and result at once,
/// so its client is not left waiting.
async fn accept(service: &Service, redis: &RedisQueue, text: String, options: SubmitOptions) {
    let source = options.source;
    let id = envelope_id(&text);
    let refusal = match JobSpec::from_json(&text) {
        Err(err) => err,
        Ok(spec) => match service.submit_with(spec, options).await {
            Ok(Submitted::Cached(record)) if record.cached_from.is_some() => {
                // Stored as a job of its own under the id asked for; storing it handed out its
                // result.
                return;
            }
            Ok(Submitted::Cached(record)) => {
                // Answer at once with the cached job's artifacts, under the id asked for.
                let mut reply = record;
                if let Some(id) = id {
                    reply.id = id;
                }
                reply.source = source;
                redis.publish_result(&reply).await;
                return;
            }
            Ok(_) => return,
            Err(SubmitError::Invalid(err)) => err,
            Err(SubmitError::Full { message, .. }) => RenderError::unavailable(message),
            Err(SubmitError::Unavailable(message)) => RenderError::unavailable(message),
        },
    };
    let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    tracing::warn!(job = %id, "refused a job sent through Redis: {}", refusal.message);
    let mut record = JobRecord::new(id, String::new(), serde_json::Value::Null, Lane::default());
    record.status = JobState::Failed;
    record.finished_at = Some(record.submitted_at);
    record.error = Some(refusal);
    record.source = source;
    redis.publish_result(&record).await;
}

/// The `id` of a job sent as JSON, even when the rest of it is not a valid envelope (so the
/// refusal reaches the client waiting on that id).
fn envelope_id(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_str()
        .map(String::from)
}
