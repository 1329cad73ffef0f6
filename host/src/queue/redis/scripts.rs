//! The Lua scripts that make each queue transition one atomic step in Redis. Every script takes
//! the key prefix as `ARGV[1]` and builds the names of `keys.rs` from it; the job hash's `status`
//! field is the authority on where a job stands.

/// Creates the worker group on a lane stream if it is missing (a fresh or flushed Redis).
const ENSURE_GROUP: &str = r#"
local function ensure(stream)
  pcall(redis.call, 'XGROUP', 'CREATE', stream, 'workers', '0', 'MKSTREAM')
end
local function waiting(p)
  local n = 0
  for _, lane in ipairs({'interactive', 'bulk'}) do
    local s = p .. ':lane:' .. lane
    ensure(s)
    n = n + redis.call('XLEN', s) - redis.call('XPENDING', s, 'workers')[1]
  end
  return n
end
"#;

/// ARGV: prefix, id, lane, record JSON, idempotency key or '', max queued, key TTL (s).
/// Returns `{'new', entry}`, `{'existing', id}`, `{'duplicate', id}` or `{'full', queued}`.
const SUBMIT: &str = r#"
local p, id, lane = ARGV[1], ARGV[2], ARGV[3]
local job = p .. ':job:' .. id
if ARGV[5] ~= '' then
  local earlier = redis.call('GET', p .. ':idem:' .. ARGV[5])
  if earlier then return {'existing', earlier} end
end
if redis.call('EXISTS', job) == 1 then return {'duplicate', id} end
local queued = waiting(p) + redis.call('ZCARD', p .. ':delayed')
if queued >= tonumber(ARGV[6]) then return {'full', tostring(queued)} end
local entry = redis.call('XADD', p .. ':lane:' .. lane, '*', 'id', id)
redis.call('HSET', job, 'record', ARGV[4], 'status', 'queued', 'attempts', 0, 'lane', lane, 'entry', entry)
if ARGV[5] ~= '' then redis.call('SET', p .. ':idem:' .. ARGV[5], id, 'EX', ARGV[7]) end
return {'new', entry}
"#;

/// ARGV: prefix, id, lane, record JSON, final status, record TTL (s), public JSON, emprops result
/// JSON or ''. Stores a job that is final from the start (a result-cache hit under the id its
/// client chose) and hands out its result as finishing a job does. Returns 'stored' or
/// 'duplicate'.
const STORE_FINAL: &str = r#"
local p, id = ARGV[1], ARGV[2]
local job = p .. ':job:' .. id
if redis.call('EXISTS', job) == 1 then return 'duplicate' end
redis.call('HSET', job, 'record', ARGV[4], 'status', ARGV[5], 'attempts', 0, 'lane', ARGV[3])
redis.call('EXPIRE', job, ARGV[6])
local result = p .. ':result:' .. id
redis.call('DEL', result)
redis.call('LPUSH', result, ARGV[7])
redis.call('EXPIRE', result, ARGV[6])
if ARGV[8] ~= '' then
  local reply = p .. ':emprops:result:' .. id
  redis.call('DEL', reply)
  redis.call('LPUSH', reply, ARGV[8])
  redis.call('EXPIRE', reply, ARGV[6])
end
redis.call('PUBLISH', p .. ':results', id)
return 'stored'
"#;

/// ARGV: prefix, consumer, now (ms), lease (ms).
/// Promotes due retries, then takes a job whose worker's lease ran out, or else a new one,
/// interactive lane first. Returns `{id, entry, lane, attempts, record JSON}` or `{}`.
const LEASE: &str = r#"
local p, consumer, now, lease_ms = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local delayed = p .. ':delayed'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', delayed, id)
  local job = p .. ':job:' .. id
  local state = redis.call('HMGET', job, 'status', 'lane')
  if state[1] == 'queued' then
    local entry = redis.call('XADD', p .. ':lane:' .. state[2], '*', 'id', id)
    redis.call('HSET', job, 'entry', entry)
  end
