//! Revocations in Redis, shared by every instance of an app (feature `redis`).

use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Instant,
};

use redis::{
    aio::{ConnectionLike, ConnectionManager},
    cluster_async::ClusterConnection,
    AsyncCommands, Client, RedisError, Script,
};

use super::{
    store::{keep_until, SessionRecord},
    Revocations,
};
use crate::{
    bound::StoreError,
    events::TARGET,
    redis_conn::{cluster_prefix, Conn},
};

/// The default prefix on one server.
const PREFIX: &str = "session-core:";
/// The default prefix on a cluster: the hash tag puts every key of the store in one slot.
const CLUSTER_PREFIX: &str = "{session-core}:";

/// Revokes a session id (KEYS[1]) for at least ARGV[1] seconds (never shortening an earlier
/// revocation) and announces it on channel ARGV[2] as `s <ttl> <sid>` (sid = ARGV[3]).
///
/// The write and the announcement are one script, so they are one atomic step: no mirror can
/// miss a revocation that Redis holds except by losing its subscription, which it notices (see
/// [`super::RevocationMirror`]).
const REVOKE_SESSION: &str = r"
local ttl = math.max(tonumber(ARGV[1]), redis.call('TTL', KEYS[1]))
redis.call('SET', KEYS[1], '1', 'EX', ttl)
redis.call('PUBLISH', ARGV[2], string.format('s %d ', ttl) .. ARGV[3])
return ttl
";

/// Moves the user's generation (KEYS[1]) past both its current value and Redis's own clock in
/// microseconds, keeps it ARGV[1] seconds, announces it on channel ARGV[2] as
/// `u <generation> <ttl> <user>` (user = ARGV[3]), and returns it. Redis's clock, not an
/// instance's: the generation is above every value ever handed out, even after the key expired
/// and came back. (Microseconds since 1970 stay below 2^53, exact in Lua's doubles.)
const REVOKE_USER: &str = r"
local time = redis.call('TIME')
local micros = tonumber(time[1]) * 1000000 + tonumber(time[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local generation = math.max(current + 1, micros)
local ttl = math.max(tonumber(ARGV[1]), redis.call('TTL', KEYS[1]))
redis.call('SET', KEYS[1], string.format('%d', generation), 'EX', ttl)
redis.call('PUBLISH', ARGV[2], string.format('u %d %d ', generation, ttl) .. ARGV[3])
return generation
";

/// The user's generation (KEYS[1], 0 when none) and Redis's clock in microseconds, read in one
/// step: [`RedisRevocations::login_generation`] compares them.
const LOGIN_GENERATION: &str = r"
local time = redis.call('TIME')
local micros = tonumber(time[1]) * 1000000 + tonumber(time[2])
return {redis.call('GET', KEYS[1]) or '0', string.format('%d', micros)}
";

/// Revocations kept in Redis under a key prefix, each key expiring by itself (`SET .. EX`) when
/// the cookies it revokes could no longer be valid anyway.
///
/// Keys: `<prefix>sid:<session id>` and `<prefix>user:<user id>` (the user's generation, moved
/// by a script on Redis's own clock, so instances' clocks never matter). One round trip (`MGET`)
/// per authenticated request, one `GET` per login. The connection reconnects by itself after
/// Redis restarts.
///
/// On a Redis Cluster ([`RedisRevocations::connect_cluster`]) every key of one store lives in
/// one hash slot, so the `MGET` and the scripts run on the one master owning it: the prefix
/// always carries a hash tag (see [`RedisRevocations::prefix`]).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use session_core::{revocation::RedisRevocations, AuthSession, Key};
/// let store = RedisRevocations::connect("redis://127.0.0.1:6379").await?.prefix("myapp:");
/// let auth = AuthSession::builder(Key::from_env("SESSION_SECRET")?)
///     .revocations(store)
///     .build()?;
/// # Ok(()) }
/// ```
///
/// **Durability.** A revocation is only as good as Redis's memory of it: a server that may
/// evict keys (`maxmemory-policy` other than `noeviction`) or keeps no persistence (`appendonly
/// no` and no `save` points) can lose revocations, and a lost revocation is a logged-out session
/// that works again. [`Self::connect`] and [`Self::connect_cluster`] check both settings, and
/// check again after every reconnection, emitting a warning event (target
/// [`crate::events::TARGET`], `event = "revocation_store_not_durable"`, fields `setting` and
/// `value`) for each risk found; [`Self::require_durable`] refuses to start on such a server.
/// (A [`super::RevocationMirror`] in front of the store keeps what it has seen even then.)
#[derive(Clone)]
pub struct RedisRevocations {
    conn: Conn,
    /// Set when a call failed on the connection: the next call that succeeds went over a new
    /// connection, possibly to a restarted or another server, whose settings are checked again.
    reconnecting: Arc<AtomicBool>,
    /// The server's client when connected by URL (on a cluster: the first node's, as a template
    /// for the master owning the store's slot): a [`super::RevocationMirror`] opens its
    /// subscription and its loading connection with it.
    client: Option<Client>,
    prefix: String,
    /// The users this process revoked lately: the generation each `revoke_user` call wrote and
    /// the instant it returned (see `login_generation_parts`).
    revoked_here: Arc<Mutex<HashMap<String, (u64, Instant)>>>,
}

/// At most this many users in `revoked_here`; a full table is emptied (it only sharpens the
/// stamp of a login right after a revocation on this process, never decides a refusal).
const REVOKED_HERE_MAX: usize = 1024;

impl std::fmt::Debug for RedisRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRevocations")
            .field("prefix", &self.prefix)
            .field("cluster", &self.is_cluster())
            .finish_non_exhaustive()
    }
}

