//! A local mirror of a Redis revocation store, kept current by pub/sub (feature `redis`).
//!
//! Every revocation the store writes is announced by the same Lua script that writes it (one
//! atomic step in Redis) on the channel `<prefix>revoked`. Each process subscribes, *then* loads
//! the whole set with `SCAN`: an announcement made during the load waits in the subscription's
//! buffer and is applied after it. Entries only ever grow (a session is revoked or not; a user's
//! generation and every deadline only move up), so applying the same revocation twice, or the
//! load and the announcements in any order, gives the same mirror.
//!
//! **The bound.** Every heartbeat sends `PING` down the subscription connection itself. Redis
//! answers in order, so when the answer to a `PING` sent at instant `p` arrives, every
//! announcement of a revocation that Redis held before `p` has arrived before it, and is applied
//! before the mirror records `p`. The mirror answers a request only while `now < p + bound` for
//! the latest such `p`. So a revocation that Redis holds at instant `t` is refused by this process
//! from `t + bound` on, at the latest, whatever happened in between: either the mirror holds it,
//! or the mirror is no longer trusted and every request asks Redis directly (the store's own
//! per-request lookup, which fails closed with 503 while Redis cannot answer). A lost connection
//! (killed, Redis restarted, a heartbeat without answer within the bound) stops the trust at once;
//! the mirror re-subscribes, reloads, and is trusted again after its first heartbeat.
//!
//! **The mirror never forgets.** While it is not trusted, a request is refused if the table
//! holds its revocation *or* Redis answers that it is revoked: a Redis that lost its keys
//! (restarted without persistence, evicted them) cannot un-revoke what this process has seen.
//! Entries only grow; a reload adds to the table, never replaces it.
//!
//! Invariants:
//! - the request path trusts memory alone only while trusted, and never trusts a mirror whose
//!   last acknowledged heartbeat was sent more than `bound` ago; untrusted, it refuses what the
//!   table holds and asks Redis about the rest;
//! - a login's generation is the larger of Redis's and the table's, so a login after Redis
//!   lost a user's generation is not refused by the generation this table still holds;
//! - an entry is applied (under the table's lock) before the heartbeat that covers it is
//!   recorded (with release ordering), so a request that sees the trust sees the entry;
//! - entries leave the mirror only when their deadline has passed on the mirror's clock, the
//!   same deadline (with [`super::store::MAX_SKEW_SECS`]) after which Redis expires the key.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
    },
    time::{Duration, Instant},
};

use futures_util::{FutureExt as _, StreamExt as _};
use redis::{
    aio::{MultiplexedConnection, PubSubStream},
    Client, Msg,
};
use sha2::{Digest, Sha256};

use super::{
    store::{keep_until, SessionRecord},
    RedisRevocations, Revocations,
};
use crate::{
    bound::StoreError,
    clock::{Clock, SystemClock},
};

/// The sessions table is split so that a purge or a burst of writes never holds every lookup.
const SHARDS: usize = 16;
/// Keys asked for per `SCAN` step while loading.
const SCAN_COUNT: usize = 1000;
/// The longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// The shortest bound accepted: below it, heartbeats would dominate.
const MIN_BOUND: Duration = Duration::from_millis(100);

/// A local copy of a [`RedisRevocations`] store: requests are checked in memory, with no network
/// call, while the copy is provably current; see the module docs for the bound.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use session_core::{revocation::{RedisRevocations, RevocationMirror}, AuthSession, Key};
/// let store = RedisRevocations::connect("redis://127.0.0.1:6379").await?.prefix("myapp:");
/// let mirror = RevocationMirror::builder(store).bound(Duration::from_secs(1)).start().await?;
/// let auth = AuthSession::builder(Key::from_env("SESSION_SECRET")?)
///     .revocations(mirror)
///     .build()?;
/// # Ok(()) }
/// ```
///
/// Writes (`logout`, `revoke_user`, ...) go to Redis and are applied locally at once. The mirror
/// runs a background task on the Tokio runtime it was started on (actix-web's own); the task
/// ends when the last clone of the mirror is dropped.
#[derive(Clone)]
pub struct RevocationMirror {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RevocationMirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationMirror")
            .field("store", &self.shared.store)
            .field("bound", &self.shared.bound)
            .field("synced", &self.is_synced())
            .field("entries", &self.len())
            .finish()
    }
}

