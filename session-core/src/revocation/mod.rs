//! Revoking sessions before they expire: one session (logout) or every session of a user.
//!
//! A signed cookie alone stays valid until its `exp`. With a [`Revocations`] backend configured
//! ([`crate::AuthSessionBuilder::revocations`]), the middleware asks it on every authenticated
//! request whether the session was revoked, so a revoked cookie is anonymous on the very next
//! request, and [`crate::Session::logout`] revokes its own session id.
//!
//! Backends: [`MemoryRevocations`] (one process); with the `redis` feature `RedisRevocations`
//! (one Redis round trip per authenticated request, on one server or a Redis Cluster) and
//! `RevocationMirror`, a copy of a `RedisRevocations` store in each process kept current by
//! pub/sub, which answers requests from memory and refuses any revocation Redis holds within a
//! stated bound (see its docs).
//!
//! "Every session of a user" is decided without comparing clocks: each user has a revocation
//! *generation* in the store, a number that only grows. A new session carries the generation it
//! was started under (read from the store at login); `revoke_user` moves the generation past
//! every number handed out before, so every session started before the call, on any instance,
//! is refused after it, whatever the instances' clocks say, and no later call can move it back.
//!
//! Logins in flight are covered too: a session is stamped with the generation as it stood when
//! its request began ([`Revocations::login_generation`]), so a login whose handler was running
//! while `revoke_user` ran (the password checked before the call, the session started after it
//! returned) is refused like every other session of the user.
//!
//! Invariants:
//! - a user's generation never decreases while any session it governs can be valid, and a new
//!   one is greater than every generation any session of the user carries;
//! - a session is never stamped with a generation set after its request began;
//! - every entry a backend stores carries an expiry at least [`MAX_SKEW_SECS`] past the moment
//!   the revoked cookies could no longer be valid anyway (their absolute deadline), and no
//!   later than needed, so storage never grows without bound.
//!
//! A backend may also keep each user's list of active sessions ("My sessions", see
//! [`list`](self#my-sessions)): [`Revocations::record_session`], [`Revocations::sessions`] and
//! [`Revocations::forget_session`]. Both backends here do; a third-party backend that does not
//! keeps compiling (the default methods answer [`RevocationError::Unsupported`]) and the
//! middleware then records nothing.
//!
//! # My sessions
//!
//! With a store that keeps lists, [`crate::Session::sessions`] lists the signed-in user's active
//! sessions ([`ActiveSession`]: started, last issued, a coarse [`device_label`], the address it
//! signed in from, whether it is the current one) and [`crate::Session::end_session`] ends one of
//! them. The middleware records a session only when it issues its cookie (login, refresh, change,
//! key-rotation re-issue); the list drops expired and revoked sessions, and keeps at most
//! [`MAX_LISTED_SESSIONS`] per user.

use std::{
    collections::HashMap,
    fmt,
    future::{ready, Future},
    pin::Pin,
    sync::Mutex,
    time::Instant,
};

pub use crate::claims::MAX_SKEW_SECS;

mod list;
#[cfg(feature = "redis")]
mod mirror;
#[cfg(feature = "redis")]
mod redis;

pub use self::list::{device_label, ActiveSession, SessionRecord, MAX_LISTED_SESSIONS};
#[cfg(feature = "redis")]
pub use self::{
    mirror::{RevocationMirror, RevocationMirrorBuilder},
    redis::{DurabilityRisk, RedisRevocations},
};