end
for _, lane in ipairs({'interactive', 'bulk'}) do
  local s = p .. ':lane:' .. lane
  ensure(s)
  for _ = 1, 100 do
    local entry, id, reclaimed = nil, nil, false
    local stale = redis.call('XPENDING', s, 'workers', 'IDLE', lease_ms, '-', '+', 1)
    if #stale > 0 then
      local got = redis.call('XCLAIM', s, 'workers', consumer, lease_ms, stale[1][1])
      if #got > 0 and got[1] then
        entry, id, reclaimed = got[1][1], got[1][2][2], true
      else
        redis.call('XACK', s, 'workers', stale[1][1])
      end
    end
    if not entry then
      local read = redis.call('XREADGROUP', 'GROUP', 'workers', consumer, 'COUNT', 1, 'STREAMS', s, '>')
      if read and read[1] and #read[1][2] > 0 then
        entry, id = read[1][2][1][1], read[1][2][1][2][2]
      end
    end
    if not entry then break end
    local job = p .. ':job:' .. id
    local state = redis.call('HMGET', job, 'status', 'entry', 'attempts', 'record')
    local runnable = state[2] == entry and (state[1] == 'queued' or (reclaimed and state[1] == 'running'))
    if not runnable then
      -- Cancelled, finished, expired or superseded by a newer entry: drop it.
      redis.call('XACK', s, 'workers', entry)
      redis.call('XDEL', s, entry)
    else
      local attempts = tonumber(state[3] or '0') + 1
      redis.call('HSET', job, 'status', 'running', 'attempts', attempts, 'started_at', now,
        'worker', consumer)
      redis.call('HDEL', job, 'cancel')
      return {id, entry, lane, tostring(attempts), state[4]}
    end
  end
end
return {}
"#;

/// The lease check that opens every script a leased job's worker runs.
/// ARGV: prefix, id, consumer, entry, lane, ...
const HOLDS_LEASE: &str = r#"
local p, id, consumer, entry, lane = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local job = p .. ':job:' .. id
local stream = p .. ':lane:' .. lane
local state = redis.call('HMGET', job, 'status', 'worker', 'entry', 'cancel')
local held = state[1] == 'running' and state[2] == consumer and state[3] == entry
"#;

/// Returns `held`, `cancel` or `lost`, and renews the lease when held.
const HEARTBEAT: &str = r#"
if not held then return 'lost' end
redis.call('XCLAIM', stream, 'workers', consumer, 0, entry, 'JUSTID')
if state[4] then return 'cancel' end
return 'held'
"#;

/// ARGV 6..: record JSON, final status, record TTL (s), public JSON, '1' to bury,
/// emprops result JSON or ''. Returns 1, or 0 when the lease was lost.
const FINISH: &str = r#"
if not held then return 0 end
redis.call('HSET', job, 'record', ARGV[6], 'status', ARGV[7])
redis.call('HDEL', job, 'cancel', 'worker')
redis.call('XACK', stream, 'workers', entry)
redis.call('XDEL', stream, entry)
redis.call('EXPIRE', job, ARGV[8])
if ARGV[10] == '1' then redis.call('LPUSH', p .. ':dead', id) end
local result = p .. ':result:' .. id
redis.call('DEL', result)
redis.call('LPUSH', result, ARGV[9])
redis.call('EXPIRE', result, ARGV[8])
if ARGV[11] ~= '' then
  local reply = p .. ':emprops:result:' .. id
  redis.call('DEL', reply)
  redis.call('LPUSH', reply, ARGV[11])
  redis.call('EXPIRE', reply, ARGV[8])
end
redis.call('PUBLISH', p .. ':results', id)
return 1
"#;

/// ARGV 6..: record JSON, due (Unix ms). Returns 1, or 0 when the lease was lost.
const RETRY: &str = r#"
if not held then return 0 end
redis.call('HSET', job, 'record', ARGV[6], 'status', 'queued')
redis.call('HDEL', job, 'worker', 'cancel')
redis.call('XACK', stream, 'workers', entry)
redis.call('XDEL', stream, entry)
redis.call('ZADD', p .. ':delayed', ARGV[7], id)
return 1
"#;

