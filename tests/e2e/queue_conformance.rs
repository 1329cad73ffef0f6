//! One behaviour, two queues: every test here is written once against the `JobQueue` trait and
//! runs against the embedded queue (a redb file) and the Redis queue (a real `redis-server`):
//! lanes, leases and crashes, retries with backoff, dead letters, retention, the result cache,
//! idempotency keys, limits, cancels, and clean releases that spend no attempt. Where the two
//! differ by design, the difference is a constant of [`Backend`], documented there and in
//! docs/operations.md. Tests of one backend's own machinery stay with it (`queue/embedded.rs`:
//! reopening a file, its size under a flood; `tests/e2e/redis_queue.rs`: processes over Redis).

use kiln::queue::{
    Cancelled, EmbeddedQueue, JobQueue, JobRecord, JobState, Lane, LeaseState, QueueError,
    QueueSettings, RedisQueue, Released, Retention, Submitted,
};
use kiln_test_support::block_on;
use kiln_test_support::redis_server::RedisServer;
use std::future::Future;
use std::time::{Duration, Instant};

/// What a test asks of a queue it opens.
#[derive(Debug, Clone, Copy)]
struct Options {
    max_queued: u64,
    /// Ended jobs are deleted this long after they end (seconds: Redis expires keys by them).
    record_ttl_s: u64,
    max_kept_input_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_queued: 100,
            record_ttl_s: 3600,
            max_kept_input_bytes: 64 << 10,
        }
    }
}

/// A queue implementation under test.
trait Backend {
    type Queue: JobQueue + 'static;
    /// Where a job put back by a clean stop waits: first in its lane (the embedded queue: it runs
    /// before anything submitted later, as after a crash), or last (Redis: a fresh stream entry).
    const RELEASED_GOES_FIRST: bool;
    /// Whether a client's cancel of a running job reaches its worker through the lease
    /// (`heartbeat` and `release` answer `CancelRequested`): Redis, where the worker may be
    /// another process. The embedded queue has one process, which stops its running jobs itself
    /// (`Service::cancel`), so its leases always read `Held`.
    const CANCEL_REACHES_THE_LEASE: bool;

    /// A fresh, empty queue.
    fn open(&mut self, options: Options) -> Self::Queue;
    /// The queue as the next process sees it after the process holding `queue` died with jobs
    /// leased (its leases never renewed, its jobs never finished).
    fn after_crash(
        &mut self,
        queue: Self::Queue,
        options: Options,
    ) -> impl Future<Output = Self::Queue>;
}

/// The embedded queue in a temporary directory.
struct Embedded {
    dir: tempfile::TempDir,
}

impl Embedded {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn open_file(&self, options: Options) -> (EmbeddedQueue, usize) {
        let retention = Retention {
            record_ttl: Duration::from_secs(options.record_ttl_s),
            max_kept_input_bytes: options.max_kept_input_bytes,
        };
        EmbeddedQueue::open_with(
            &self.dir.path().join("queue.redb"),
            options.max_queued,
            retention,
        )
        .unwrap()
    }
}

impl Backend for Embedded {
    type Queue = EmbeddedQueue;
    const RELEASED_GOES_FIRST: bool = true;
    const CANCEL_REACHES_THE_LEASE: bool = false;

    fn open(&mut self, options: Options) -> EmbeddedQueue {
        self.open_file(options).0
    }

    async fn after_crash(&mut self, queue: EmbeddedQueue, options: Options) -> EmbeddedQueue {
        // The file is all that outlives a process; opening it puts back what was running.
        drop(queue);
        let (queue, recovered) = self.open_file(options);
        assert!(recovered > 0, "nothing was running when the process died");
        queue
    }
}

/// Lease time of the Redis queues under test: a dead worker's job is taken over this long after
/// its last renewal.
const REDIS_LEASE_MS: u64 = 300;

/// The Redis queue on a `redis-server` of its own.
struct Redis {
    server: RedisServer,
    /// Queues opened so far; each crash's successor is another worker (consumer) on the same keys.
    opened: u32,
}

impl Redis {
    fn new() -> Self {
        Self {
            server: RedisServer::start(),
            opened: 0,
        }
    }

    fn connect(&mut self, options: Options) -> RedisQueue {
        self.opened += 1;
        let settings = QueueSettings {
            prefix: "conformance".into(),
            lease_ms: REDIS_LEASE_MS,
            record_ttl_s: options.record_ttl_s,
            max_kept_input_bytes: options.max_kept_input_bytes,
            ..QueueSettings::default()
        };
        RedisQueue::connect(&self.server.url(), &settings, options.max_queued).unwrap()
    }
}

