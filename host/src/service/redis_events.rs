//! Job events across processes: with a Redis queue the worker running a job may live in another
//! process than the API request following it, so every process publishes its events on
//! `<prefix>:events` and delivers the others' to its own listeners (SSE, `?wait`). Best effort:
//! a waiting request also reads the job's record, so a lost event only delays it.

use super::Service;
use super::events::{EventName, JobEvent};
use crate::queue::RedisQueue;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Pause before connecting again after the subscription failed.
const RESUBSCRIBE: Duration = Duration::from_secs(1);

/// Starts forwarding this process's events and delivering the others'.
pub fn spawn(service: Arc<Service>, redis: RedisQueue) -> Vec<JoinHandle<()>> {
    let (forward, outgoing) = mpsc::unbounded_channel();
    service.events.forward_to(forward);
    vec![
        tokio::spawn(publish(redis.clone(), outgoing)),
        tokio::spawn(subscribe(service, redis)),
    ]
}

async fn publish(redis: RedisQueue, mut outgoing: mpsc::UnboundedReceiver<(String, JobEvent)>) {
    let channel = redis.keys().events_channel();
    let mut conn = redis.connection();
    while let Some((id, event)) = outgoing.recv().await {
        let message = serde_json::json!({
            "origin": redis.consumer(), "id": id, "event": event.event, "data": event.data,
        });
        let sent: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(message.to_string())
            .query_async(&mut conn)
            .await;
        if let Err(err) = sent {
            tracing::debug!(job = %id, "cannot publish a job event: {err}");
        }
    }
}

async fn subscribe(service: Arc<Service>, redis: RedisQueue) {
    let channel = redis.keys().events_channel();
    loop {
        let mut pubsub = match redis.client().get_async_pubsub().await {
            Ok(pubsub) => pubsub,
            Err(err) => {
                tracing::debug!("cannot subscribe to {channel}: {err}");
                tokio::time::sleep(RESUBSCRIBE).await;
                continue;
            }
        };
        if let Err(err) = pubsub.subscribe(&channel).await {
            tracing::debug!("cannot subscribe to {channel}: {err}");
            tokio::time::sleep(RESUBSCRIBE).await;
            continue;
        }
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Ok(text) = message.get_payload::<String>() else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if value["origin"].as_str() == Some(redis.consumer()) {
                continue;
            }
            let (Some(id), Some(name)) = (
                value["id"].as_str(),
                value["event"].as_str().and_then(EventName::from_wire),
            ) else {
                continue;
            };
            service.events.deliver(
                id,
                JobEvent {
                    event: name,
                    data: value["data"].clone(),
                },
            );
        }
        tokio::time::sleep(RESUBSCRIBE).await;
    }
}
