//! Revocations in Redis, shared by every instance of an app (feature `redis`).

use redis::{aio::ConnectionManager, AsyncCommands, Script};

use super::{keep_until, BoxFuture, RevocationError, Revocations, SessionRecord};

/// Moves the user's generation (KEYS[1]) past both its current value and Redis's own clock in
/// microseconds, keeps it ARGV[1] seconds, and returns it. Redis's clock, not an instance's: the
/// generation is above every value ever handed out, even after the key expired and came back.
/// (Microseconds since 1970 stay below 2^53, exact in Lua's doubles.)
const REVOKE_USER: &str = r"
local time = redis.call('TIME')
local micros = tonumber(time[1]) * 1000000 + tonumber(time[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local generation = math.max(current + 1, micros)
local ttl = math.max(tonumber(ARGV[1]), redis.call('TTL', KEYS[1]))
redis.call('SET', KEYS[1], string.format('%d', generation), 'EX', ttl)
return generation
";

/// Revocations kept in Redis under a key prefix, each key expiring by itself (`SET .. EX`) when
/// the cookies it revokes could no longer be valid anyway.
///
/// Keys: `<prefix>sid:<session id>` and `<prefix>user:<user id>` (the user's generation, moved
/// by a script on Redis's own clock, so instances' clocks never matter). One round trip (`MGET`)
/// per authenticated request, one `GET` per login. The connection reconnects by itself after
/// Redis restarts.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use session_core::{revocation::RedisRevocations, AuthSession, Key};
/// let store = RedisRevocations::connect("redis://127.0.0.1:6379").await?.prefix("myapp:");
/// let auth = AuthSession::builder(Key::from_env("SESSION_SECRET")?)
///     .revocations(Arc::new(store))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRevocations {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRevocations")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisRevocations {
    /// Connects to `url` (`redis://host:port/db`) with the default prefix `"session-core:"`.
    pub async fn connect(url: &str) -> Result<Self, RevocationError> {
        let conn = crate::redis_conn::connect(url).await.map_err(unavailable)?;
        Ok(Self::from_manager(conn))
    }

    /// Uses an existing connection manager (e.g. the one your app already has).
    pub fn from_manager(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: "session-core:".to_owned(),
        }
    }

    /// The key prefix. Default: `"session-core:"`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn sid_key(&self, sid: &str) -> String {
        format!("{}sid:{sid}", self.prefix)
    }

    fn user_key(&self, user: &str) -> String {
        format!("{}user:{user}", self.prefix)
    }
}

fn unavailable(e: redis::RedisError) -> RevocationError {
    RevocationError::Unavailable(e.to_string())
}

/// Seconds from `now` until the entry revoking until `until` may go (the skew allowance
/// included), at least one (Redis refuses `EX 0`).
fn ttl(until: i64, now: i64) -> u64 {
    u64::try_from(keep_until(until).saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

impl Revocations for RedisRevocations {
    fn revoke_session<'a>(
        &'a self,
        sid: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            conn.set_ex::<_, _, ()>(self.sid_key(sid), 1, ttl(until, now))
                .await
                .map_err(unavailable)
        })
    }

    fn revoke_user<'a>(
        &'a self,
        user: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<u64, RevocationError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            Script::new(REVOKE_USER)
                .key(self.user_key(user))
                .arg(ttl(until, now))
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)
        })
    }

    fn generation<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<u64, RevocationError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let generation: Option<u64> =
                conn.get(self.user_key(user)).await.map_err(unavailable)?;
            Ok(generation.unwrap_or(0))
        })
    }

    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        generation: u64,
        _now: i64,
    ) -> BoxFuture<'a, Result<bool, RevocationError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let keys = [self.sid_key(sid), self.user_key(user)];
            let (session, current): (Option<i64>, Option<u64>) =
                conn.mget(&keys).await.map_err(unavailable)?;
            Ok(session.is_some() || current.is_some_and(|current| generation < current))
        })
    }

    fn record_session<'a>(
        &'a self,
        user: &'a str,
        session: &'a SessionRecord,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        Box::pin(self.record_listed(user, session, now))
    }

    fn sessions<'a>(
        &'a self,
        user: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<SessionRecord>, RevocationError>> {
        Box::pin(self.listed(user, now))
    }

    fn forget_session<'a>(
        &'a self,
        user: &'a str,
        sid: &'a str,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        Box::pin(self.forget_listed(user, sid))
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
    ) -> Result<(), RevocationError> {
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
            .arg(super::MAX_LISTED_SESSIONS)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Reads the list, asks which of its sessions are revoked (one `MGET` with the user's
    /// generation), and drops the ended ones from the hash.
    async fn listed(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, RevocationError> {
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

    async fn forget_listed(&self, user: &str, sid: &str) -> Result<(), RevocationError> {
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