impl Backend for Redis {
    type Queue = RedisQueue;
    const RELEASED_GOES_FIRST: bool = false;
    const CANCEL_REACHES_THE_LEASE: bool = true;

    fn open(&mut self, options: Options) -> RedisQueue {
        self.connect(options)
    }

    async fn after_crash(&mut self, queue: RedisQueue, options: Options) -> RedisQueue {
        // Redis outlives the worker: another worker takes the job over once its lease has run
        // out, which is what `lease` checks first.
        drop(queue);
        self.connect(options)
    }
}

fn job(id: &str, lane: Lane) -> JobRecord {
    JobRecord::new(id.into(), "p5".into(), serde_json::json!({"n": id}), lane)
}

async fn submit(queue: &impl JobQueue, record: JobRecord) -> JobRecord {
    match queue.submit(record).await.unwrap() {
        Submitted::New(record) => record,
        other => panic!("expected a new job, got {other:?}"),
    }
}

async fn lease(queue: &impl JobQueue) -> JobRecord {
    queue.lease().await.unwrap().expect("a job to lease")
}

async fn get(queue: &impl JobQueue, id: &str) -> Option<JobRecord> {
    queue.get(id.to_string()).await.unwrap()
}

fn ended(mut record: JobRecord, status: JobState) -> JobRecord {
    record.status = status;
    record.finished_at = Some(kiln::queue::record_now_ms());
    record
}

/// Polls `check` every 20 ms until it returns `Some`, for up to `limit`.
async fn wait_for<T, F: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Leases until `queue` hands out job `id`, putting back every other job it hands out meanwhile
/// without spending their attempts (a Redis job whose worker died comes back only once its
/// lease has run out; other jobs may come first).
async fn lease_id(queue: &impl JobQueue, id: &str) -> JobRecord {
    wait_for(id, Duration::from_secs(10), || async move {
        let record = queue.lease().await.unwrap()?;
        if record.id == id {
            Some(record)
        } else {
            queue.release(record).await.unwrap();
            None
        }
    })
    .await
}

/// The job ids `queue` hands out, in order, until it is empty.
async fn drain(queue: &impl JobQueue) -> Vec<String> {
    let mut ids = Vec::new();
    while let Some(record) = queue.lease().await.unwrap() {
        ids.push(record.id);
    }
    ids
}

// --- the tests, each run against both backends (bottom of the file) ----------------------------

async fn interactive_jobs_go_before_bulk_ones_in_submission_order<B: Backend>(mut backend: B) {
    let queue = backend.open(Options::default());
    for (id, lane) in [
        ("bulk-1", Lane::Bulk),
        ("fast-1", Lane::Interactive),
        ("bulk-2", Lane::Bulk),
        ("fast-2", Lane::Interactive),
    ] {
        submit(&queue, job(id, lane)).await;
    }
    let depths = queue.depths().await.unwrap();
    assert_eq!(
        (depths.interactive, depths.bulk, depths.retrying),
        (2, 2, 0)
    );
    let first = lease(&queue).await;
    assert_eq!(
        (first.id.as_str(), first.status, first.attempts),
        ("fast-1", JobState::Running, 1)
    );
    assert!(first.started_at.is_some() && first.timings.queued_ms.is_some());
    assert_eq!(
        get(&queue, "fast-1").await.unwrap().status,
        JobState::Running
    );
    assert_eq!(drain(&queue).await, ["fast-2", "bulk-1", "bulk-2"]);
    assert_eq!(queue.depths().await.unwrap().total(), 0);
}

async fn a_job_whose_process_died_runs_again_with_the_attempt_counted<B: Backend>(mut backend: B) {
    let options = Options::default();
    let queue = backend.open(options);
    submit(&queue, job("victim", Lane::Bulk)).await;
    submit(&queue, job("bystander", Lane::Bulk)).await;
    let victim = lease(&queue).await;
    assert_eq!((victim.id.as_str(), victim.attempts), ("victim", 1));

    let queue = backend.after_crash(queue, options).await;
    let again = lease_id(&queue, "victim").await;
    assert_eq!(
        (again.attempts, again.status),
        (2, JobState::Running),
        "a crash spends an attempt"
    );
    queue
        .finish(ended(again, JobState::Succeeded))
        .await
        .unwrap();
    assert_eq!(
        get(&queue, "victim").await.unwrap().status,
        JobState::Succeeded
    );
    let bystander = lease(&queue).await;
    assert_eq!(
        (bystander.id.as_str(), bystander.attempts),
        ("bystander", 1)
    );
}

