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
//! - every entry a backend stores carries an expiry at least [`store::MAX_SKEW_SECS`] past the
//!   moment the revoked cookies could no longer be valid anyway (their absolute deadline), and no
//!   later than needed, so storage never grows without bound.
//!
//! A backend may also keep each user's list of active sessions ("My sessions", see
//! [`list`](self#my-sessions)): [`Revocations::record_session`], [`Revocations::sessions`] and
//! [`Revocations::forget_session`]. Both backends here do; a third-party backend that does not
//! keeps compiling (the default methods answer [`StoreError::Unsupported`]) and the
//! middleware then records nothing.
//!
//! A backend is a type implementing [`Revocations`] with plain `async fn`s; what only backend
//! authors need (the [`store::SessionRecord`] they keep, the bounds they honour) is in
//! [`store`].
//!
//! # My sessions
//!
//! With a store that keeps lists, [`crate::Session::sessions`] lists the signed-in user's active
//! sessions ([`ActiveSession`]: started, last issued, a coarse [`device_label`], the address it
//! signed in from, whether it is the current one) and [`crate::Session::end_session`] ends one of
//! them. The middleware records a session only when it issues its cookie (login, refresh, change,
//! key-rotation re-issue); the list drops expired and revoked sessions, and keeps at most
//! [`store::MAX_LISTED_SESSIONS`] per user.

use std::{
    fmt,
    future::{ready, Future},
    sync::Arc,
    time::Instant,
};

mod erased;
mod list;
mod memory;
#[cfg(feature = "redis")]
mod mirror;
#[cfg(feature = "redis")]
mod redis;
pub mod store;

pub(crate) use self::erased::AnyRevocations;
use self::store::SessionRecord;
pub use self::{
    list::{device_label, ActiveSession},
    memory::MemoryRevocations,
};
#[cfg(feature = "redis")]
pub use self::{
    mirror::{RevocationMirror, RevocationMirrorBuilder},
    redis::{DurabilityRisk, RedisRevocations},
};
use crate::bound::StoreError;