/// Configures a [`RevocationMirror`]; from [`RevocationMirror::builder`].
#[must_use]
pub struct RevocationMirrorBuilder {
    store: RedisRevocations,
    bound: Duration,
    start_timeout: Duration,
    clock: Arc<dyn Clock>,
    #[cfg(feature = "test-util")]
    before_load: Option<BeforeLoad>,
}

#[cfg(feature = "test-util")]
type BeforeLoad =
    Box<dyn FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send>;

impl RevocationMirror {
    /// A mirror of `store` with the default bound (one second); see [`Self::builder`].
    pub async fn start(store: RedisRevocations) -> Result<Self, StoreError> {
        Self::builder(store).start().await
    }

    /// Configures a mirror of `store`, which must have been made with
    /// [`RedisRevocations::connect`] (the mirror opens its own subscription to the same server).
    pub fn builder(store: RedisRevocations) -> RevocationMirrorBuilder {
        RevocationMirrorBuilder {
            store,
            bound: Duration::from_secs(1),
            start_timeout: Duration::from_secs(10),
            clock: Arc::new(SystemClock),
            #[cfg(feature = "test-util")]
            before_load: None,
        }
    }

    /// Whether requests are answered from memory right now (otherwise each one asks Redis).
    pub fn is_synced(&self) -> bool {
        self.shared.trusted()
    }

    /// How many revocations the mirror holds (revoked sessions plus users' generations).
    pub fn len(&self) -> usize {
        self.shared.table.len()
    }

    /// Whether the mirror holds no revocation.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound this mirror keeps: a revocation Redis holds is refused here at most this long
    /// after (see the module docs).
    pub fn bound(&self) -> Duration {
        self.shared.bound
    }

    /// How many times the mirror has (re)loaded the set since it started; a reconnection after a
    /// lost subscription adds one.
    pub fn loads(&self) -> usize {
        self.shared.loads.load(Ordering::Relaxed)
    }
}

impl RevocationMirrorBuilder {
    /// How stale the mirror may ever be: a revocation held by Redis is refused by this process
    /// at most this long after. Heartbeats go every quarter of it. Default: one second; at
    /// least 100 ms.
    pub fn bound(mut self, bound: Duration) -> Self {
        self.bound = bound.max(MIN_BOUND);
        self
    }

    /// How long [`Self::start`] waits for the first load. Default: 10 s.
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The clock deadlines are judged on; pass the `AuthSession`'s clock when it has one.
    /// Default: the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs `hook` after the mirror has subscribed and before it loads the set: for tests that
    /// revoke during the load.
    #[cfg(feature = "test-util")]
    pub fn before_load<F>(mut self, hook: impl FnOnce() -> F + Send + 'static) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.before_load = Some(Box::new(move || Box::pin(hook())));
        self
    }

    /// Subscribes, loads the set and starts following it; returns once the mirror is in sync,
    /// or with the error that kept it from getting there within the start timeout.
    pub async fn start(self) -> Result<RevocationMirror, StoreError> {
        let Some(client) = self.store.client().cloned() else {
            return Err(StoreError::Unavailable(
                "a RevocationMirror needs a store made with RedisRevocations::connect or \
                 connect_cluster"
                    .into(),
            ));
        };
        let source = if self.store.is_cluster() {
            Source::Cluster {
                template: client,
                store: self.store.clone(),
            }
        } else {
            Source::Server(client)
        };
        let shared = Arc::new(Shared {
            channel: self.store.channel(),
            store: self.store,
            clock: self.clock,
            bound: self.bound,
            epoch: Instant::now(),
            trusted_until: AtomicU64::new(0),
            table: Table::new(),
            loads: AtomicUsize::new(0),
        });
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        let follower = Follower {
            shared: Arc::downgrade(&shared),
            source,
            first: Some(first_tx),
            #[cfg(feature = "test-util")]
            before_load: self.before_load,
        };
        tokio::spawn(follower.run());
        match tokio::time::timeout(self.start_timeout, first_rx).await {
            Ok(Ok(Ok(()))) => Ok(RevocationMirror { shared }),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(StoreError::Unavailable(
                "the mirror's task ended before its first load".into(),
            )),
            Err(_) => Err(StoreError::Timeout),
        }
    }
}