async fn retries_wait_out_their_backoff_and_dead_letters_requeue_from_a_first_attempt<
    B: Backend,
>(
    mut backend: B,
) {
    let queue = backend.open(Options::default());
    submit(&queue, job("flaky", Lane::Bulk)).await;
    let leased = lease(&queue).await;
    let backoff = Duration::from_millis(400);
    let put_back = Instant::now();
    queue.retry(leased, backoff).await.unwrap();
    assert_eq!(get(&queue, "flaky").await.unwrap().status, JobState::Queued);
    assert_eq!(queue.depths().await.unwrap().retrying, 1);
    assert!(
        queue.lease().await.unwrap().is_none(),
        "leased before its backoff ended"
    );
    let mut again = wait_for("the retry to be due", Duration::from_secs(10), || {
        let queue = &queue;
        async move { queue.lease().await.unwrap() }
    })
    .await;
    assert!(
        put_back.elapsed() >= backoff,
        "leased {:?} after the retry, before its {backoff:?} backoff",
        put_back.elapsed()
    );
    assert_eq!((again.id.as_str(), again.attempts), ("flaky", 2));
    assert_eq!(queue.depths().await.unwrap().total(), 0);

    again.error = Some(kiln::RenderError::unavailable("storage is down"));
    queue.bury(ended(again, JobState::Failed)).await.unwrap();
    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].id.as_str(), dead[0].status),
        ("flaky", JobState::Failed)
    );
    assert_eq!(dead[0].error.as_ref().unwrap().message, "storage is down");

    let requeued = queue.requeue("flaky".into()).await.unwrap().unwrap();
    assert_eq!((requeued.status, requeued.attempts), (JobState::Queued, 0));
    assert!(requeued.error.is_none() && requeued.finished_at.is_none());
    assert!(queue.dead_letters().await.unwrap().is_empty());
    assert!(
        queue.requeue("flaky".into()).await.unwrap().is_none(),
        "not a dead letter any more"
    );
    assert!(queue.requeue("nobody".into()).await.unwrap().is_none());
    let third = lease(&queue).await;
    assert_eq!((third.id.as_str(), third.attempts), ("flaky", 1));
}

async fn a_released_job_waits_again_without_spending_an_attempt<B: Backend>(mut backend: B) {
    let queue = backend.open(Options::default());
    submit(&queue, job("a", Lane::Bulk)).await;
    submit(&queue, job("b", Lane::Bulk)).await;
    let a = lease(&queue).await;
    assert_eq!((a.id.as_str(), a.attempts), ("a", 1));
    assert_eq!(queue.release(a.clone()).await.unwrap(), Released::Queued);
    let stored = get(&queue, "a").await.unwrap();
    assert_eq!((stored.status, stored.attempts), (JobState::Queued, 0));
    assert!(
        matches!(queue.release(a).await, Err(QueueError::LeaseLost(_))),
        "released twice"
    );
    // Clean stops in a row spend no attempt at all.
    for _ in 0..3 {
        let again = lease_id(&queue, "a").await;
        assert_eq!(again.attempts, 1);
        queue.release(again).await.unwrap();
    }
    let order = drain(&queue).await;
    if B::RELEASED_GOES_FIRST {
        assert_eq!(order, ["a", "b"]);
    } else {
        assert_eq!(order, ["b", "a"]);
    }
}