impl RedisRevocations {
    /// Connects to `url` (`redis://host:port/db`) with the default prefix `"session-core:"`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(unavailable)?;
        let conn = crate::redis_conn::manage(client.clone())
            .await
            .map_err(unavailable)?;
        let store = Self {
            client: Some(client),
            ..Self::from_manager(conn)
        };
        store.warn_if_not_durable().await;
        Ok(store)
    }

    /// Uses an existing connection manager (e.g. the one your app already has). A store made
    /// this way cannot feed a [`super::RevocationMirror`]: use [`Self::connect`] for that.
    pub fn from_manager(conn: ConnectionManager) -> Self {
        Self {
            conn: Conn::Single(conn),
            reconnecting: Arc::default(),
            client: None,
            prefix: PREFIX.to_owned(),
            revoked_here: Arc::default(),
        }
    }

    /// Connects to the Redis Cluster that `urls` (`redis://host:port`, one or more of its nodes)
    /// belong to, with the default prefix `"{session-core}:"`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use session_core::revocation::RedisRevocations;
    /// let nodes = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"];
    /// let store = RedisRevocations::connect_cluster(nodes).await?.prefix("myapp:");
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub async fn connect_cluster<I, S>(urls: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let urls: Vec<String> = urls.into_iter().map(|u| u.as_ref().to_owned()).collect();
        // The first node's settings (credentials, TLS) are the template a mirror uses to reach
        // whichever master owns the store's slot.
        let template = match urls.first() {
            Some(url) => Some(Client::open(url.as_str()).map_err(unavailable)?),
            None => None,
        };
        let conn = crate::redis_conn::connect_cluster(&urls)
            .await
            .map_err(unavailable)?;
        let store = Self {
            client: template,
            ..Self::from_cluster(conn)
        };
        store.warn_if_not_durable().await;
        Ok(store)
    }

    /// Uses an existing Redis Cluster connection, with the default prefix `"{session-core}:"`. A
    /// store made this way cannot feed a [`super::RevocationMirror`]: use
    /// [`Self::connect_cluster`] for that.
    pub fn from_cluster(conn: ClusterConnection) -> Self {
        Self {
            conn: Conn::Cluster(conn),
            reconnecting: Arc::default(),
            client: None,
            prefix: CLUSTER_PREFIX.to_owned(),
            revoked_here: Arc::default(),
        }
    }

    /// The key prefix. Default: `"session-core:"`, or `"{session-core}:"` on a cluster.
    ///
    /// On a cluster the prefix always has a hash tag (`{...}`), so that every key of the store
    /// hashes to one slot: a prefix that has one is kept as it is (`"{myapp}:"`), any other is
    /// wrapped in braces (`"myapp:"` becomes `"{myapp:}"`, keys `{myapp:}sid:<sid>`), and an empty
    /// one becomes `"{session-core}"`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.prefix = if self.is_cluster() {
            cluster_prefix(&prefix, "session-core")
        } else {
            prefix
        };
        self
    }

    /// The settings under which the server can lose this store's keys, read now with
    /// `CONFIG GET` (on a cluster, from the node the command is routed to): empty when Redis
    /// keeps them. A server that refuses `CONFIG` (some managed services rename it) is an
    /// error: the risk is unknown.
    pub async fn durability(&self) -> Result<Vec<DurabilityRisk>, StoreError> {
        durability(&mut self.conn.clone())
            .await
            .map_err(unavailable)
    }

    /// This store, if [`Self::durability`] finds no risk; otherwise an error naming every
    /// setting at risk (the option to refuse to start on a server that can lose revocations):
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use session_core::revocation::RedisRevocations;
    /// let store = RedisRevocations::connect("redis://127.0.0.1:6379")
    ///     .await?
    ///     .require_durable()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    ///
    /// Settings changed later are reported by the warning event after a reconnection only.
    pub async fn require_durable(self) -> Result<Self, StoreError> {
        let risks = self.durability().await?;
        if risks.is_empty() {
            return Ok(self);
        }
        let risks: Vec<String> = risks.iter().map(ToString::to_string).collect();
        Err(StoreError::Unavailable(format!(
            "Redis can lose revocations: {}",
            risks.join("; ")
        )))
    }

    /// Emits the warning event for each risk [`Self::durability`] finds (or one saying the
    /// check failed).
    pub(crate) async fn warn_if_not_durable(&self) {
        warn_risks(self.durability().await);
    }

    /// What every call does with its connection's outcome: a failure marks the connection as
    /// reconnecting; the first success after that checks the (possibly new) server's settings
    /// in the background.
    fn observe<T>(&self, result: Result<T, RedisError>) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                if self.reconnecting.load(Ordering::Relaxed)
                    && self.reconnecting.swap(false, Ordering::AcqRel)
                {
                    let store = self.clone();
                    tokio::spawn(async move { store.warn_if_not_durable().await });
                }
                Ok(value)
            }
            Err(e) => {
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout()
                {
                    self.reconnecting.store(true, Ordering::Release);
                }
                Err(unavailable(e))
            }
        }
    }

    /// The user's current generation and the one to stamp on a login whose request began at
    /// `began` ([`Revocations::login_generation`]).
    ///
    /// Generations are Redis's clock in microseconds at the `revoke_user` that set them (see
    /// `REVOKE_USER`). One script reads the generation and Redis's clock now; the request began
    /// at least `began.elapsed()` before that reading, measured after the answer arrived, so
    /// on Redis's clock it began at or after `now - elapsed`. A generation above that may have
    /// been set after the request began: the login gets one below it. Invariant: no
    /// `revoke_user` that ran after `began` is missed (Redis's clock must not jump forward
    /// during the request); one that ran within the answer's way back before `began` is
    /// counted too, which only costs that login.
    pub(crate) async fn login_generation_parts(
        &self,
        user: &str,
        began: std::time::Instant,
    ) -> Result<(u64, u64), StoreError> {
        let mut conn = self.conn.clone();
        let read = Script::new(LOGIN_GENERATION)
            .key(self.user_key(user))
            .invoke_async::<(u64, u64)>(&mut conn)
            .await;
        let (current, now) = self.observe(read)?;
        let elapsed = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
        let began_at_least = now.saturating_sub(elapsed);
        // Invariant: a login that may have begun before the revocation that set `current`
        // returned gets `current - 1` (refused). Redis's clock bounds that from below only
        // (the reply's way back counts as request time), so a login begun just after a
        // revocation can be refused too, unless this process made that revocation and knows,
        // on its own monotonic clock, that it returned before the login began.
        let revoked_here_before = || {
            let revoked_here = self.revoked_here.lock().unwrap_or_else(|e| e.into_inner());
            revoked_here
                .get(user)
                .is_some_and(|&(generation, returned)| generation == current && returned < began)
        };
        let stamp = if current > began_at_least && !revoked_here_before() {
            current - 1
        } else {
            current
        };
        Ok((current, stamp))
    }

    /// The channel every revocation is announced on: `<prefix>revoked`.
    pub(crate) fn channel(&self) -> String {
        format!("{}revoked", self.prefix)
    }

    pub(crate) fn key_prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// Whether this store talks to a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.conn.is_cluster()
    }

    /// On a cluster, the address (`host:port`) of the master that owns the store's one slot
    /// now, from `CLUSTER KEYSLOT` and `CLUSTER SLOTS`.
    pub(crate) async fn slot_owner(&self) -> Result<String, StoreError> {
        let mut conn = self.conn.clone();
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(self.slot_key())
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let ranges: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        for range in ranges {
            // [start, end, [host, port, id, ..] (the master), replicas..]
            let redis::Value::Array(range) = range else {
                continue;
            };
            let (Some(start), Some(end), Some(master)) =
                (range.first(), range.get(1), range.get(2))
            else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                redis::from_redis_value::<i64>(start),
                redis::from_redis_value::<i64>(end),
            ) else {
                continue;
            };
            if (start..=end).contains(&slot) {
                let (host, port): (String, u16) = match master {
                    redis::Value::Array(node) if node.len() >= 2 => (
                        redis::from_redis_value(&node[0]).map_err(unavailable)?,
                        redis::from_redis_value(&node[1]).map_err(unavailable)?,
                    ),
                    _ => break,
                };
                return Ok(format!("{host}:{port}"));
            }
        }
        Err(StoreError::Unavailable(format!(
            "no master owns slot {slot} of the revocation store"
        )))
    }

    /// A key in the one slot that holds every key of this store (on a cluster, the slot of the
    /// prefix's hash tag), e.g. to find the node owning it with `CLUSTER KEYSLOT`/`MOVED`.
    pub(crate) fn slot_key(&self) -> String {
        format!("{}slot", self.prefix)
    }

    fn sid_key(&self, sid: &str) -> String {
        format!("{}sid:{sid}", self.prefix)
    }

    fn user_key(&self, user: &str) -> String {
        format!("{}user:{user}", self.prefix)
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A server setting under which Redis can lose or evict a revocation store's keys, found by
/// [`RedisRevocations::durability`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DurabilityRisk {
    /// The setting as `CONFIG GET` names it: `maxmemory-policy` (keys may be evicted), or
    /// `appendonly` (no persistence: `appendonly no` and `save ""`, so a restart loses every
    /// key).
    pub setting: &'static str,
    /// Its value on the server (for `appendonly`, with the `save` points).
    pub value: String,
}