/// What the request path and the follower task share.
struct Shared {
    store: RedisRevocations,
    channel: String,
    clock: Arc<dyn Clock>,
    bound: Duration,
    epoch: Instant,
    /// Milliseconds after `epoch` until which the table may answer requests; 0: not trusted.
    trusted_until: AtomicU64,
    table: Table,
    loads: AtomicUsize,
}

/// The mirrored revocations.
struct Table {
    /// Revoked session ids (see [`sid_key`]) → the Unix second their entry expires (see
    /// [`deadline`]). 16 + 4 bytes with alignment 4: 20 bytes a slot, plus hashbrown's control
    /// byte.
    sessions: [RwLock<HashMap<SidKey, u32>>; SHARDS],
    /// User → (generation, the Unix second the entry expires).
    users: RwLock<HashMap<String, (u64, i64)>>,
}

/// Every table write is one insert or one `retain`: a poisoned lock still holds consistent data.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// A session id in 128 bits.
type SidKey = [u8; 16];

/// A session id as 128 bits: this crate's ids are 16 random bytes in base64url, decoded as they
/// are; any other id is hashed (SHA-256, first 16 bytes), so a foreign id costs the same memory.
///
/// Injective on this crate's ids: only canonical encodings decode (22 characters of the
/// base64url alphabet whose last 4 bits are zero, exactly what `base64`'s strict decoder
/// accepts), so two ids that differ share a key only through a SHA-256 collision.
fn sid_key(sid: &str) -> SidKey {
    <&[u8; 22]>::try_from(sid.as_bytes())
        .ok()
        .and_then(decode_id)
        .unwrap_or_else(|| hashed_id(sid))
}

/// A foreign session id's key (out of line: this crate's own ids never take this path).
#[cold]
#[inline(never)]
fn hashed_id(sid: &str) -> SidKey {
    let mut id = [0u8; 16];
    id.copy_from_slice(&Sha256::digest(sid.as_bytes())[..16]);
    id
}

/// Each byte's value in the base64url alphabet; `INVALID` outside it.
const B64URL_VALUES: [u32; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < alphabet.len() {
        values[alphabet[i] as usize] = i as u32;
        i += 1;
    }
    values
};
/// Not a base64url character: every bit set, so a group holding one has bits above its 24.
const INVALID: u32 = u32::MAX;

/// The 16 bytes of a canonical 22-character base64url id (what the `base64` crate's strict
/// decoder gives; checked against it in the tests): four characters to three bytes, no branch
/// per character. The generic decoder costs a request ~350 instructions more.
fn decode_id(encoded: &[u8; 22]) -> Option<[u8; 16]> {
    let value = |c: u8| B64URL_VALUES[usize::from(c)];
    let mut id = [0u8; 16];
    // Bits above a group's 24: some character was not in the alphabet.
    let mut beyond = 0u32;
    for (chars, bytes) in encoded[..20].chunks_exact(4).zip(id.chunks_exact_mut(3)) {
        let group =
            value(chars[0]) << 18 | value(chars[1]) << 12 | value(chars[2]) << 6 | value(chars[3]);
        beyond |= group;
        bytes.copy_from_slice(&group.to_be_bytes()[1..]);
    }
    // The last two characters: the 16th byte, then 4 bits that must be zero.
    let last = value(encoded[20]) << 6 | value(encoded[21]);
    id[15] = (last >> 4) as u8;
    (beyond >> 24 == 0 && last & !0xFF0 == 0).then_some(id)
}