async fn cancels_remove_waiting_jobs_and_reach_running_ones<B: Backend>(mut backend: B) {
    let queue = backend.open(Options::default());
    for id in ["running", "backing-off", "waiting", "done"] {
        submit(&queue, job(id, Lane::Interactive)).await;
    }
    let running = lease(&queue).await;
    assert_eq!(running.id, "running");
    let backing_off = lease(&queue).await;
    assert_eq!(backing_off.id, "backing-off");
    queue
        .retry(backing_off, Duration::from_secs(3600))
        .await
        .unwrap();

    for id in ["waiting", "backing-off"] {
        assert_eq!(
            queue.cancel(id.into()).await.unwrap(),
            Cancelled::WasQueued,
            "{id}"
        );
        let record = get(&queue, id).await.unwrap();
        assert_eq!(record.status, JobState::Cancelled, "{id}");
        assert!(record.finished_at.is_some(), "{id}");
        assert_eq!(
            queue.cancel(id.into()).await.unwrap(),
            Cancelled::AlreadyDone,
            "{id}"
        );
    }
    assert_eq!(queue.depths().await.unwrap().retrying, 0);
    assert_eq!(
        queue.cancel("nobody".into()).await.unwrap(),
        Cancelled::NotFound
    );

    assert_eq!(queue.heartbeat(&running).await.unwrap(), LeaseState::Held);
    assert_eq!(
        queue.cancel("running".into()).await.unwrap(),
        Cancelled::IsRunning
    );
    let (beat, released) = (
        queue.heartbeat(&running).await.unwrap(),
        queue.release(running.clone()).await.unwrap(),
    );
    if B::CANCEL_REACHES_THE_LEASE {
        assert_eq!(
            (beat, released),
            (LeaseState::CancelRequested, Released::CancelRequested)
        );
        queue
            .finish(ended(running, JobState::Cancelled))
            .await
            .unwrap();
    } else {
        assert_eq!((beat, released), (LeaseState::Held, Released::Queued));
        let again = lease_id(&queue, "running").await;
        queue
            .finish(ended(again, JobState::Cancelled))
            .await
            .unwrap();
    }
    assert_eq!(
        get(&queue, "running").await.unwrap().status,
        JobState::Cancelled
    );
    // "done" is the only job left to run.
    assert_eq!(drain(&queue).await, ["done"]);
}

async fn a_full_queue_a_taken_id_and_a_reused_idempotency_key_are_answered<B: Backend>(
    mut backend: B,
) {
    let queue = backend.open(Options {
        max_queued: 3,
        ..Options::default()
    });
    submit(&queue, job("a", Lane::Interactive)).await;
    assert!(
        matches!(
            queue.submit(job("a", Lane::Bulk)).await,
            Err(QueueError::Duplicate(id)) if id == "a"
        ),
        "an id is taken once"
    );
    let mut keyed = job("keyed", Lane::Bulk);
    keyed.idempotency_key = Some("k1".into());
    submit(&queue, keyed).await;
    let mut again = job("keyed-again", Lane::Bulk);
    again.idempotency_key = Some("k1".into());
    match queue.submit(again).await.unwrap() {
        Submitted::Existing(record) => assert_eq!(record.id, "keyed"),
        other => panic!("expected the first job of the key, got {other:?}"),
    }
    // A job backing off before a retry still waits: it counts against the limit.
    submit(&queue, job("flaky", Lane::Bulk)).await;
    let a = lease(&queue).await;
    queue.finish(ended(a, JobState::Succeeded)).await.unwrap();
    let keyed = lease(&queue).await;
    queue.retry(keyed, Duration::from_secs(3600)).await.unwrap();
    submit(&queue, job("b", Lane::Bulk)).await;
    match queue.submit(job("c", Lane::Bulk)).await {
        Err(QueueError::Full { queued, limit }) => assert_eq!((queued, limit), (3, 3)),
        other => panic!("expected a full queue, got {other:?}"),
    }
    assert_eq!(queue.depths().await.unwrap().total(), 3);

    // A job final from the start (a cache hit under a chosen id) takes its id too.
    let mut hit = ended(job("hit", Lane::Interactive), JobState::Succeeded);
    hit.cached = true;
    queue.store_final(hit.clone()).await.unwrap();
    assert_eq!(
        get(&queue, "hit").await.unwrap().status,
        JobState::Succeeded
    );
    assert!(matches!(
        queue.store_final(hit).await,
        Err(QueueError::Duplicate(_))
    ));
    assert!(matches!(
        queue.submit(job("hit", Lane::Bulk)).await,
        Err(QueueError::Duplicate(_))
    ));
}

