//! Counters in Redis, shared by every instance of an app (feature `redis`).

use redis::{aio::ConnectionManager, cluster_async::ClusterConnection, Script};

use super::{
    store::{Counter, CounterKey, Verdict},
    ThrottleStore,
};
use crate::{
    bound::StoreError,
    redis_conn::{cluster_prefix, Conn},
};

/// The default prefix on one server.
const PREFIX: &str = "session-core:throttle:";
/// The default prefix on a cluster: the hash tag puts every counter of the throttle in one slot.
const CLUSTER_PREFIX: &str = "{session-core:throttle}:";

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
/// policy.rs) if the attempt, charged at ARGV[3], was charged in their current window; ARGV[1]
/// is `now`, ARGV[3 + j] the window of the j-th refunded key. Keep in sync with `policy.rs`.
const SUCCEEDED: &str = r"
local now = tonumber(ARGV[1])
local forget = tonumber(ARGV[2])
local charged = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  if i <= forget then
    redis.call('DEL', key)
  else
    local window = tonumber(ARGV[3 + i - forget])
    local v = redis.call('HMGET', key, 'f', 'w', 'x')
    local f, w, x = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
    if x > now and w > now and w - window <= charged and f > 0 then
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
/// value).
///
/// On a Redis Cluster ([`RedisThrottleStore::connect_cluster`]) an attempt's script reads and
/// charges its account's and its address's counters atomically, so the two must share a slot;
/// and since one account's counter meets every address and one address's counter every account,
/// that means all counters of one throttle share one slot (one master). The prefix therefore
/// always carries a hash tag (see [`RedisThrottleStore::prefix`]); throttles with different
/// prefixes spread over the masters.
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
    conn: Conn,
    prefix: String,
    attempt: Script,
    succeeded: Script,
}

impl std::fmt::Debug for RedisThrottleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisThrottleStore")
            .field("prefix", &self.prefix)
            .field("cluster", &self.conn.is_cluster())
            .finish_non_exhaustive()
    }
}

impl RedisThrottleStore {
    /// Connects to `url` (`redis://host:port/db`) with the default prefix
    /// `"session-core:throttle:"`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let conn = crate::redis_conn::connect(url).await.map_err(unavailable)?;
        Ok(Self::from_manager(conn))
    }

    /// Uses an existing connection manager (e.g. the one your app already has).
    pub fn from_manager(conn: ConnectionManager) -> Self {
        Self::new(Conn::Single(conn), PREFIX)
    }

    /// Connects to the Redis Cluster that `urls` (`redis://host:port`, one or more of its nodes)
    /// belong to, with the default prefix `"{session-core:throttle}:"`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use session_core::throttle::RedisThrottleStore;
    /// let nodes = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"];
    /// let store = RedisThrottleStore::connect_cluster(nodes).await?.prefix("myapp:throttle:");
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub async fn connect_cluster<I, S>(urls: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let conn = crate::redis_conn::connect_cluster(urls)
            .await
            .map_err(unavailable)?;
        Ok(Self::from_cluster(conn))
    }

    /// Uses an existing Redis Cluster connection, with the default prefix
    /// `"{session-core:throttle}:"`.
    pub fn from_cluster(conn: ClusterConnection) -> Self {
        Self::new(Conn::Cluster(conn), CLUSTER_PREFIX)
    }

    fn new(conn: Conn, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            attempt: Script::new(ATTEMPT),
            succeeded: Script::new(SUCCEEDED),
        }
    }

    /// The key prefix. Default: `"session-core:throttle:"`, or `"{session-core:throttle}:"` on a
    /// cluster.
    ///
    /// On a cluster the prefix always has a hash tag (`{...}`), so that every counter of the
    /// throttle hashes to one slot: a prefix that has one is kept as it is
    /// (`"{myapp:throttle}:"`), any other is wrapped in braces (`"myapp:throttle:"` becomes
    /// `"{myapp:throttle:}"`), and an empty one becomes `"{session-core:throttle}"`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.prefix = if self.conn.is_cluster() {
            cluster_prefix(&prefix, "session-core:throttle")
        } else {
            prefix
        };
        self
    }

    fn key(&self, key: &CounterKey) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl ThrottleStore for RedisThrottleStore {
    async fn attempt(&self, counters: &[Counter], now: i64) -> Result<Verdict, StoreError> {
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
    }

    async fn succeeded(
        &self,
        forget: &[CounterKey],
        refund: &[Counter],
        charged_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut invocation = self.succeeded.prepare_invoke();
        invocation.arg(now).arg(forget.len()).arg(charged_at);
        for key in forget {
            invocation.key(self.key(key));
        }
        for counter in refund {
            invocation
                .key(self.key(&counter.key))
                .arg(counter.limit.window_secs());
        }
        let mut conn = self.conn.clone();
        invocation
            .invoke_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }
}
