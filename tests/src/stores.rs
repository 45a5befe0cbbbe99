//! The stores the behaviour matrices run against, each as one type: the store traits are
//! implemented with `async fn` (not object safe; the builders erase a store once), so a list
//! of different stores needs a sum type. Each delegates every method, the optional ones too.
//! [`revocation_stores`] and [`revocation_stores_with_cluster`] make the list;
//! [`unavailable_or_pending`] is what a broken store answers.

use std::{future::pending, time::Instant};

use session_core::{
    revocation::{
        store::SessionRecord, MemoryRevocations, RedisRevocations, RevocationMirror, Revocations,
    },
    throttle::{
        store::{Counter, CounterKey, Verdict},
        MemoryThrottleStore, RedisThrottleStore, ThrottleStore,
    },
    StoreError,
};

use crate::{clock, free_port, redis_cluster::RedisCluster, redis_server::RedisServer};

/// The revocation stores a behaviour test runs against: memory, a real Redis and a mirror of
/// it, each Redis store under a fresh prefix of its own. The mirror's deadlines are on a test
/// clock at [`crate::T0`], like the apps' (the tests that move clocks stay far inside every
/// deadline).
pub async fn revocation_stores(redis: &RedisServer) -> Vec<(&'static str, AnyRevocations)> {
    let store = RedisRevocations::connect(&redis.url())
        .await
        .expect("redis is up");
    let mirror = RevocationMirror::builder(
        RedisRevocations::connect(&redis.url())
            .await
            .expect("redis is up")
            .prefix(format!("t{}:", free_port())),
    )
    .clock(clock())
    .start()
    .await
    .expect("the mirror syncs");
    vec![
        ("memory", MemoryRevocations::new().into()),
        ("redis", store.prefix(format!("t{}:", free_port())).into()),
        ("mirror", mirror.into()),
    ]
}

/// [`revocation_stores`], then a real Redis Cluster and a mirror of it (each under a fresh
/// prefix of its own).
pub async fn revocation_stores_with_cluster(
    redis: &RedisServer,
    cluster: &RedisCluster,
) -> Vec<(&'static str, AnyRevocations)> {
    let mut stores = revocation_stores(redis).await;
    let on_cluster = RedisRevocations::connect_cluster(cluster.urls())
        .await
        .expect("the redis cluster is up");
    let cluster_mirror = RevocationMirror::builder(
        RedisRevocations::connect_cluster(cluster.urls())
            .await
            .expect("the redis cluster is up")
            .prefix(format!("t{}:", free_port())),
    )
    .clock(clock())
    .start()
    .await
    .expect("the mirror syncs on the cluster");
    stores.extend([
        (
            "cluster",
            on_cluster.prefix(format!("t{}:", free_port())).into(),
        ),
        ("cluster-mirror", cluster_mirror.into()),
    ]);
    stores
}

/// What a broken store answers: [`StoreError::Unavailable`] at once, or, when `hang`, never.
pub async fn unavailable_or_pending<T>(hang: bool) -> Result<T, StoreError> {
    if hang {
        pending().await
    } else {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

/// One of the revocation stores: memory, Redis (one server or a cluster), or a mirror.
pub enum AnyRevocations {
    /// [`MemoryRevocations`].
    Memory(MemoryRevocations),
    /// [`RedisRevocations`].
    Redis(RedisRevocations),
    /// [`RevocationMirror`].
    Mirror(RevocationMirror),
}

impl From<MemoryRevocations> for AnyRevocations {
    fn from(store: MemoryRevocations) -> Self {
        Self::Memory(store)
    }
}

impl From<RedisRevocations> for AnyRevocations {
    fn from(store: RedisRevocations) -> Self {
        Self::Redis(store)
    }
}

impl From<RevocationMirror> for AnyRevocations {
    fn from(store: RevocationMirror) -> Self {
        Self::Mirror(store)
    }
}

/// `store.call.await` on whichever store `self` holds.
macro_rules! each {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Self::Memory($store) => $call.await,
            Self::Redis($store) => $call.await,
            Self::Mirror($store) => $call.await,
        }
    };
}

impl Revocations for AnyRevocations {
    async fn revoke_session(&self, sid: &str, until: i64, now: i64) -> Result<(), StoreError> {
        each!(self, s => s.revoke_session(sid, until, now))
    }

    async fn revoke_user(&self, user: &str, until: i64, now: i64) -> Result<u64, StoreError> {
        each!(self, s => s.revoke_user(user, until, now))
    }

    async fn generation(&self, user: &str) -> Result<u64, StoreError> {
        each!(self, s => s.generation(user))
    }

    async fn login_generation(&self, user: &str, began: Instant) -> Result<u64, StoreError> {
        each!(self, s => s.login_generation(user, began))
    }

    async fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Result<bool, StoreError> {
        each!(self, s => s.is_revoked(sid, user, generation, now))
    }

    async fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        each!(self, s => s.record_session(user, session, now))
    }

    async fn sessions(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        each!(self, s => s.sessions(user, now))
    }

    async fn forget_session(&self, user: &str, sid: &str) -> Result<(), StoreError> {
        each!(self, s => s.forget_session(user, sid))
    }
}

/// One of the throttle stores: memory or Redis (one server or a cluster).
pub enum AnyThrottleStore {
    /// [`MemoryThrottleStore`].
    Memory(MemoryThrottleStore),
    /// [`RedisThrottleStore`].
    Redis(RedisThrottleStore),
}

impl From<MemoryThrottleStore> for AnyThrottleStore {
    fn from(store: MemoryThrottleStore) -> Self {
        Self::Memory(store)
    }
}

impl From<RedisThrottleStore> for AnyThrottleStore {
    fn from(store: RedisThrottleStore) -> Self {
        Self::Redis(store)
    }
}

impl ThrottleStore for AnyThrottleStore {
    async fn attempt(&self, counters: &[Counter], now: i64) -> Result<Verdict, StoreError> {
        match self {
            Self::Memory(s) => s.attempt(counters, now).await,
            Self::Redis(s) => s.attempt(counters, now).await,
        }
    }

    async fn succeeded(
        &self,
        forget: &[CounterKey],
        refund: &[Counter],
        charged_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        match self {
            Self::Memory(s) => s.succeeded(forget, refund, charged_at, now).await,
            Self::Redis(s) => s.succeeded(forget, refund, charged_at, now).await,
        }
    }
}