/// Whether `now` is less than `until` whole milliseconds after `epoch`: the same answer as
/// `now.duration_since(epoch).as_millis() < until` (`until` is whole milliseconds), with one
/// addition rather than a subtraction and a 128-bit conversion. A deadline past what an
/// `Instant` holds is not reached.
fn before_ms(epoch: Instant, until: u64, now: Instant) -> bool {
    epoch
        .checked_add(Duration::from_millis(until))
        .is_none_or(|deadline| now < deadline)
}

/// A session entry's deadline in 32 bits (Unix seconds up to the year 2106). Later deadlines are
/// clamped down to `u32::MAX`, which then lies in the past only after 2106; the entry is kept at
/// least as long as it must be until then.
fn deadline(until: i64) -> u32 {
    u32::try_from(until.max(0)).unwrap_or(u32::MAX)
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn trusted(&self) -> bool {
        let until = self.trusted_until.load(Ordering::Acquire);
        // 0 (not trusted) reads no clock.
        until != 0 && before_ms(self.epoch, until, Instant::now())
    }

    /// Trusts the table until `bound` after `sent` (ms after `epoch`), the instant a heartbeat
    /// whose answer has arrived was sent; every announcement before it has been applied.
    fn trust_from(&self, sent: u64) {
        let bound = u64::try_from(self.bound.as_millis()).unwrap_or(u64::MAX);
        self.trusted_until
            .fetch_max(sent.saturating_add(bound), Ordering::Release);
    }

    fn distrust(&self) {
        self.trusted_until.store(0, Ordering::Release);
    }

    /// Applies one announcement from the subscription. Anything else on the channel was not
    /// written by this crate's scripts (which only announce what they store): it is logged and
    /// skipped.
    fn apply(&self, msg: &Msg) {
        let text = msg.get_payload::<String>().unwrap_or_default();
        if !self.table.apply(&text, self.clock.now()) {
            tracing::warn!(channel = %self.channel, "revocation mirror: skipped a message that is not an announcement");
        }
    }
}

impl Table {
    fn new() -> Self {
        Self {
            sessions: std::array::from_fn(|_| RwLock::new(HashMap::new())),
            users: RwLock::new(HashMap::new()),
        }
    }

    #[cfg(test)]
    fn is_empty_for_tests(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        self.sessions.iter().map(|s| read(s).len()).sum::<usize>() + read(&self.users).len()
    }

    fn shard(&self, key: &SidKey) -> &RwLock<HashMap<SidKey, u32>> {
        // The bits of a random id are uniform.
        &self.sessions[usize::from(key[0]) % SHARDS]
    }

    fn add_session(&self, sid: &str, until: i64) {
        let key = sid_key(sid);
        let until = deadline(until);
        let mut shard = write(self.shard(&key));
        let entry = shard.entry(key).or_insert(until);
        *entry = (*entry).max(until);
    }

    fn add_user(&self, user: &str, generation: u64, until: i64) {
        let mut users = write(&self.users);
        match users.get_mut(user) {
            Some(entry) => *entry = (entry.0.max(generation), entry.1.max(until)),
            None => {
                users.insert(user.to_owned(), (generation, until));
            }
        }
    }

    /// The user's generation as the table holds it (0: none, or its deadline passed).
    fn generation(&self, user: &str, now: i64) -> u64 {
        read(&self.users)
            .get(user)
            .filter(|(_, until)| *until > now)
            .map_or(0, |(generation, _)| *generation)
    }

    fn is_revoked(&self, sid: &str, user: &str, generation: u64, now: i64) -> bool {
        let key = sid_key(sid);
        let session = read(self.shard(&key))
            .get(&key)
            .is_some_and(|until| i64::from(*until) > now);
        session
            || read(&self.users)
                .get(user)
                .is_some_and(|(current, until)| *until > now && generation < *current)
    }

