//! Counters in Redis, shared by every instance of an app (feature `redis`).

use redis::{aio::ConnectionManager, Script};

use super::{
    counter::{Counter, CounterKey},
    policy::Verdict,
    store::{BoxFuture, ThrottleStore, ThrottleStoreError},
};

/// `decide` (policy.rs) inside Redis: KEYS are the counters, ARGV[1] is `now`, then four
/// numbers per key (max_failures, window, first_lock, max_lock). Returns 0 when allowed, else
/// the seconds to wait. Each counter is a hash (`f` failures, `w` window end, `l` locked until,
/// `s` strikes, `x` expires at) whose key expires by itself at `x`.
///
/// Keep in sync with `policy.rs`: the same steps, in the same order.
const ATTEMPT: &str = r"
local now = tonumber(ARGV[1])
local entries = {}
for i, key in ipairs(KEYS) do
  local a = 1 + (i - 1) * 4
  local v = redis.call('HMGET', key, 'f', 'w', 'l', 's', 'x')
  local e = {
    max = tonumber(ARGV[a + 1]), window = tonumber(ARGV[a + 2]),
    first = tonumber(ARGV[a + 3]), cap = tonumber(ARGV[a + 4]),
    f = tonumber(v[1]) or 0, w = tonumber(v[2]) or 0, l = tonumber(v[3]) or 0,
    s = tonumber(v[4]) or 0, x = tonumber(v[5]) or 0,
  }
  if e.x <= now then
    e.f, e.w, e.l, e.s, e.x = 0, 0, 0, 0, 0
  end
  entries[i] = e
end
local function expiry(e)
  if e.s == 0 then return e.w end
  return math.max(e.w, e.l) + e.cap
end
local function save(key, e)
  if e.x <= now then
    redis.call('DEL', key)
    return
  end
  local d = function(n) return string.format('%d', n) end
  redis.call('HSET', key, 'f', d(e.f), 'w', d(e.w), 'l', d(e.l), 's', d(e.s), 'x', d(e.x))
  redis.call('EXPIRE', key, d(e.x - now))
end
local refused, retry = false, 0
for i, e in ipairs(entries) do
  local wait = nil
  if e.l > now then
    wait = e.l - now
  elseif e.w > now and e.f >= e.max then
    wait = math.min(e.first * 2 ^ math.min(e.s, 62), e.cap)
    e.l = now + wait
    e.s = e.s + 1
    e.f = 0
    e.w = now
    e.x = expiry(e)
    save(KEYS[i], e)
  end
  if wait then
    refused = true
    retry = math.max(retry, wait)
  end
end
if refused then
  return math.max(retry, 1)
end
for i, e in ipairs(entries) do
  if e.w <= now then
    e.f = 0
    e.w = now + e.window
  end
  e.f = e.f + 1
  e.x = expiry(e)
  save(KEYS[i], e)
end
return 0
";

/// A success: the first ARGV[2] KEYS are deleted, the others refunded (`Entry::refund` in
/// policy.rs); ARGV[1] is `now`. Keep in sync with `policy.rs`.
const SUCCEEDED: &str = r"
local now = tonumber(ARGV[1])
local forget = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if i <= forget then
    redis.call('DEL', key)
  else
    local v = redis.call('HMGET', key, 'f', 'w', 'x')
    local f, w, x = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
    if x > now and w > now and f > 0 then
      redis.call('HSET', key, 'f', string.format('%d', f - 1))
    end
  end
end
return 0
";

/// Counters kept in Redis under a key prefix, shared by every instance of the app. Each attempt
/// is one script call (atomic over its two counters, so concurrent attempts on any instance
/// never pass a full counter), and each key expires by itself when its counter may be
/// forgotten. The connection reconnects by itself after Redis restarts.
///
/// Keys: `<prefix><32 hex digits>`, a keyed hash of the account name or address (never the raw
/// value). On Redis Cluster both counters of an attempt must share a slot: put a hash tag in the
/// prefix (`"{throttle}:"`).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use session_core::{throttle::{RedisThrottleStore, Throttle}, Key};
/// let key = Key::from_env("SESSION_SECRET")?;
/// let store = RedisThrottleStore::connect("redis://127.0.0.1:6379").await?.prefix("myapp:throttle:");
/// let throttle = Throttle::builder(&key).store(Arc::new(store)).build()?;
/// # let _ = throttle;
/// # Ok(()) }
/// ```
pub struct RedisThrottleStore {
    conn: ConnectionManager,
    prefix: String,
    attempt: Script,
    succeeded: Script,
}

impl std::fmt::Debug for RedisThrottleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisThrottleStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisThrottleStore {
    /// Connects to `url` (`redis://host:port/db`) with the default prefix
    /// `"session-core:throttle:"`.
    pub async fn connect(url: &str) -> Result<Self, ThrottleStoreError> {
        let conn = crate::redis_conn::connect(url).await.map_err(unavailable)?;
        Ok(Self::from_manager(conn))
    }

    /// Uses an existing connection manager (e.g. the one your app already has).
    pub fn from_manager(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: "session-core:throttle:".to_owned(),
            attempt: Script::new(ATTEMPT),
            succeeded: Script::new(SUCCEEDED),
        }
    }

    /// The key prefix. Default: `"session-core:throttle:"`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, key: &CounterKey) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn unavailable(e: redis::RedisError) -> ThrottleStoreError {
    ThrottleStoreError::Unavailable(e.to_string())
}

impl ThrottleStore for RedisThrottleStore {
    fn attempt<'a>(
        &'a self,
        counters: &'a [Counter],
        now: i64,
    ) -> BoxFuture<'a, Result<Verdict, ThrottleStoreError>> {
        Box::pin(async move {
            let mut invocation = self.attempt.prepare_invoke();
            invocation.arg(now);
            for counter in counters {
                let limit = &counter.limit;
                invocation
                    .key(self.key(&counter.key))
                    .arg(limit.max_failures())
                    .arg(limit.window_secs())
                    .arg(limit.first_lock_secs())
                    .arg(limit.max_lock_secs());
            }
            let mut conn = self.conn.clone();
            let retry_after: u64 = invocation
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(match retry_after {
                0 => Verdict::Allowed,
                retry_after => Verdict::Refused { retry_after },
            })
        })
    }

    fn succeeded<'a>(
        &'a self,
        forget: &'a [CounterKey],
        refund: &'a [CounterKey],
        now: i64,
    ) -> BoxFuture<'a, Result<(), ThrottleStoreError>> {
        Box::pin(async move {
            let mut invocation = self.succeeded.prepare_invoke();
            invocation.arg(now).arg(forget.len());
            for key in forget.iter().chain(refund) {
                invocation.key(self.key(key));
            }
            let mut conn = self.conn.clone();
            invocation
                .invoke_async::<()>(&mut conn)
                .await
                .map_err(unavailable)
        })
    }
}