impl fmt::Display for DurabilityRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.setting {
            "maxmemory-policy" => write!(
                f,
                "maxmemory-policy is {} (keys may be evicted; use noeviction)",
                self.value
            ),
            _ => write!(
                f,
                "{} is {} (a restart loses every key; turn on AOF or RDB snapshots)",
                self.setting, self.value
            ),
        }
    }
}

/// Reads `maxmemory-policy`, `appendonly` and `save` (one `CONFIG GET` each: a pattern list
/// needs Redis 7) and names the risks among them.
async fn durability(conn: &mut impl ConnectionLike) -> Result<Vec<DurabilityRisk>, RedisError> {
    let (policy, appendonly, save): (
        HashMap<String, String>,
        HashMap<String, String>,
        HashMap<String, String>,
    ) = redis::pipe()
        .cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .cmd("CONFIG")
        .arg("GET")
        .arg("appendonly")
        .cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .query_async(conn)
        .await?;
    let value = |map: &HashMap<String, String>, name: &str| map.get(name).cloned();
    let mut risks = Vec::new();
    match value(&policy, "maxmemory-policy") {
        Some(policy) if policy == "noeviction" => {}
        policy => risks.push(DurabilityRisk {
            setting: "maxmemory-policy",
            value: policy.unwrap_or_else(|| "unknown".to_owned()),
        }),
    }
    let appendonly = value(&appendonly, "appendonly").unwrap_or_default();
    let save = value(&save, "save").unwrap_or_default();
    if appendonly != "yes" && save.trim().is_empty() {
        risks.push(DurabilityRisk {
            setting: "appendonly",
            value: format!("{appendonly:?}, save {save:?}"),
        });
    }
    Ok(risks)
}

