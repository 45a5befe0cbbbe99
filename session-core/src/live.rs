//! Live users: the app's own user record, loaded through a [`UserStore`] once per request before
//! any guard runs, so guards judge today's roles rather than a login-time snapshot.
//!
//! Invariants:
//! - with a store configured, every authenticated request is judged on a record loaded for it
//!   (or, with the opt-in cache, loaded at most `users_cache_ttl` ago by this worker); the
//!   cookie's own `roles` are never consulted;
//! - "no such user" and a fingerprint that does not match end the session (anonymous, cookie
//!   removed); a store error or timeout is a 503 and never ends a session;
//! - the cookie carries only a keyed, truncated MAC of the fingerprint (`fp`), never the
//!   fingerprint; the MAC is compared in constant time.

use std::{
    any::Any, cell::RefCell, collections::HashMap, fmt, future::Future, pin::Pin, sync::Arc,
    time::Duration,
};

use actix_web::web;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{
    bound::{Bound, StoreError},
    cache::{SlotKeys, SlotMap},
    claims::Claims,
};

/// The app's user type, as the session layer needs to see it.
///
/// ```
/// use session_core::User;
/// struct Account { id: String, roles: Vec<String>, password_hash: String }
/// impl User for Account {
///     fn id(&self) -> &str { &self.id }
///     fn roles(&self) -> &[String] { &self.roles }
///     // Changes whenever the credentials change: every session started before ends.
///     fn fingerprint(&self) -> Option<&[u8]> { Some(self.password_hash.as_bytes()) }
/// }
/// ```
pub trait User: Send + Sync + 'static {
    /// The id the session was started with ([`crate::Login::user`]).
    fn id(&self) -> &str;

    /// The user's roles now, checked by `require_role`, `authorize` and [`crate::Require`].
    fn roles(&self) -> &[String];

    /// Permissions the user holds on their own, beside those their roles grant through the
    /// role table ([`crate::Authorization`]); checked by `require_permission`, `permission = ..`
    /// and [`crate::Require::permission`]. Default: none.
    fn permissions(&self) -> &[String] {
        &[]
    }

    /// Bytes that change whenever the user's credentials change (the password hash, a
    /// "sessions epoch" counter, ...). A session started under other bytes ends on its next
    /// request. Default: none (sessions survive credential changes).
    fn fingerprint(&self) -> Option<&[u8]> {
        None
    }
}

/// A shared record is a record: a store may hand out `Arc`s of the records it keeps.
impl<U: User> User for Arc<U> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn roles(&self) -> &[String] {
        (**self).roles()
    }
    fn permissions(&self) -> &[String] {
        (**self).permissions()
    }
    fn fingerprint(&self) -> Option<&[u8]> {
        (**self).fingerprint()
    }
}

/// Where the app's users live: its own database, behind one async `load`.
///
/// Registered once with [`crate::AuthSessionBuilder::users`]; `Arc<S>` and `web::Data<S>` are
/// stores too, so the same handle can also be app data.
///
/// ```
/// use std::collections::HashMap;
/// use session_core::{User, UserStore};
/// # struct Account { id: String, roles: Vec<String> }
/// # impl User for Account {
/// #     fn id(&self) -> &str { &self.id }
/// #     fn roles(&self) -> &[String] { &self.roles }
/// # }
/// struct Accounts(HashMap<String, Vec<String>>);
///
/// impl UserStore for Accounts {
///     type User = Account;
///     type Error = std::convert::Infallible;
///     async fn load(&self, id: &str) -> Result<Option<Account>, Self::Error> {
///         Ok(self.0.get(id).map(|roles| Account { id: id.to_owned(), roles: roles.clone() }))
///     }
/// }
/// ```
pub trait UserStore: Send + Sync + 'static {
    /// The app's user record.
    type User: User;
    /// A failure to answer (the request gets a 503, the session is kept).
    type Error: fmt::Display + Send + 'static;

    /// The user with this id, or `None` when there is no such user (the session then ends).
    fn load(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, Self::Error>> + Send;

    /// [`UserStore::load`]'s answer when the store has it without waiting (an in-memory map, a
    /// process-local copy of a table), as a shared record: `None` when it has to wait, and the
    /// middleware then calls `load`. It must be the answer `load` would give now.
    ///
    /// A store that answers here costs a request no `async` step, no timer and no allocation
    /// of the middleware's; one that keeps its records as `Arc`s hands out a clone of the
    /// pointer rather than of the record. The default is `None`: every load goes through `load`.
    ///
    /// ```
    /// use std::{collections::HashMap, sync::Arc};
    /// use session_core::{User, UserStore};
    /// # struct Account { id: String, roles: Vec<String> }
    /// # impl User for Account {
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn roles(&self) -> &[String] { &self.roles }
    /// # }
    /// struct Accounts(HashMap<String, Arc<Account>>);
    ///
    /// impl UserStore for Accounts {
    ///     type User = Account;
    ///     type Error = std::convert::Infallible;
    ///     async fn load(&self, id: &str) -> Result<Option<Account>, Self::Error> {
    ///         Ok(self.0.get(id).map(|a| Account { id: a.id.clone(), roles: a.roles.clone() }))
    ///     }
    ///     fn load_now(&self, id: &str) -> Option<Result<Option<Arc<Account>>, Self::Error>> {
    ///         Some(Ok(self.0.get(id).cloned()))
    ///     }
    /// }
    /// ```
    // Read from the outside in: answered now or not, failed or not, such a user or not.
    #[allow(clippy::type_complexity)]
    fn load_now(&self, id: &str) -> Option<Result<Option<Arc<Self::User>>, Self::Error>> {
        let _ = id;
        None
    }
}