/// A boxed, sendable future, as returned by [`Revocations`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where revocations are kept. Implemented by [`MemoryRevocations`] (one process) and, with the
/// `redis` feature, `RedisRevocations` (shared by every instance of an app).
///
/// Times are Unix seconds; `now` is passed in so backends need no clock of their own.
pub trait Revocations: Send + Sync + 'static {
    /// Revokes session `sid` until `until` (after which its cookies are invalid anyway; the
    /// entry may live [`MAX_SKEW_SECS`] longer, never less).
    fn revoke_session<'a>(
        &'a self,
        sid: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>>;

    /// Revokes every session of `user` started before this call: moves the user's generation
    /// past every generation handed out before, keeps it at least until `until` (plus
    /// [`MAX_SKEW_SECS`]), and returns it.
    fn revoke_user<'a>(
        &'a self,
        user: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<u64, RevocationError>>;

    /// The user's current generation (0 when none is stored), carried by a session started now.
    fn generation<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<u64, RevocationError>>;

    /// The generation a session of `user` started by a request that began at `began` (this
    /// process's monotonic clock) carries: the current one, or, when the generation moved after
    /// `began` (a `revoke_user` ran while the login's handler was running), one below it, so
    /// that revocation covers this login too.
    ///
    /// The default is [`Self::generation`], which covers only logins whose generation is read
    /// before the revocation; [`MemoryRevocations`], `RedisRevocations` and `RevocationMirror`
    /// cover every login whose request began before `revoke_user` returned.
    fn login_generation<'a>(
        &'a self,
        user: &'a str,
        began: Instant,
    ) -> BoxFuture<'a, Result<u64, RevocationError>> {
        let _ = began;
        self.generation(user)
    }

    /// Whether session `sid` of `user`, started under `generation`, is revoked: its id was
    /// revoked, or the user's generation has moved past it.
    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        generation: u64,
        now: i64,
    ) -> BoxFuture<'a, Result<bool, RevocationError>>;

    /// Records `session` in `user`'s list of active sessions, or updates it when it is there
    /// (keeping the device and address of its first record). Called when the session's cookie
    /// is issued: at login and at every re-issue. Keeps at most [`MAX_LISTED_SESSIONS`] per
    /// user (the most recently issued), and nothing past the latest `expires` of the list.
    ///
    /// The default answers [`RevocationError::Unsupported`]: the middleware then records nothing.
    fn record_session<'a>(
        &'a self,
        user: &'a str,
        session: &'a SessionRecord,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        let _ = (user, session, now);
        Box::pin(ready(Err(RevocationError::Unsupported)))
    }

    /// `user`'s active sessions at `now`: every recorded session that
    /// [`SessionRecord::is_listed`] (not expired, its id not revoked, its generation not below the
    /// user's), in no particular order. Sessions found ended may be dropped from the store.
    ///
    /// The default answers [`RevocationError::Unsupported`].
    fn sessions<'a>(
        &'a self,
        user: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<SessionRecord>, RevocationError>> {
        let _ = (user, now);
        Box::pin(ready(Err(RevocationError::Unsupported)))
    }

    /// Drops session `sid` from `user`'s list (it was ended; revoking it is a separate call).
    ///
    /// The default answers [`RevocationError::Unsupported`].
    fn forget_session<'a>(
        &'a self,
        user: &'a str,
        sid: &'a str,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        let _ = (user, sid);
        Box::pin(ready(Err(RevocationError::Unsupported)))
    }
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
    /// The call needs a signed-in session, and the request has none.
    NotSignedIn,
    /// The store keeps no lists of sessions ([`Revocations::sessions`] is not implemented).
    Unsupported,
    /// No active session of the signed-in user has this id ([`crate::Session::end_session`]):
    /// it ended already, or it belongs to someone else.
    UnknownSession,
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(e) => write!(f, "revocation store unavailable: {e}"),
            Self::Timeout => f.write_str("revocation store did not answer in time"),
            Self::NotConfigured => f.write_str(
                "no revocation store configured: use AuthSession::builder(..).revocations(..)",
            ),
            Self::NotSignedIn => f.write_str("no user is signed in to this session"),
            Self::Unsupported => f.write_str("this revocation store keeps no lists of sessions"),
            Self::UnknownSession => f.write_str("no active session of this user has this id"),
        }
    }
}

impl std::error::Error for RevocationError {}

/// Revocations in this process's memory: for single-instance apps and tests.
///
/// Expired entries are dropped on every write, so memory stays bounded by the sessions revoked
/// within one absolute timeout, plus at most [`MAX_LISTED_SESSIONS`] listed sessions per user
/// with a live session.
#[derive(Debug, Default)]
pub struct MemoryRevocations {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// sid → until
    sessions: HashMap<String, i64>,
    /// user → (generation, until, when the generation was set)
    users: HashMap<String, (u64, i64, Instant)>,
    /// The last generation handed out to any user: it outlives purged entries, so a user's next
    /// generation is above every one handed out before.
    last: u64,
    /// user → sid → the session as listed
    lists: HashMap<String, HashMap<String, SessionRecord>>,
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