/// The warning events for a durability check's outcome.
pub(crate) fn warn_risks(checked: Result<Vec<DurabilityRisk>, impl fmt::Display>) {
    match checked {
        Ok(risks) => {
            for risk in risks {
                tracing::warn!(
                    target: TARGET,
                    event = "revocation_store_not_durable",
                    setting = risk.setting,
                    value = %risk.value,
                    "Redis can lose revocations: {risk}"
                );
            }
        }
        Err(e) => tracing::warn!(
            target: TARGET,
            event = "revocation_store_not_durable",
            setting = "unknown",
            error = %e,
            "cannot check whether Redis can lose revocations (CONFIG GET failed)"
        ),
    }
}

/// [`durability`] on a mirror's own connection, for its reconnections.
pub(crate) async fn check_durability(conn: &mut impl ConnectionLike) {
    warn_risks(durability(conn).await);
}

/// Seconds from `now` until the entry revoking until `until` may go (the skew allowance
/// included), at least one (Redis refuses `EX 0`).
fn ttl(until: i64, now: i64) -> u64 {
    u64::try_from(keep_until(until).saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

impl Revocations for RedisRevocations {
    async fn revoke_session(&self, sid: &str, until: i64, now: i64) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let written = Script::new(REVOKE_SESSION)
            .key(self.sid_key(sid))
            .arg(ttl(until, now))
            .arg(self.channel())
            .arg(sid)
            .invoke_async::<i64>(&mut conn)
            .await;
        self.observe(written).map(drop)
    }

    async fn revoke_user(&self, user: &str, until: i64, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let written = Script::new(REVOKE_USER)
            .key(self.user_key(user))
            .arg(ttl(until, now))
            .arg(self.channel())
            .arg(user)
            .invoke_async(&mut conn)
            .await;
        let generation = self.observe(written)?;
        let mut revoked_here = self.revoked_here.lock().unwrap_or_else(|e| e.into_inner());
        if revoked_here.len() >= REVOKED_HERE_MAX {
            revoked_here.clear();
        }
        revoked_here.insert(user.to_owned(), (generation, Instant::now()));
        Ok(generation)
    }

    async fn generation(&self, user: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let generation: Option<u64> = self.observe(conn.get(self.user_key(user)).await)?;
        Ok(generation.unwrap_or(0))
    }

    async fn login_generation(
        &self,
        user: &str,
        began: std::time::Instant,
    ) -> Result<u64, StoreError> {
        let (_, stamp) = self.login_generation_parts(user, began).await?;
        Ok(stamp)
    }

    async fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        _now: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let keys = [self.sid_key(sid), self.user_key(user)];
        let (session, current): (Option<i64>, Option<u64>) =
            self.observe(conn.mget(&keys).await)?;
        Ok(session.is_some() || current.is_some_and(|current| generation < current))
    }

    async fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        self.record_listed(user, session, now).await
    }

    async fn sessions(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        self.listed(user, now).await
    }

    async fn forget_session(&self, user: &str, sid: &str) -> Result<(), StoreError> {
        self.forget_listed(user, sid).await
    }
}