/// Where revocations are kept. Implemented by [`MemoryRevocations`] (one process) and, with the
/// `redis` feature, `RedisRevocations` (shared by every instance of an app) and
/// `RevocationMirror`; register one with [`crate::AuthSessionBuilder::revocations`]. `Arc<S>`
/// is a store too.
///
/// Times are Unix seconds; `now` is passed in so backends need no clock of their own. A backend
/// implements the methods with plain `async fn`:
///
/// ```
/// use session_core::{revocation::Revocations, StoreError};
///
/// /// Never revokes anything: a sketch of the shape, not a store to use.
/// struct Nothing;
///
/// impl Revocations for Nothing {
///     async fn revoke_session(&self, _: &str, _: i64, _: i64) -> Result<(), StoreError> {
///         Ok(())
///     }
///     async fn revoke_user(&self, _: &str, _: i64, _: i64) -> Result<u64, StoreError> {
///         Ok(1)
///     }
///     async fn generation(&self, _: &str) -> Result<u64, StoreError> {
///         Ok(0)
///     }
///     async fn is_revoked(
///         &self,
///         _sid: &str,
///         _user: &str,
///         _generation: u64,
///         _now: i64,
///     ) -> Result<bool, StoreError> {
///         Ok(false)
///     }
/// }
/// ```
pub trait Revocations: Send + Sync + 'static {
    /// Revokes session `sid` until `until` (after which its cookies are invalid anyway; the
    /// entry may live [`MAX_SKEW_SECS`](store::MAX_SKEW_SECS) longer, never less).
    fn revoke_session(
        &self,
        sid: &str,
        until: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes every session of `user` started before this call: moves the user's generation
    /// past every generation handed out before, keeps it at least until `until` (plus
    /// [`MAX_SKEW_SECS`](store::MAX_SKEW_SECS)), and returns it.
    fn revoke_user(
        &self,
        user: &str,
        until: i64,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The user's current generation (0 when none is stored), carried by a session started now.
    fn generation(&self, user: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The generation a session of `user` started by a request that began at `began` (this
    /// process's monotonic clock) carries: the current one, or, when the generation moved after
    /// `began` (a `revoke_user` ran while the login's handler was running), one below it, so
    /// that revocation covers this login too.
    ///
    /// The default is [`Self::generation`], which covers only logins whose generation is read
    /// before the revocation; [`MemoryRevocations`], `RedisRevocations` and `RevocationMirror`
    /// cover every login whose request began before `revoke_user` returned.
    fn login_generation(
        &self,
        user: &str,
        began: Instant,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = began;
        self.generation(user)
    }

    /// Whether session `sid` of `user`, started under `generation`, is revoked: its id was
    /// revoked, or the user's generation has moved past it.
    fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// [`Revocations::is_revoked`]'s answer when the store knows it without waiting (an
    /// in-memory table, a mirror in sync); `None` when it has to ask. The middleware then
    /// checks a request with no `async` step. It must be the answer `is_revoked` would give.
    ///
    /// The default is `None`: every check goes through `is_revoked`.
    fn is_revoked_now(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Option<Result<bool, StoreError>> {
        let _ = (sid, user, generation, now);
        None
    }

    /// Records `session` in `user`'s list of active sessions, or updates it when it is there
    /// (keeping the device and address of its first record). Called when the session's cookie
    /// is issued: at login and at every re-issue. Keeps at most
    /// [`MAX_LISTED_SESSIONS`](store::MAX_LISTED_SESSIONS) per user (the most recently issued), and nothing past the latest `expires` of the list.
    ///
    /// The default answers [`StoreError::Unsupported`]: the middleware then records nothing.
    fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (user, session, now);
        ready(Err(StoreError::Unsupported))
    }

    /// `user`'s active sessions at `now`: every recorded session that
    /// [`SessionRecord::is_listed`] (not expired, its id not revoked, its generation not below the
    /// user's), in no particular order. Sessions found ended may be dropped from the store.
    ///
    /// The default answers [`StoreError::Unsupported`].
    fn sessions(
        &self,
        user: &str,
        now: i64,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send {
        let _ = (user, now);
        ready(Err(StoreError::Unsupported))
    }

    /// Drops session `sid` from `user`'s list (it was ended; revoking it is a separate call).
    ///
    /// The default answers [`StoreError::Unsupported`].
    fn forget_session(
        &self,
        user: &str,
        sid: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (user, sid);
        ready(Err(StoreError::Unsupported))
    }
}

/// A shared store is a store (every method, the optional ones included, is the inner store's).
impl<S: Revocations> Revocations for Arc<S> {
    fn revoke_session(
        &self,
        sid: &str,
        until: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).revoke_session(sid, until, now)
    }

    fn revoke_user(
        &self,
        user: &str,
        until: i64,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).revoke_user(user, until, now)
    }

    fn generation(&self, user: &str) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).generation(user)
    }

    fn login_generation(
        &self,
        user: &str,
        began: Instant,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).login_generation(user, began)
    }

    fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).is_revoked(sid, user, generation, now)
    }

    fn is_revoked_now(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Option<Result<bool, StoreError>> {
        (**self).is_revoked_now(sid, user, generation, now)
    }

    fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).record_session(user, session, now)
    }

    fn sessions(
        &self,
        user: &str,
        now: i64,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send {
        (**self).sessions(user, now)
    }

    fn forget_session(
        &self,
        user: &str,
        sid: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).forget_session(user, sid)
    }
}

/// Why a revocation call failed: the store's failure, or a call that cannot be made here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// The revocation store could not answer, or keeps no lists of sessions
    /// ([`StoreError::Unsupported`] from [`Revocations::sessions`]).
    Store(StoreError),
    /// No backend is configured on this [`crate::AuthSession`].
    NotConfigured,
    /// The call needs a signed-in session, and the request has none.
    NotSignedIn,
    /// No active session of the signed-in user has this id ([`crate::Session::end_session`]):
    /// it ended already, or it belongs to someone else.
    UnknownSession,
    /// [`crate::Session::sign_out_other_devices`] without a revocation store, and the user
    /// store's record still has this session's credential fingerprint: the other sessions
    /// would stay signed in. Change the credentials (or a sessions epoch that
    /// [`crate::User::fingerprint`] includes) first, or configure a revocation store.
    CredentialsUnchanged,
}

impl From<StoreError> for RevocationError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => write!(f, "revocation {e}"),
            Self::NotConfigured => f.write_str(
                "no revocation store configured: use AuthSession::builder(..).revocations(..)",
            ),
            Self::NotSignedIn => f.write_str("no user is signed in to this session"),
            Self::UnknownSession => f.write_str("no active session of this user has this id"),
            Self::CredentialsUnchanged => f.write_str(
                "the user's credential fingerprint has not changed and no revocation store is \
                 configured: other sessions would stay signed in",
            ),
        }
    }
}

impl std::error::Error for RevocationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}