    /// How many entries are stored (revoked sessions, users' generations and listed sessions);
    /// for tests of bounded growth.
    pub fn len(&self) -> usize {
        let entries = self.entries();
        let listed: usize = entries.lists.values().map(HashMap::len).sum();
        entries.sessions.len() + entries.users.len() + listed
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// When an entry revoking until `until` may go: never before the absolute deadline of the
/// cookies it revokes, plus the clock skew allowed between instances.
pub(crate) fn keep_until(until: i64) -> i64 {
    until.saturating_add(MAX_SKEW_SECS)
}

impl Entries {
    fn purge(&mut self, now: i64) {
        self.sessions.retain(|_, until| *until > now);
        self.users.retain(|_, (_, until, _)| *until > now);
        for list in self.lists.values_mut() {
            list.retain(|_, session| session.expires > now);
        }
        self.lists.retain(|_, list| !list.is_empty());
    }

    fn generation(&self, user: &str) -> u64 {
        self.users
            .get(user)
            .map_or(0, |(generation, ..)| *generation)
    }

    /// [`Revocations::login_generation`]: one below the current generation when it was set
    /// after `began`.
    fn login_generation(&self, user: &str, began: Instant) -> u64 {
        match self.users.get(user) {
            Some((generation, _, set)) if *set >= began => generation.saturating_sub(1),
            Some((generation, ..)) => *generation,
            None => 0,
        }
    }

    fn is_revoked(&self, sid: &str, user: &str, generation: u64, now: i64) -> bool {
        let session = self.sessions.get(sid).is_some_and(|until| *until > now);
        let all = self
            .users
            .get(user)
            .is_some_and(|(current, until, _)| *until > now && generation < *current);
        session || all
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
        let until = keep_until(until);
        if until > now {
            let entry = entries.sessions.entry(sid.to_owned()).or_insert(until);
            *entry = (*entry).max(until);
        }
        Box::pin(ready(Ok(())))
    }

    fn revoke_user<'a>(
        &'a self,
        user: &'a str,
        until: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<u64, RevocationError>> {
        let mut entries = self.entries();
        entries.purge(now);
        entries.last += 1;
        let generation = entries.last;
        let until = keep_until(until);
        let entry = entries
            .users
            .entry(user.to_owned())
            .or_insert((0, until, Instant::now()));
        *entry = (generation, entry.1.max(until), Instant::now());
        Box::pin(ready(Ok(generation)))
    }

    fn generation<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<u64, RevocationError>> {
        Box::pin(ready(Ok(self.entries().generation(user))))
    }

    fn login_generation<'a>(
        &'a self,
        user: &'a str,
        began: Instant,
    ) -> BoxFuture<'a, Result<u64, RevocationError>> {
        Box::pin(ready(Ok(self.entries().login_generation(user, began))))
    }

    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        generation: u64,
        now: i64,
    ) -> BoxFuture<'a, Result<bool, RevocationError>> {
        let revoked = self.entries().is_revoked(sid, user, generation, now);
        Box::pin(ready(Ok(revoked)))
    }

    fn record_session<'a>(
        &'a self,
        user: &'a str,
        session: &'a SessionRecord,
        now: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        let mut entries = self.entries();
        entries.purge(now);
        let list = entries.lists.entry(user.to_owned()).or_default();
        let record = match list.get(&session.sid) {
            Some(first) => first.refreshed_by(session),
            None => session.clone(),
        };
        list.insert(session.sid.clone(), record);
        if list.len() > MAX_LISTED_SESSIONS {
            let mut records: Vec<_> = list.values().cloned().collect();
            for sid in self::list::cap(&mut records) {
                list.remove(&sid);
            }
        }
        Box::pin(ready(Ok(())))
    }

    fn sessions<'a>(
        &'a self,
        user: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<SessionRecord>, RevocationError>> {
        let mut entries = self.entries();
        let generation = entries
            .users
            .get(user)
            .filter(|(_, until, _)| *until > now)
            .map_or(0, |(generation, ..)| *generation);
        let mut list = entries.lists.remove(user).unwrap_or_default();
        list.retain(|sid, session| {
            let revoked = entries.sessions.get(sid).is_some_and(|until| *until > now);
            session.is_listed(now, generation, revoked)
        });
        let listed = list.values().cloned().collect();
        if !list.is_empty() {
            entries.lists.insert(user.to_owned(), list);
        }
        Box::pin(ready(Ok(listed)))
    }

    fn forget_session<'a>(
        &'a self,
        user: &'a str,
        sid: &'a str,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        let mut entries = self.entries();
        if let Some(list) = entries.lists.get_mut(user) {
            list.remove(sid);
            if list.is_empty() {
                entries.lists.remove(user);
            }
        }
        Box::pin(ready(Ok(())))
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
    fn session_revocation_expires_after_the_skew_allowance() {
        let store = MemoryRevocations::new();
        block(store.revoke_session("s1", 200, 100)).unwrap();
        assert!(block(store.is_revoked("s1", "u", 0, 150)).unwrap());
        assert!(!block(store.is_revoked("s2", "u", 0, 150)).unwrap());
        let end = 200 + MAX_SKEW_SECS;
        assert!(block(store.is_revoked("s1", "u", 0, end - 1)).unwrap());
        assert!(!block(store.is_revoked("s1", "u", 0, end)).unwrap());
        block(store.revoke_session("s3", 400, end)).unwrap();
        assert_eq!(store.len(), 1, "the expired entry was purged");
    }

    #[test]
    fn user_revocation_covers_every_generation_handed_out_before() {
        let store = MemoryRevocations::new();
        let before = block(store.generation("u")).unwrap();
        assert_eq!(before, 0);
        let first = block(store.revoke_user("u", 1000, 100)).unwrap();
        assert!(block(store.is_revoked("s", "u", before, 150)).unwrap());
        assert!(!block(store.is_revoked("s", "u", first, 150)).unwrap());
        assert_eq!(block(store.generation("u")).unwrap(), first);
        assert!(!block(store.is_revoked("s", "other", 0, 150)).unwrap());
        // Whatever `now` a later call brings (a slower clock), the generation only grows.
        let second = block(store.revoke_user("u", 900, 50)).unwrap();
        assert!(second > first);
        assert!(block(store.is_revoked("s", "u", first, 150)).unwrap());
    }

    #[test]
    fn generations_stay_above_purged_ones() {
        let store = MemoryRevocations::new();
        let first = block(store.revoke_user("u", 100, 10)).unwrap();
        // Purged once its entry expires; the next generation is still above the old one.
        block(store.revoke_session("x", 10_000, 100 + MAX_SKEW_SECS)).unwrap();
        assert_eq!(block(store.generation("u")).unwrap(), 0);
        let again = block(store.revoke_user("u", 10_000, 200)).unwrap();
        assert!(again > first);
    }
}