// ---- "My sessions": each user's list of active sessions ---------------------------------------
//
// One hash per user, `<prefix>list:<user>` (the same prefix as the revocation keys), two fields
// per session: `t:<sid>` (JSON: started, refreshed, expires, gen, fp; rewritten at every issue)
// and `o:<sid>` (JSON: device, address; written once, at the first record). The key expires with
// the latest `expires` of its sessions.

/// Records a session (KEYS[1]: the list; ARGV: sid, times JSON, origin JSON, now, cap) and prunes
/// the list in the same step: drops sessions past their `expires`, keeps the `cap` most recently
/// issued (ties: by id), drops origins without times, and sets the key's lifetime to the latest
/// `expires` left.
const RECORD_SESSION: &str = r"
local key = KEYS[1]
local now = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
redis.call('HSET', key, 't:' .. ARGV[1], ARGV[2])
redis.call('HSETNX', key, 'o:' .. ARGV[1], ARGV[3])
local fields = redis.call('HGETALL', key)
local live = {}
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 't:' then
    local ok, times = pcall(cjson.decode, fields[i + 1])
    local expires = ok and type(times) == 'table' and tonumber(times.expires)
    if expires and expires > now then
      live[#live + 1] = {sid = string.sub(fields[i], 3), refreshed = tonumber(times.refreshed) or 0, expires = expires}
    end
  end
end
table.sort(live, function(a, b)
  if a.refreshed ~= b.refreshed then return a.refreshed > b.refreshed end
  return a.sid < b.sid
end)
local kept = {}
local latest = now
for i = 1, math.min(#live, cap) do
  kept[live[i].sid] = true
  latest = math.max(latest, live[i].expires)
end
for i = 1, #fields, 2 do
  if not kept[string.sub(fields[i], 3)] then
    redis.call('HDEL', key, fields[i])
  end
end
if latest > now then
  redis.call('EXPIRE', key, latest - now)
else
  redis.call('DEL', key)
end
return 0
";

/// What changes at every issue of a listed session (field `t:<sid>`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Times {
    started: i64,
    refreshed: i64,
    expires: i64,
    gen: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fp: Option<String>,
}

/// Where a listed session signed in from (field `o:<sid>`, written once).
#[derive(serde::Serialize, serde::Deserialize)]
struct Origin {
    device: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

impl RedisRevocations {
    fn list_key(&self, user: &str) -> String {
        format!("{}list:{user}", self.prefix)
    }

    async fn record_listed(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        let times = Times {
            started: session.started,
            refreshed: session.refreshed,
            expires: session.expires,
            gen: session.gen,
            fp: session.fp.clone(),
        };
        let origin = Origin {
            device: session.device.clone(),
            address: session.address.clone(),
        };
        let mut conn = self.conn.clone();
        Script::new(RECORD_SESSION)
            .key(self.list_key(user))
            .arg(&session.sid)
            .arg(serde_json::to_string(&times).expect("plain fields serialize"))
            .arg(serde_json::to_string(&origin).expect("plain fields serialize"))
            .arg(now)
            .arg(super::store::MAX_LISTED_SESSIONS)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Reads the list, asks which of its sessions are revoked (one `MGET` with the user's
    /// generation), and drops the ended ones from the hash.
    async fn listed(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.list_key(user);
        let fields: std::collections::HashMap<String, String> =
            conn.hgetall(&key).await.map_err(unavailable)?;
        let mut candidates = Vec::new();
        let mut ended = Vec::new();
        for (field, value) in &fields {
            let Some(sid) = field.strip_prefix("t:") else {
                if !field.starts_with("o:") || !fields.contains_key(&format!("t:{}", &field[2..])) {
                    ended.push(field.clone());
                }
                continue;
            };
            let origin = fields
                .get(&format!("o:{sid}"))
                .and_then(|o| serde_json::from_str::<Origin>(o).ok());
            match serde_json::from_str::<Times>(value) {
                Ok(times) => candidates.push(record(sid, times, origin)),
                Err(_) => ended.extend([field.clone(), format!("o:{sid}")]),
            }
        }
        let mut listed = Vec::new();
        if !candidates.is_empty() {
            let mut keys = vec![self.user_key(user)];
            keys.extend(candidates.iter().map(|c| self.sid_key(&c.sid)));
            let found: Vec<Option<String>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let generation = found
                .first()
                .and_then(Option::as_deref)
                .and_then(|g| g.parse().ok())
                .unwrap_or(0);
            for (session, revoked) in candidates.into_iter().zip(found.iter().skip(1)) {
                if session.is_listed(now, generation, revoked.is_some()) {
                    listed.push(session);
                } else {
                    ended.extend([format!("t:{}", session.sid), format!("o:{}", session.sid)]);
                }
            }
        }
        if !ended.is_empty() {
            conn.hdel::<_, _, ()>(&key, &ended)
                .await
                .map_err(unavailable)?;
        }
        Ok(listed)
    }

    async fn forget_listed(&self, user: &str, sid: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let fields = [format!("t:{sid}"), format!("o:{sid}")];
        conn.hdel::<_, _, ()>(self.list_key(user), &fields)
            .await
            .map_err(unavailable)
    }
}

/// A listed session from its two fields; an origin that is missing or unreadable shows as an
/// unknown device.
fn record(sid: &str, times: Times, origin: Option<Origin>) -> SessionRecord {
    let origin = origin.unwrap_or_else(|| Origin {
        device: super::device_label(None),
        address: None,
    });
    SessionRecord {
        sid: sid.to_owned(),
        started: times.started,
        refreshed: times.refreshed,
        expires: times.expires,
        gen: times.gen,
        fp: times.fp,
        device: origin.device,
        address: origin.address,
    }
}