/// ARGV 6..: record JSON (its attempt not counted). Puts a running job back at the end of its
/// lane without counting the attempt (its worker stopped cleanly). Returns 1, 2 when a client
/// asked to cancel it meanwhile (nothing changed), or 0 when the lease was lost.
const RELEASE: &str = r#"
if not held then return 0 end
if state[4] then return 2 end
local attempts = tonumber(redis.call('HGET', job, 'attempts') or '1') - 1
if attempts < 0 then attempts = 0 end
redis.call('XACK', stream, 'workers', entry)
redis.call('XDEL', stream, entry)
local next = redis.call('XADD', stream, '*', 'id', id)
redis.call('HSET', job, 'record', ARGV[6], 'status', 'queued', 'attempts', attempts, 'entry', next)
redis.call('HDEL', job, 'worker', 'started_at')
return 1
"#;

/// ARGV: prefix, id, cancelled record JSON, public JSON, record TTL (s).
/// Returns `was_queued`, `is_running`, `already_done` or `not_found`.
const CANCEL: &str = r#"
local p, id = ARGV[1], ARGV[2]
local job = p .. ':job:' .. id
local state = redis.call('HMGET', job, 'status', 'lane', 'entry')
if not state[1] then return 'not_found' end
if state[1] == 'queued' then
  redis.call('HSET', job, 'status', 'cancelled', 'record', ARGV[3])
  redis.call('XDEL', p .. ':lane:' .. state[2], state[3])
  redis.call('ZREM', p .. ':delayed', id)
  redis.call('EXPIRE', job, ARGV[5])
  local result = p .. ':result:' .. id
  redis.call('LPUSH', result, ARGV[4])
  redis.call('EXPIRE', result, ARGV[5])
  redis.call('PUBLISH', p .. ':results', id)
  return 'was_queued'
elseif state[1] == 'running' then
  redis.call('HSET', job, 'cancel', '1')
  return 'is_running'
end
return 'already_done'
"#;

/// ARGV: prefix, id, reset record JSON. Returns the new entry, or false if `id` is no dead
/// letter.
const REQUEUE: &str = r#"
local p, id = ARGV[1], ARGV[2]
if redis.call('LREM', p .. ':dead', 0, id) == 0 then return false end
local job = p .. ':job:' .. id
local lane = redis.call('HGET', job, 'lane')
if not lane then return false end
local stream = p .. ':lane:' .. lane
ensure(stream)
local entry = redis.call('XADD', stream, '*', 'id', id)
redis.call('HSET', job, 'record', ARGV[3], 'status', 'queued', 'attempts', 0, 'entry', entry)
redis.call('PERSIST', job)
redis.call('DEL', p .. ':result:' .. id, p .. ':emprops:result:' .. id)
return entry
"#;

/// ARGV: prefix. Returns `{interactive, bulk, retrying}`.
const DEPTHS: &str = r#"
local p = ARGV[1]
local out = {}
for i, lane in ipairs({'interactive', 'bulk'}) do
  local s = p .. ':lane:' .. lane
  ensure(s)
  out[i] = redis.call('XLEN', s) - redis.call('XPENDING', s, 'workers')[1]
end
out[3] = redis.call('ZCARD', p .. ':delayed')
return out
"#;

/// The compiled scripts (loaded into Redis on first use, then called by SHA).
pub struct Scripts {
    pub submit: redis::Script,
    pub store_final: redis::Script,
    pub lease: redis::Script,
    pub heartbeat: redis::Script,
    pub finish: redis::Script,
    pub retry: redis::Script,
    pub release: redis::Script,
    pub cancel: redis::Script,
    pub requeue: redis::Script,
    pub depths: redis::Script,
}

impl Scripts {
    pub fn new() -> Self {
        let with_helpers = |body: &str| redis::Script::new(&format!("{ENSURE_GROUP}{body}"));
        let leased = |body: &str| redis::Script::new(&format!("{HOLDS_LEASE}{body}"));
        Self {
            submit: with_helpers(SUBMIT),
            store_final: redis::Script::new(STORE_FINAL),
            lease: with_helpers(LEASE),
            heartbeat: leased(HEARTBEAT),
            finish: leased(FINISH),
            retry: leased(RETRY),
            release: leased(RELEASE),
            cancel: redis::Script::new(CANCEL),
            requeue: with_helpers(REQUEUE),
            depths: with_helpers(DEPTHS),
        }
    }
}