impl<S: UserStore> UserStore for Arc<S> {
    type User = S::User;
    type Error = S::Error;

    fn load(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, Self::Error>> + Send {
        UserStore::load(&**self, id)
    }
    fn load_now(&self, id: &str) -> Option<Result<Option<Arc<Self::User>>, Self::Error>> {
        UserStore::load_now(&**self, id)
    }
}

impl<S: UserStore> UserStore for web::Data<S> {
    type User = S::User;
    type Error = S::Error;

    fn load(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, Self::Error>> + Send {
        UserStore::load(&**self, id)
    }
    fn load_now(&self, id: &str) -> Option<Result<Option<Arc<Self::User>>, Self::Error>> {
        UserStore::load_now(&**self, id)
    }
}

/// A loaded user record with its type erased; [`Current`] and [`crate::AuthUser::record`] get
/// the app's type back.
pub(crate) trait AnyUser: Send + Sync {
    fn id(&self) -> &str;
    fn roles(&self) -> &[String];
    fn permissions(&self) -> &[String];
    fn fingerprint(&self) -> Option<&[u8]>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<U: User> AnyUser for U {
    fn id(&self) -> &str {
        User::id(self)
    }
    fn roles(&self) -> &[String] {
        User::roles(self)
    }
    fn permissions(&self) -> &[String] {
        User::permissions(self)
    }
    fn fingerprint(&self) -> Option<&[u8]> {
        User::fingerprint(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// The user loaded for one request.
pub(crate) type LiveUser = Arc<dyn AnyUser>;

type Loading<'a> = Pin<Box<dyn Future<Output = Result<Option<LiveUser>, StoreError>> + Send + 'a>>;

/// A [`UserStore`] with its types erased, so the middleware stays non-generic.
pub(crate) trait AnyStore: Send + Sync {
    fn load<'a>(&'a self, id: &'a str) -> Loading<'a>;
    /// [`UserStore::load_now`]: the shared record becomes the `LiveUser` as it is (no
    /// allocation), a failure the same [`StoreError`] as `load`'s.
    fn load_now(&self, id: &str) -> Option<Result<Option<LiveUser>, StoreError>>;
}

impl<S: UserStore> AnyStore for S {
    fn load<'a>(&'a self, id: &'a str) -> Loading<'a> {
        Box::pin(async move {
            match UserStore::load(self, id).await {
                Ok(user) => Ok(user.map(|u| Arc::new(u) as LiveUser)),
                Err(e) => Err(store_error(e)),
            }
        })
    }

    fn load_now(&self, id: &str) -> Option<Result<Option<LiveUser>, StoreError>> {
        Some(match UserStore::load_now(self, id)? {
            Ok(user) => Ok(user.map(|u| u as LiveUser)),
            Err(e) => Err(store_error(e)),
        })
    }
}

/// A user store's failure, as every store's failure is reported.
fn store_error(e: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// The configured store and how to use it.
pub(crate) struct UsersConfig {
    pub(crate) store: Arc<dyn AnyStore>,
    /// The timeout; a failure always fails closed (503, the session kept).
    pub(crate) bound: Bound,
    /// Seconds a worker may reuse a loaded record; 0 = load on every request.
    pub(crate) cache_ttl: i64,
}

impl UsersConfig {
    /// `store` with no cache and a placeholder timeout (the builder sets both).
    pub(crate) fn new<S: UserStore>(store: S) -> Self {
        Self {
            store: Arc::new(store),
            bound: Bound::closed(Duration::MAX),
            cache_ttl: 0,
        }
    }
}

/// What became of a session once its user was loaded.
#[derive(Clone)]
pub(crate) enum Resolved {
    /// The session stands; guards judge this record.
    Live(LiveUser),
    /// The session ends, for this reason (`user_gone`, `credentials_changed`).
    Ended(&'static str),
}

/// Loads the user of `claims` (from this worker's cache when allowed) and judges the session.
pub(crate) async fn resolve(
    users: &UsersConfig,
    fingerprint_keys: &[FingerprintKey],
    cache: &UserCache,
    claims: &Claims,
    now: i64,
) -> Result<Resolved, StoreError> {
    let id = claims.sub.as_deref().unwrap_or_default();
    if let Some(verdict) = from_cache(id, users, fingerprint_keys, cache, claims, now) {
        return Ok(verdict);
    }
    let loaded = users.bound.call(users.store.load(id)).await?;
    Ok(judge_loaded(
        id,
        loaded,
        users,
        fingerprint_keys,
        cache,
        claims,
        now,
    ))
}

/// [`resolve`] when the store answers at once ([`UserStore::load_now`]): `None` when it has to
/// wait (nothing was loaded, cached or remembered; the caller then runs [`resolve`]).
///
/// Invariant: the same steps as [`resolve`], shared with it ([`from_cache`], then one load,
/// then [`judge_loaded`]): the same cache semantics, the same verdicts, and a store failure
/// the same error. Only the load differs: no `async` step and no timeout (an answer that is
/// already there cannot be late).
pub(crate) fn resolve_now(
    users: &UsersConfig,
    fingerprint_keys: &[FingerprintKey],
    cache: &UserCache,
    claims: &Claims,
    now: i64,
) -> Option<Result<Resolved, StoreError>> {
    let id = claims.sub.as_deref().unwrap_or_default();
    if let Some(verdict) = from_cache(id, users, fingerprint_keys, cache, claims, now) {
        return Some(Ok(verdict));
    }
    let loaded = users.store.load_now(id)?;
    Some(loaded.map(|loaded| judge_loaded(id, loaded, users, fingerprint_keys, cache, claims, now)))
}

/// The verdict on this worker's cached record of `id`, when it keeps the session going.
///
/// A cached record may only keep a session going: one that would end it (the session was
/// re-bound to credentials changed since the record was cached, on this worker or another) is
/// loaded again, so a session never ends on a stale copy.
fn from_cache(
    id: &str,
    users: &UsersConfig,
    fingerprint_keys: &[FingerprintKey],
    cache: &UserCache,
    claims: &Claims,
    now: i64,
) -> Option<Resolved> {
    let cached = cache.get(id, now, users.cache_ttl)?;
    match judge(claims, Some(cached), fingerprint_keys, cache) {
        verdict @ Resolved::Live(_) => Some(verdict),
        Resolved::Ended(_) => None,
    }
}

/// The verdict on the record of `id` the store just answered, which the cache keeps (when on).
fn judge_loaded(
    id: &str,
    loaded: Option<LiveUser>,
    users: &UsersConfig,
    fingerprint_keys: &[FingerprintKey],
    cache: &UserCache,
    claims: &Claims,
    now: i64,
) -> Resolved {
    if let Some(user) = &loaded {
        cache.insert(id, user, now, users.cache_ttl);
    }
    judge(claims, loaded, fingerprint_keys, cache)
}

/// The decision over a loaded record: gone, credentials changed, or live (the fingerprint
/// verdict through the worker's memo, which answers as the HMAC would).
fn judge(
    claims: &Claims,
    loaded: Option<LiveUser>,
    fingerprint_keys: &[FingerprintKey],
    memo: &UserCache,
) -> Resolved {
    let Some(user) = loaded.filter(|u| Some(u.id()) == claims.sub.as_deref()) else {
        return Resolved::Ended("user_gone");
    };
    if memo.fingerprint_matches(user.as_ref(), claims.fp.as_deref(), fingerprint_keys) {
        Resolved::Live(user)
    } else {
        Resolved::Ended("credentials_changed")
    }
}

/// Whether a session's fingerprint MAC `fp` (the `fp` claim, or a listed session's) belongs to
/// `user`'s current credentials, under any configured key (compared in constant time).
pub(crate) fn fingerprint_matches(
    user: &dyn AnyUser,
    fp: Option<&str>,
    fingerprint_keys: &[FingerprintKey],
) -> bool {
    match (user.fingerprint(), fp) {
        (None, None) => true,
        (Some(fingerprint), Some(mac)) => fingerprint_keys
            .iter()
            .any(|key| key.matches(fingerprint, mac)),
        _ => false,
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths (which are not
/// secret: a fingerprint's length is its format's): the differences of every eight bytes
/// (then of every remaining byte) are OR-ed into one word, kept opaque to the optimizer so
/// that nothing exits early, which is then compared with zero in constant time (`subtle`).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (words_a, words_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let (rest_a, rest_b) = (words_a.remainder(), words_b.remainder());
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("8 bytes"));
    let diff = words_a.zip(words_b).fold(0u64, |diff, (x, y)| {
        std::hint::black_box(diff | (word(x) ^ word(y)))
    });
    let diff = rest_a.iter().zip(rest_b).fold(diff, |diff, (x, y)| {
        std::hint::black_box(diff | u64::from(x ^ y))
    });
    bool::from(diff.ct_eq(&0))
}

/// Bytes of the HMAC kept in the cookie: 128 bits, enough that guessing one is hopeless.
const FINGERPRINT_MAC_LEN: usize = 16;
/// Their length in base64url without padding.
const FINGERPRINT_B64_LEN: usize = 22;

/// The HMAC state of one key's fingerprint key, keyed once at start-up and cloned per use (two
/// SHA-256 compressions fewer per request than keying each time).
#[derive(Clone)]
pub(crate) struct FingerprintKey(Hmac<Sha256>);

impl FingerprintKey {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self(Hmac::new_from_slice(key).expect("HMAC accepts keys of any length"))
    }

    /// The `fp` claim for `fingerprint`: base64url of the truncated HMAC.
    pub(crate) fn mac(&self, fingerprint: &[u8]) -> String {
        String::from_utf8_lossy(&self.encoded(fingerprint)).into_owned()
    }

    /// Whether `claim` is this key's `fp` claim for `fingerprint`; compared in constant time.
    fn matches(&self, fingerprint: &[u8], claim: &str) -> bool {
        bool::from(self.encoded(fingerprint)[..].ct_eq(claim.as_bytes()))
    }

    fn encoded(&self, fingerprint: &[u8]) -> [u8; FINGERPRINT_B64_LEN] {
        let mut mac = self.0.clone();
        mac.update(fingerprint);
        let tag = mac.finalize().into_bytes();
        let mut encoded = [0u8; FINGERPRINT_B64_LEN];
        URL_SAFE_NO_PAD
            .encode_slice(&tag[..FINGERPRINT_MAC_LEN], &mut encoded)
            .expect("16 bytes take 22 characters");
        encoded
    }
}

/// Records a worker loaded recently (only with `users_cache_ttl` > 0), and the fingerprints
/// that matched a session's `fp` claim.
pub(crate) struct UserCache {
    entries: RefCell<HashMap<Box<str>, (LiveUser, i64)>>,
    /// `fp` claim -> the credential fingerprint its HMAC matched (under a configured key), by
    /// a keyed slot of the claim ([`SlotKeys`]).
    ///
    /// Invariants: an entry is stored only after [`fingerprint_matches`] said yes; the verdict
    /// is a pure function of the claim, the fingerprint and the keys, and one cache belongs to
    /// one middleware instance (fixed keys), so a hit (the same claim, compared whole, and a
    /// fingerprint equal byte for byte, compared in constant time) answers exactly what the
    /// HMAC would. A credential change changes the fingerprint: no hit, the HMAC runs and
    /// refuses. A stored claim is a truncated HMAC (22 characters of a keyed PRF output) of a
    /// cookie that verified, so slots spread uniformly under the random slot keys; two claims
    /// in one slot only cost a miss (the newer replaces the older). Bounded like the records.
    matched: RefCell<SlotMap<Matched>>,
    slot_keys: SlotKeys,
}

/// A remembered fingerprint match.
struct Matched {
    claim: Box<str>,
    fingerprint: Box<[u8]>,
}

/// Records kept per worker; a full cache is emptied and refilled.
const USER_CACHE_CAPACITY: usize = 4096;

impl UserCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: RefCell::new(HashMap::new()),
            matched: RefCell::new(SlotMap::default()),
            slot_keys: SlotKeys::new(),
        }
    }

    /// [`fingerprint_matches`], remembered for fingerprints that matched: the HMAC runs once
    /// per claim and fingerprint, not once per request.
    fn fingerprint_matches(
        &self,
        user: &dyn AnyUser,
        fp: Option<&str>,
        fingerprint_keys: &[FingerprintKey],
    ) -> bool {
        let (Some(fingerprint), Some(claim)) = (user.fingerprint(), fp) else {
            return fingerprint_matches(user, fp, fingerprint_keys);
        };
        let slot = self.slot_keys.slot(claim.as_bytes());
        let known = self.matched.borrow().get(&slot).is_some_and(|matched| {
            *matched.claim == *claim && same_bytes(&matched.fingerprint, fingerprint)
        });
        if known {
            return true;
        }
        let matches = fingerprint_matches(user, fp, fingerprint_keys);
        if matches {
            let mut matched = self.matched.borrow_mut();
            if matched.len() >= USER_CACHE_CAPACITY {
                matched.clear();
            }
            let entry = Matched {
                claim: claim.into(),
                fingerprint: fingerprint.into(),
            };
            matched.insert(slot, entry);
        }
        matches
    }

    /// The record of `id` loaded less than `ttl` seconds before `now`.
    fn get(&self, id: &str, now: i64, ttl: i64) -> Option<LiveUser> {
        if ttl <= 0 {
            return None;
        }
        let entries = self.entries.borrow();
        let (user, loaded_at) = entries.get(id)?;
        (now < loaded_at.saturating_add(ttl)).then(|| Arc::clone(user))
    }

    fn insert(&self, id: &str, user: &LiveUser, now: i64, ttl: i64) {
        if ttl <= 0 {
            return;
        }
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= USER_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(id.into(), (Arc::clone(user), now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct U {
        id: &'static str,
        fingerprint: Option<&'static [u8]>,
    }

    impl User for U {
        fn id(&self) -> &str {
            self.id
        }
        fn roles(&self) -> &[String] {
            &[]
        }
        fn fingerprint(&self) -> Option<&[u8]> {
            self.fingerprint
        }
    }

    fn user(id: &'static str, fingerprint: Option<&'static [u8]>) -> Option<LiveUser> {
        Some(Arc::new(U { id, fingerprint }))
    }

    const OLD: [u8; 32] = [1; 32];
    const NEW: [u8; 32] = [2; 32];

    fn claims(fp: Option<String>) -> Claims {
        Claims {
            sub: Some("alice".into()),
            fp,
            ..Claims::sample()
        }
    }

    fn verdict(resolved: Resolved) -> &'static str {
        match resolved {
            Resolved::Live(_) => "live",
            Resolved::Ended(reason) => reason,
        }
    }

    #[test]
    fn judgement_table() {
        let mac = |key, fp| Some(FingerprintKey::new(key).mac(fp));
        let cases = [
            (claims(None), user("alice", None), "live"),
            (claims(mac(&NEW, b"h1")), user("alice", Some(b"h1")), "live"),
            (claims(mac(&OLD, b"h1")), user("alice", Some(b"h1")), "live"),
            (claims(None), None, "user_gone"),
            (claims(mac(&NEW, b"h1")), None, "user_gone"),
            (claims(None), user("bob", None), "user_gone"),
            (
                claims(mac(&NEW, b"h1")),
                user("alice", Some(b"h2")),
                "credentials_changed",
            ),
            (
                claims(None),
                user("alice", Some(b"h1")),
                "credentials_changed",
            ),
            (
                claims(mac(&NEW, b"h1")),
                user("alice", None),
                "credentials_changed",
            ),
            (
                claims(mac(&[3; 32], b"h1")),
                user("alice", Some(b"h1")),
                "credentials_changed",
            ),
            (
                claims(Some("garbage".into())),
                user("alice", Some(b"h1")),
                "credentials_changed",
            ),
        ];
        let keys = [FingerprintKey::new(&NEW), FingerprintKey::new(&OLD)];
        for (i, (claims, loaded, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                verdict(judge(&claims, loaded, &keys, &UserCache::new())),
                want,
                "case {i}"
            );
        }
    }

    #[test]
    fn the_fingerprint_memo_answers_as_the_hmac_does() {
        let keys = [FingerprintKey::new(&NEW), FingerprintKey::new(&OLD)];
        let memo = UserCache::new();
        let claim = claims(Some(FingerprintKey::new(&NEW).mac(b"h1")));
        let judged = |loaded| verdict(judge(&claim, loaded, &keys, &memo));
        // Twice each: the second of a match is a memo hit, and must still say the same.
        for _ in 0..2 {
            assert_eq!(judged(user("alice", Some(b"h1"))), "live");
        }
        // The credentials changed after a remembered match: refused, every time.
        for _ in 0..2 {
            assert_eq!(judged(user("alice", Some(b"h2"))), "credentials_changed");
            assert_eq!(judged(user("alice", Some(b"h1x"))), "credentials_changed");
            assert_eq!(judged(user("alice", Some(b"h"))), "credentials_changed");
            assert_eq!(judged(user("alice", None)), "credentials_changed");
        }
        // Another claim whose HMAC does not match is not answered by the remembered one.
        let forged = claims(Some("garbage".into()));
        assert_eq!(
            verdict(judge(&forged, user("alice", Some(b"h1")), &keys, &memo)),
            "credentials_changed"
        );
        assert_eq!(
            memo.matched.borrow().len(),
            1,
            "only matches are remembered"
        );
    }

    #[test]
    fn the_mac_is_truncated_keyed_and_never_the_fingerprint() {
        let (new, old) = (FingerprintKey::new(&NEW), FingerprintKey::new(&OLD));
        let mac = new.mac(b"$argon2id$v=19$secret-hash");
        assert_eq!(mac.len(), 22, "16 bytes in base64url");
        assert!(!mac.contains("argon"));
        assert_ne!(mac, old.mac(b"$argon2id$v=19$secret-hash"));
        assert_ne!(mac, new.mac(b"$argon2id$v=19$secret-hasH"));
        // A known answer: HMAC-SHA256(key, fingerprint), first 16 bytes, base64url.
        let mut reference = Hmac::<Sha256>::new_from_slice(&NEW).unwrap();
        reference.update(b"$argon2id$v=19$secret-hash");
        let tag = reference.finalize().into_bytes();
        assert_eq!(mac, crate::base64url::b64(&tag[..16]));
        assert!(new.matches(b"$argon2id$v=19$secret-hash", &mac));
        assert!(!new.matches(b"$argon2id$v=19$secret-hash", &mac[..21]));
    }

    #[test]
    fn same_bytes_is_equality() {
        let cases: [(&[u8], &[u8]); 8] = [
            (b"", b""),
            (b"a", b"a"),
            (b"a", b"b"),
            (b"abcdefgh", b"abcdefgh"),
            (b"abcdefgh", b"abcdefgX"),
            (b"abcdefghijk", b"abcdefghijX"),
            (b"Xbcdefghijk", b"abcdefghijk"),
            (b"abcdefgh", b"abcdefghi"),
        ];
        for (a, b) in cases {
            assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
        }
    }

    #[test]
    fn cache_honours_its_ttl() {
        let cache = UserCache::new();
        let alice = user("alice", None).unwrap();
        cache.insert("alice", &alice, 100, 0);
        assert!(cache.get("alice", 100, 0).is_none(), "ttl 0 caches nothing");
        cache.insert("alice", &alice, 100, 5);
        assert!(cache.get("alice", 104, 5).is_some());
        assert!(cache.get("alice", 105, 5).is_none(), "expired after ttl");
        assert!(cache.get("bob", 101, 5).is_none());
        for i in 0..USER_CACHE_CAPACITY + 3 {
            cache.insert(&format!("u{i}"), &alice, 100, 5);
            assert!(cache.entries.borrow().len() <= USER_CACHE_CAPACITY);
        }
    }
}
