//! Revocations in Redis, shared by every instance of an app (feature `redis`).

use redis::{aio::ConnectionManager, AsyncCommands, Client, Script};

use super::{keep_until, BoxFuture, RevocationError, Revocations};

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
    /// The server's client when connected by URL: a [`super::RevocationMirror`] opens its
    /// subscription and its loading connection with it.
    client: Option<Client>,
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
        let client = Client::open(url).map_err(unavailable)?;
        let conn = crate::redis_conn::connect(url).await.map_err(unavailable)?;
        Ok(Self {
            client: Some(client),
            ..Self::from_manager(conn)
        })
    }

    /// Uses an existing connection manager (e.g. the one your app already has). A store made
    /// this way cannot feed a [`super::RevocationMirror`]: use [`Self::connect`] for that.
    pub fn from_manager(conn: ConnectionManager) -> Self {
        Self {
            conn,
            client: None,
            prefix: "session-core:".to_owned(),
        }
    }

    /// The key prefix. Default: `"session-core:"`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
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
            Script::new(REVOKE_SESSION)
                .key(self.sid_key(sid))
                .arg(ttl(until, now))
                .arg(self.channel())
                .arg(sid)
                .invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
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
                .arg(self.channel())
                .arg(user)
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
}
