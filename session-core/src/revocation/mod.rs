//! Revoking sessions before they expire: one session (logout) or every session of a user.
//!
//! A signed cookie alone stays valid until its `exp`. With a [`Revocations`] backend configured
//! ([`crate::AuthSessionBuilder::revocations`]), the middleware asks it on every authenticated
//! request whether the session was revoked, so a revoked cookie is anonymous on the very next
//! request, and [`crate::Session::logout`] revokes its own session id.
//!
//! Invariant: every entry a backend stores carries an expiry no later than the moment the
//! revoked cookies could no longer be valid anyway (their absolute deadline), so storage never
//! grows without bound.

use std::{
    collections::HashMap,
    fmt,
    future::{ready, Future},
    pin::Pin,
    sync::Mutex,
};

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use self::redis::RedisRevocations;

/// A boxed, sendable future, as returned by [`Revocations`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where revocations are kept. Implemented by [`MemoryRevocations`] (one process) and, with the
/// `redis` feature, `RedisRevocations` (shared by every instance of an app).
///
/// Times are Unix seconds; `now` is passed in so backends need no clock of their own.
pub trait Revocations: Send + Sync + 'static {
    /// Revokes session `sid` until `until` (after which its cookies are invalid anyway).
    fn revoke_session<'a>(
        &'a self,
        sid: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>>;

    /// Revokes every session of `user` that started at or before `at`, remembering it until
    /// `until`.
    fn revoke_user<'a>(
        &'a self,
        user: &'a str,
        at: i64,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>>;

    /// Whether session `sid` of `user`, started at `auth_time`, is revoked.
    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        auth_time: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<bool, RevocationError>>;
}

/// The revocation backend could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// The backend failed (connection refused, protocol error, ...).
    Unavailable(String),
    /// The backend did not answer within the configured timeout.
    Timeout,
    /// No backend is configured on this [`crate::AuthSession`].
    NotConfigured,
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(e) => write!(f, "revocation store unavailable: {e}"),
            Self::Timeout => f.write_str("revocation store did not answer in time"),
            Self::NotConfigured => f.write_str(
                "no revocation store configured: use AuthSession::builder(..).revocations(..)",
            ),
        }
    }
}

impl std::error::Error for RevocationError {}

/// Revocations in this process's memory: for single-instance apps and tests.
///
/// Expired entries are dropped on every write, so memory stays bounded by the sessions revoked
/// within one absolute timeout.
#[derive(Debug, Default)]
pub struct MemoryRevocations {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// sid → until
    sessions: HashMap<String, i64>,
    /// user → (revoked at, until)
    users: HashMap<String, (i64, i64)>,
}

impl MemoryRevocations {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every write below is a single insert: a poisoned lock still holds consistent data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many entries are stored (revoked sessions plus users); for tests of bounded growth.
    pub fn len(&self) -> usize {
        let entries = self.entries();
        entries.sessions.len() + entries.users.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Entries {
    fn purge(&mut self, now: i64) {
        self.sessions.retain(|_, until| *until > now);
        self.users.retain(|_, (_, until)| *until > now);
    }
}

impl Revocations for MemoryRevocations {
    fn revoke_session<'a>(
        &'a self,
        sid: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        let mut entries = self.entries();
        entries.purge(now);
        if until > now {
            entries.sessions.insert(sid.to_owned(), until);
        }
        Box::pin(ready(Ok(())))
    }

    fn revoke_user<'a>(
        &'a self,
        user: &'a str,
        at: i64,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        let mut entries = self.entries();
        entries.purge(now);
        if until > now {
            let entry = entries.users.entry(user.to_owned()).or_insert((at, until));
            *entry = (entry.0.max(at), entry.1.max(until));
        }
        Box::pin(ready(Ok(())))
    }

    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        auth_time: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<bool, RevocationError>> {
        let entries = self.entries();
        let session = entries.sessions.get(sid).is_some_and(|until| *until > now);
        let all = entries
            .users
            .get(user)
            .is_some_and(|(at, until)| *until > now && auth_time <= *at);
        Box::pin(ready(Ok(session || all)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<T>(f: BoxFuture<'_, T>) -> T {
        // The memory store's futures are always ready.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = f;
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => unreachable!("memory store never waits"),
        }
    }

    #[test]
    fn session_revocation_expires() {
        let store = MemoryRevocations::new();
        block(store.revoke_session("s1", 200, 100)).unwrap();
        assert!(block(store.is_revoked("s1", "u", 0, 150)).unwrap());
        assert!(!block(store.is_revoked("s2", "u", 0, 150)).unwrap());
        assert!(!block(store.is_revoked("s1", "u", 0, 200)).unwrap());
        block(store.revoke_session("s3", 400, 300)).unwrap();
        assert_eq!(store.len(), 1, "the expired entry was purged");
    }

    #[test]
    fn user_revocation_covers_sessions_started_before() {
        let store = MemoryRevocations::new();
        block(store.revoke_user("u", 100, 1000, 100)).unwrap();
        assert!(block(store.is_revoked("s", "u", 99, 150)).unwrap());
        assert!(block(store.is_revoked("s", "u", 100, 150)).unwrap());
        assert!(!block(store.is_revoked("s", "u", 101, 150)).unwrap());
        assert!(!block(store.is_revoked("s", "other", 99, 150)).unwrap());
    }
}