async fn the_cache_answers_a_succeeded_job_until_its_ttl_ends<B: Backend>(mut backend: B) {
    let queue = backend.open(Options::default());
    for id in ["done", "failed"] {
        submit(&queue, job(id, Lane::Interactive)).await;
    }
    let done = lease(&queue).await;
    queue
        .finish(ended(done, JobState::Succeeded))
        .await
        .unwrap();
    let failed = lease(&queue).await;
    queue.finish(ended(failed, JobState::Failed)).await.unwrap();
    queue
        .remember("k".into(), "done".into(), Duration::from_secs(1))
        .await
        .unwrap();
    queue
        .remember("k-failed".into(), "failed".into(), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(queue.cached("k".into()).await.unwrap().unwrap().id, "done");
    assert!(queue.cached("other".into()).await.unwrap().is_none());
    assert!(
        queue.cached("k-failed".into()).await.unwrap().is_none(),
        "only a succeeded job answers from the cache"
    );
    let remembered = Instant::now();
    wait_for("the cache entry to expire", Duration::from_secs(5), || {
        let queue = &queue;
        async move {
            queue.expire().await.unwrap();
            queue
                .cached("k".into())
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    assert!(
        remembered.elapsed() >= Duration::from_millis(900),
        "expired {:?} after it was remembered for 1 s",
        remembered.elapsed()
    );
}

async fn ended_jobs_expire_after_their_ttl_and_keep_no_large_input<B: Backend>(mut backend: B) {
    let options = Options {
        record_ttl_s: 1,
        max_kept_input_bytes: 1000,
        ..Options::default()
    };
    let queue = backend.open(options);
    let mut big = job("big", Lane::Interactive);
    big.input = serde_json::json!({ "code": "x".repeat(5000) });
    big.idempotency_key = Some("k-big".into());
    submit(&queue, big).await;
    for id in ["small", "doomed", "revived", "cancelled"] {
        submit(&queue, job(id, Lane::Interactive)).await;
    }
    let big = lease(&queue).await;
    assert_eq!(
        big.input["code"].as_str().unwrap().len(),
        5000,
        "kept while it runs"
    );
    queue.finish(ended(big, JobState::Failed)).await.unwrap();
    let small = lease(&queue).await;
    queue
        .finish(ended(small, JobState::Succeeded))
        .await
        .unwrap();
    let mut doomed = lease(&queue).await;
    doomed.input = serde_json::json!({ "code": "y".repeat(5000) });
    queue.bury(ended(doomed, JobState::Failed)).await.unwrap();
    let revived = lease(&queue).await;
    queue.bury(ended(revived, JobState::Failed)).await.unwrap();
    assert_eq!(
        queue.cancel("cancelled".into()).await.unwrap(),
        Cancelled::WasQueued
    );

    let big = get(&queue, "big").await.unwrap();
    assert!(big.input.is_null(), "{:?}", big.input);
    let dropped = big.input_dropped.unwrap();
    assert!(
        dropped.bytes > 5000 && dropped.sha256.len() == 64,
        "{dropped:?}"
    );
    assert_eq!(
        get(&queue, "small").await.unwrap().input,
        serde_json::json!({"n": "small"})
    );
    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter().all(|d| d.input_dropped.is_none()),
        "dead letters keep their input, to run again"
    );
    // A requeued dead letter waits to run again: it no longer expires.
    queue.requeue("revived".into()).await.unwrap().unwrap();

    let gone = ["big", "small", "doomed", "cancelled"];
    wait_for("the ended jobs to expire", Duration::from_secs(10), || {
        let queue = &queue;
        async move {
            queue.expire().await.unwrap();
            for id in gone {
                if get(queue, id).await.is_some() {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(queue.dead_letters().await.unwrap().is_empty());
    let revived = get(&queue, "revived").await.unwrap();
    assert_eq!(revived.status, JobState::Queued);
    // The idempotency key went with its job: it names a new one now.
    let mut again = job("big-2", Lane::Interactive);
    again.idempotency_key = Some("k-big".into());
    assert!(matches!(
        queue.submit(again).await.unwrap(),
        Submitted::New(_)
    ));
}

/// Each test function above, once per backend.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod embedded {
            $(
                #[test]
                fn $test() {
                    super::block_on(super::$test(super::Embedded::new()));
                }
            )*
        }
        mod redis {
            $(
                #[test]
                fn $test() {
                    super::block_on(super::$test(super::Redis::new()));
                }
            )*
        }
    };
}

conformance!(
    interactive_jobs_go_before_bulk_ones_in_submission_order,
    a_job_whose_process_died_runs_again_with_the_attempt_counted,
    retries_wait_out_their_backoff_and_dead_letters_requeue_from_a_first_attempt,
    a_released_job_waits_again_without_spending_an_attempt,
    cancels_remove_waiting_jobs_and_reach_running_ones,
    a_full_queue_a_taken_id_and_a_reused_idempotency_key_are_answered,
    the_cache_answers_a_succeeded_job_until_its_ttl_ends,
    ended_jobs_expire_after_their_ttl_and_keep_no_large_input,
);