    /// Applies one announcement (`s <ttl> <sid>` or `u <generation> <ttl> <user>`, TTLs in
    /// seconds from `now`); `false` when it is not one.
    fn apply(&self, text: &str, now: i64) -> bool {
        let until = |ttl: &str| ttl.parse::<i64>().ok().map(|t| now.saturating_add(t));
        let mut parts = text.splitn(2, ' ');
        match (parts.next(), parts.next()) {
            (Some("s"), Some(rest)) => {
                let mut rest = rest.splitn(2, ' ');
                match (rest.next().and_then(until), rest.next()) {
                    (Some(until), Some(sid)) => {
                        self.add_session(sid, until);
                        true
                    }
                    _ => false,
                }
            }
            (Some("u"), Some(rest)) => {
                let mut rest = rest.splitn(3, ' ');
                let generation = rest.next().and_then(|g| g.parse::<u64>().ok());
                match (generation, rest.next().and_then(until), rest.next()) {
                    (Some(generation), Some(until), Some(user)) => {
                        self.add_user(user, generation, until);
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// Drops the entries of one shard (and, with shard 0, of the users) whose deadline passed.
    fn purge(&self, shard: usize, now: i64) {
        write(&self.sessions[shard % SHARDS]).retain(|_, until| i64::from(*until) > now);
        if shard.is_multiple_of(SHARDS) {
            write(&self.users).retain(|_, (_, until)| *until > now);
        }
    }
}

/// Why a subscription ended.
type Lost = StoreError;

fn lost(what: &str, e: impl std::fmt::Display) -> Lost {
    StoreError::Unavailable(format!("revocation mirror: {what}: {e}"))
}

/// `call` within `bound`; a timeout or an error is the loss of `what`.
async fn within<T, E: std::fmt::Display>(
    bound: Duration,
    what: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Lost> {
    tokio::time::timeout(bound, call)
        .await
        .map_err(|e| lost(what, e))?
        .map_err(|e| lost(what, e))
}

/// Where the mirror subscribes and loads.
enum Source {
    /// One Redis server.
    Server(Client),
    /// The master owning the store's one slot in a cluster, found again at every (re)connection:
    /// scripts run and `PUBLISH` there, so its subscribers get announcements in the order it ran
    /// them, and a `PING` on the same connection orders after them as on one server.
    Cluster {
        template: Client,
        store: RedisRevocations,
    },
}

impl Source {
    /// The client to subscribe and load with now, and, on a cluster, the key whose `EXISTS`
    /// proves at every heartbeat that the node still owns the slot (`MOVED` otherwise).
    async fn client(&self) -> Result<(Client, Option<String>), Lost> {
        match self {
            Self::Server(client) => Ok((client.clone(), None)),
            Self::Cluster { template, store } => {
                let owner = store.slot_owner().await?;
                let (host, port) = owner
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                    .ok_or_else(|| lost("cluster", format!("bad node address {owner}")))?;
                let mut info = template.get_connection_info().clone();
                info.addr = match info.addr {
                    redis::ConnectionAddr::TcpTls {
                        insecure,
                        tls_params,
                        ..
                    } => redis::ConnectionAddr::TcpTls {
                        host,
                        port,
                        insecure,
                        tls_params,
                    },
                    _ => redis::ConnectionAddr::Tcp(host, port),
                };
                let client = Client::open(info).map_err(|e| lost("cluster", e))?;
                Ok((client, Some(store.slot_key())))
            }
        }
    }
}

/// The background task: subscribe, load, follow; on any loss distrust, back off, start over.
struct Follower {
    shared: Weak<Shared>,
    source: Source,
    first: Option<tokio::sync::oneshot::Sender<Result<(), StoreError>>>,
    #[cfg(feature = "test-util")]
    before_load: Option<BeforeLoad>,
}

impl Follower {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            let result = self.follow().await;
            let Some(shared) = self.shared.upgrade() else {
                return;
            };
            shared.distrust();
            let e = match result {
                Ok(()) => return,
                Err(e) => e,
            };
            if let Some(first) = self.first.take() {
                let _ = first.send(Err(e));
                return;
            }
            tracing::warn!(error = %e, "revocation mirror out of sync; every request asks Redis until it has reloaded");
            drop(shared);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One subscription, from subscribing to its loss. `Ok` only when the mirror was dropped.
    async fn follow(&mut self) -> Result<(), Lost> {
        let Some((bound, channel)) = self.shared.upgrade().map(|s| (s.bound, s.channel.clone()))
        else {
            return Ok(());
        };
        let (client, owned_key) = within(bound, "connect", self.source.client()).await?;
        let mut pubsub = within(bound, "connect", client.get_async_pubsub()).await?;
        // Subscribe first: every announcement from here on waits in `stream` while we load.
        within(bound, "subscribe", pubsub.subscribe(&channel)).await?;
        let (mut sink, mut stream) = pubsub.split();
        #[cfg(feature = "test-util")]
        if let Some(hook) = self.before_load.take() {
            hook().await;
        }
        let mut conn = within(bound, "connect", client.get_multiplexed_async_connection()).await?;
        self.load(&mut conn).await?;
        if self.first.is_none() {
            // A reconnection, maybe to a restarted server: are its settings still safe? (The
            // first connection was checked by `RedisRevocations::connect`.)
            let checked = tokio::time::timeout(bound, super::redis::check_durability(&mut conn));
            if checked.await.is_err() {
                super::redis::warn_risks(Err::<Vec<_>, _>("CONFIG GET timed out"));
            }
        }
        let heartbeat = bound / 4;
        let mut ticks = tokio::time::interval(heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut purged = 0usize;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { return Err(lost("subscription", "closed")) };
                    let Some(shared) = self.shared.upgrade() else { return Ok(()) };
                    shared.apply(&msg);
                }
                _ = ticks.tick() => {
                    let Some(shared) = self.shared.upgrade() else { return Ok(()) };
                    let sent = shared.now_ms();
                    if let Some(key) = &owned_key {
                        // Still the slot's master (a moved slot answers MOVED), so the `PING`
                        // below still orders after every announcement.
                        let mut exists = redis::cmd("EXISTS");
                        exists.arg(key);
                        within(bound, "slot owner", exists.query_async::<i64>(&mut conn)).await?;
                    }
                    within(bound, "heartbeat", sink.ping::<redis::Value>()).await?;
                    // Everything announced before the answer is in `stream` by now: apply it,
                    // then trust up to `bound` after the heartbeat was sent.
                    drain(&shared, &mut stream)?;
                    shared.trust_from(sent);
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Ok(()));
                    }
                    shared.table.purge(purged, shared.clock.now());
                    purged = purged.wrapping_add(1);
                }
            }
        }
    }

    /// Loads every revocation the store holds (`SCAN` in steps, each step's TTLs and
    /// generations in one pipeline).
    async fn load(&mut self, conn: &mut MultiplexedConnection) -> Result<(), Lost> {
        let Some(shared) = self.shared.upgrade() else {
            return Ok(());
        };
        let prefix = shared.store.key_prefix().to_owned();
        let pattern = format!("{}*", glob_escape(&prefix));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(conn)
                .await
                .map_err(|e| lost("load", e))?;
            let keys: Vec<(String, bool)> = keys
                .into_iter()
                .filter_map(|key| {
                    let rest = key.strip_prefix(&prefix)?;
                    let is_user = rest.starts_with("user:");
                    (is_user || rest.starts_with("sid:")).then_some((key, is_user))
                })
                .collect();
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for (key, _) in &keys {
                    pipe.cmd("GET").arg(key).cmd("TTL").arg(key);
                }
                let values: Vec<(Option<String>, i64)> =
                    pipe.query_async(conn).await.map_err(|e| lost("load", e))?;
                let now = shared.clock.now();
                for ((key, is_user), (value, ttl)) in keys.iter().zip(values) {
                    // -2: expired since the SCAN; -1: no expiry (not written by this crate).
                    let until = match ttl {
                        -2 => continue,
                        -1 => i64::MAX,
                        ttl => now.saturating_add(ttl),
                    };
                    let Some(value) = value else { continue };
                    let id = &key[prefix.len()..];
                    if *is_user {
                        if let Ok(generation) = value.parse::<u64>() {
                            shared
                                .table
                                .add_user(&id["user:".len()..], generation, until);
                        }
                    } else {
                        shared.table.add_session(&id["sid:".len()..], until);
                    }
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        shared.loads.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Applies every announcement already waiting in `stream`, without waiting for more.
fn drain(shared: &Shared, stream: &mut PubSubStream) -> Result<(), Lost> {
    loop {
        match stream.next().now_or_never() {
            Some(Some(msg)) => shared.apply(&msg),
            Some(None) => return Err(lost("subscription", "closed")),
            None => return Ok(()),
        }
    }
}

/// `prefix` with Redis glob characters escaped, for `SCAN .. MATCH`.
fn glob_escape(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Revocations for RevocationMirror {
    async fn revoke_session(&self, sid: &str, until: i64, now: i64) -> Result<(), StoreError> {
        self.shared.store.revoke_session(sid, until, now).await?;
        self.shared
            .table
            .add_session(sid, keep_until(until).max(now));
        Ok(())
    }

    async fn revoke_user(&self, user: &str, until: i64, now: i64) -> Result<u64, StoreError> {
        let generation = self.shared.store.revoke_user(user, until, now).await?;
        self.shared
            .table
            .add_user(user, generation, keep_until(until).max(now));
        Ok(generation)
    }

    async fn generation(&self, user: &str) -> Result<u64, StoreError> {
        // Read at login only. Redis's answer is exact even when the mirror is behind; the
        // table's is larger only when Redis lost the key, and then a session started under
        // Redis's answer would be refused by this very table.
        let stored = self.shared.store.generation(user).await?;
        let known = self.shared.table.generation(user, self.shared.clock.now());
        Ok(stored.max(known))
    }

    async fn login_generation(&self, user: &str, began: Instant) -> Result<u64, StoreError> {
        // Redis decides whether a revocation ran during the request; the table's generation
        // stands in only for one Redis lost (see `generation`).
        let (current, stamp) = self
            .shared
            .store
            .login_generation_parts(user, began)
            .await?;
        let known = self.shared.table.generation(user, self.shared.clock.now());
        Ok(if known > current { known } else { stamp })
    }

    // The sessions lists live in Redis only: written at login and refresh, read on demand.
    async fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        self.shared.store.record_session(user, session, now).await
    }

    async fn sessions(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        self.shared.store.sessions(user, now).await
    }

    async fn forget_session(&self, user: &str, sid: &str) -> Result<(), StoreError> {
        self.shared.store.forget_session(user, sid).await
    }

    async fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Result<bool, StoreError> {
        // The trust first (acquire), then the table: every entry the trust covers is seen (see
        // the invariants). A revoked entry is refused, trusted or not.
        let trusted = self.shared.trusted();
        let known = self.shared.table.is_revoked(sid, user, generation, now);
        if known || trusted {
            Ok(known)
        } else {
            self.shared
                .store
                .is_revoked(sid, user, generation, now)
                .await
        }
    }

    fn is_revoked_now(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Option<Result<bool, StoreError>> {
        // The same reading as `is_revoked`, in the same order; only the store's own answer
        // (out of sync) has to wait.
        let trusted = self.shared.trusted();
        let known = self.shared.table.is_revoked(sid, user, generation, now);
        (known || trusted).then_some(Ok(known))
    }
}

#[cfg(test)]
mod tests {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

    use super::*;

    #[test]
    fn session_ids_map_to_128_bits_decoded_or_hashed() {
        let id = [7u8; 16];
        let sid = URL_SAFE_NO_PAD.encode(id);
        assert_eq!(sid_key(&sid), id);
        // Foreign ids are hashed, and distinct ones stay distinct.
        assert_ne!(sid_key("a"), sid_key("b"));
        assert_ne!(sid_key(&sid[..21]), sid_key(&sid));
        // 22 characters that are not base64url.
        assert_ne!(
            sid_key("!!!!!!!!!!!!!!!!!!!!!!"),
            sid_key("??????????????????????")
        );
    }

    #[test]
    fn trust_deadlines_compare_as_whole_milliseconds() {
        let epoch = Instant::now();
        let at = |micros: u64| epoch + Duration::from_micros(micros);
        for (now, until) in [
            (0, 1),
            (999, 1),
            (1_000, 1),
            (1_001, 1),
            (2_500, 2),
            (2_500, 3),
        ] {
            let by_millis = at(now).duration_since(epoch).as_millis() < u128::from(until);
            assert_eq!(
                before_ms(epoch, until, at(now)),
                by_millis,
                "{now} us, {until} ms"
            );
        }
        assert!(
            before_ms(epoch, u64::MAX, at(5_000_000)),
            "past any instant"
        );
    }

    #[test]
    fn session_ids_decode_as_the_strict_base64_decoder_does() {
        let mut ids: Vec<String> = (0..=255u8)
            .map(|b| {
                URL_SAFE_NO_PAD.encode([
                    b,
                    b.wrapping_mul(37),
                    0,
                    255,
                    b,
                    1,
                    2,
                    3,
                    4,
                    5,
                    6,
                    7,
                    8,
                    9,
                    10,
                    b,
                ])
            })
            .collect();
        ids.extend(
            ["A", "B", "Q", "g", "w", "-", "_", "=", "+", "/", ".", "é"]
                .iter()
                .flat_map(|c| {
                    [
                        format!("AAAAAAAAAAAAAAAAAAAAA{c}"),
                        format!("{c}AAAAAAAAAAAAAAAAAAAAA"),
                    ]
                }),
        );
        for sid in ids {
            let mut buf = [0u8; 18];
            let strict = match URL_SAFE_NO_PAD.decode_slice(&sid, &mut buf) {
                Ok(16) => buf[..16].try_into().ok(),
                _ => None,
            };
            let fast = <&[u8; 22]>::try_from(sid.as_bytes())
                .ok()
                .and_then(decode_id);
            assert_eq!(fast, strict, "{sid}");
        }
    }

    #[test]
    fn announcements_apply_in_any_order_and_twice() {
        let sid = URL_SAFE_NO_PAD.encode([1u8; 16]);
        let messages = [
            format!("s 100 {sid}"),
            "u 5 200 alice smith".to_owned(),
            "u 3 50 alice smith".to_owned(),
            format!("s 10 {sid}"),
        ];
        let forward = Table::new();
        let backward = Table::new();
        for m in &messages {
            assert!(forward.apply(m, 1000));
        }
        for m in messages.iter().rev().chain(messages.iter()) {
            assert!(backward.apply(m, 1000));
        }
        for table in [&forward, &backward] {
            assert_eq!(table.len(), 2);
            // The session stays revoked until the longest deadline; generations only grow.
            assert!(table.is_revoked(&sid, "bob", 0, 1099));
            assert!(!table.is_revoked(&sid, "bob", 0, 1100));
            assert!(table.is_revoked("other", "alice smith", 4, 1199));
            assert!(!table.is_revoked("other", "alice smith", 5, 1000));
            assert!(!table.is_revoked("other", "alice smith", 4, 1200));
        }
    }

    #[test]
    fn malformed_announcements_are_refused() {
        let table = Table::new();
        for bad in [
            "", "s", "s 10", "s x sid", "u 1 10", "u x 10 u", "x 1 2 3", "u 1 y u",
        ] {
            assert!(!table.apply(bad, 0), "{bad:?}");
        }
        assert!(table.is_empty_for_tests());
    }

    #[test]
    fn purge_drops_only_passed_deadlines() {
        let table = Table::new();
        for i in 0..100u8 {
            table.add_session(&URL_SAFE_NO_PAD.encode([i; 16]), i64::from(i));
        }
        table.add_user("u", 1, 10);
        for shard in 0..SHARDS {
            table.purge(shard, 50);
        }
        assert_eq!(table.len(), 49, "deadlines 51..=99 stay; the user's passed");
    }

    #[test]
    fn deadlines_fit_32_bits_without_expiring_early() {
        assert_eq!(deadline(-5), 0);
        assert_eq!(deadline(1_700_000_000), 1_700_000_000);
        assert_eq!(deadline(i64::MAX), u32::MAX);
        let table = Table::new();
        table.add_session("far", i64::MAX);
        assert!(table.is_revoked("far", "u", 0, 4_000_000_000));
    }

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        assert_eq!(glob_escape("app:{x}*?[a]\\"), "app:{x}\\*\\?\\[a\\]\\\\");
    }
}
