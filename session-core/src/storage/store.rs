//! Server-side sessions in any actix-session `SessionStore` (feature `actix-session`), with this
//! crate owning the cookie: the browser holds the store's key and its MAC under the [`Key`]
//! (`codec::store_key`) under the configured cookie name and attributes, `remember(false)` gives
//! a browser-session cookie, and no size limit applies. No `SessionMiddleware` is needed. With
//! actix-session's `RedisSessionStore` and [`crate::hashed_session_key`] as its key generator,
//! Redis keeps only hashes of the keys.
//!
//! Invariants:
//! - no key reaches the store unless its MAC verified (current or previous key);
//! - a new session id gets a new store key; at a login the old state is deleted (no fixation);
//!   at a renew it serves the pre-renew session for [`RENEW_GRACE`] seconds, never written again;
//! - a logout deletes the state, and a write after a concurrent logout brings nothing back;
//! - the state lives as long as the session's idle expiry; the signed idle and absolute timeouts
//!   are checked on every read as in cookie mode;
//! - every store call is bounded by [`STORE_TIMEOUT`]; a failure or timeout answers 503.
//!
//! [`Key`]: crate::Key

use std::{fmt, future::Future, sync::Arc};

use actix_session::storage::{SessionKey, SessionStore};

/// actix-session's state: entry name to JSON text.
type SessionState = std::collections::HashMap<String, String>;
use actix_web::{
    cookie::time::Duration, dev::ServiceRequest, error::InternalError, http::header::HeaderMap,
    Error, HttpMessage, HttpRequest,
};

use percent_encoding::percent_decode_str;

use super::{
    cookie_for, in_time, put_cookie, session_cookies, text, Read, Step, Storage, StoreDown,
};
use crate::{
    bound::{Bound, StoreError},
    cache::VerifiedCache,
    claims::Claims,
    codec::store_key::StoreKeyMacs,
    deny::unavailable,
    events::SecurityEvent,
    settings::Configuration,
    state::{Outgoing, RequestState},
};

/// The state entry holding the claims.
const CLAIMS: &str = "session-core.claims";

/// The state entry marking a session a renew superseded: until when (Unix seconds) its old key
/// still serves.
const SUPERSEDED_UNTIL: &str = "session-core.superseded-until";

/// How long the key a renew replaced keeps serving the session as it was before the renew, so
/// that requests already under way with the old cookie (a page's parallel fetches) still succeed.
pub(crate) const RENEW_GRACE: i64 = 10;

/// The store key the request arrived with, and whether a renew superseded it.
#[derive(Clone)]
struct ArrivedKey {
    value: String,
    superseded: bool,
}

/// How long one call to the session store may take before the request is answered 503.
pub(crate) const STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Sessions in a `SessionStore`, keyed by the store key this crate's cookie carries beside its
/// MAC.
pub(crate) struct StoreStorage<S> {
    pub(crate) store: S,
    pub(crate) macs: StoreKeyMacs,
}

/// One store call bounded by [`STORE_TIMEOUT`]; a failure or a timeout is logged and becomes the
/// negotiated 503 (`session_store_unavailable`, `Retry-After: 1`), never "anonymous" and never a
/// hung request.
async fn bounded<T, E: fmt::Display>(
    req: &HttpRequest,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, Error> {
    let call = async {
        call.await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    };
    Bound::closed(STORE_TIMEOUT).call(call).await.map_err(|e| {
        tracing::error!(error = %e, "session store unavailable");
        InternalError::from_response(e, unavailable(req, "session_store_unavailable")).into()
    })
}

/// What a write of a continuing session found in the store.
enum Saved {
    /// The state is under this key.
    At(String),
    /// The state the request arrived with is gone: the session ended (a logout, or "end this
    /// session" from another device) while the request ran. Nothing was kept.
    Ended,
}

impl<S> StoreStorage<S>
where
    S: SessionStore + Send + Sync + 'static,
{
    async fn load(
        &self,
        config: &Configuration,
        req: &HttpRequest,
        value: &str,
        now: i64,
    ) -> Result<Option<(Arc<Claims>, bool)>, Error> {
        let Ok(key) = SessionKey::try_from(value.to_owned()) else {
            return Ok(None); // not a key the store could have made
        };
        let Some(state) = bounded(req, self.store.load(&key)).await? else {
            return Ok(None);
        };
        let superseded = match state
            .get(SUPERSEDED_UNTIL)
            .map(|until| until.parse::<i64>())
        {
            None => false,
            Some(Ok(until)) if now < until => true,
            Some(_) => {
                config.emit(SecurityEvent::SessionRefused {
                    reason: "superseded",
                });
                return Ok(None);
            }
        };
        let claims: Claims = match state.get(CLAIMS).map(|json| serde_json::from_str(json)) {
            Some(Ok(claims)) => claims,
            _ => {
                config.emit(SecurityEvent::SessionRefused {
                    reason: "bad_payload",
                });
                return Ok(None);
            }
        };
        match in_time(config, &claims, now) {
            Ok(()) => Ok(Some((Arc::new(claims), superseded))),
            Err(rejection) => {
                config.emit(SecurityEvent::SessionRefused {
                    reason: rejection.reason(),
                });
                Ok(None)
            }
        }
    }

    // Invariant: a write never brings back a session that ended while the request ran
    // (`update_existing`): the writer's cookie is removed instead.
    async fn save(
        &self,
        state: &RequestState,
        req: &HttpRequest,
        arrived: Option<ArrivedKey>,
        claims: &Claims,
    ) -> Result<Saved, Error> {
        let json =
            serde_json::to_string(claims).map_err(actix_web::error::ErrorInternalServerError)?;
        let entries = || [(CLAIMS.to_owned(), json.clone())].into_iter().collect();
        let ttl = Duration::seconds(claims.exp.saturating_sub(state.now).max(1));
        let continues = state
            .incoming
            .as_deref()
            .is_some_and(|incoming| incoming.sid == claims.sid);
        let Some(old) = arrived.map(|k| k.value) else {
            let saved = bounded(req, self.store.save(entries(), &ttl)).await?;
            return Ok(Saved::At(saved.into()));
        };
        if !continues {
            let saved = bounded(req, self.store.save(entries(), &ttl)).await?;
            match state
                .incoming
                .as_deref()
                .filter(|old| is_renewal(old, claims))
            {
                // A renew: the old key keeps the session as it was before this request, for
                // RENEW_GRACE seconds, marked so that it is never written or extended again.
                Some(before) => self.supersede(state, req, old, before).await?,
                // A login (or any other new session): the old state goes (no fixation).
                None => bounded(req, self.store.delete(&session_key(&old)?)).await?,
            }
            return Ok(Saved::At(saved.into()));
        }
        match self.update_existing(req, old, entries(), &ttl).await? {
            Some(saved) => Ok(Saved::At(saved)),
            None => Ok(Saved::Ended),
        }
    }

    /// Updates the state under `arrived` if the store still holds it: `Some(key)` it is now
    /// under, or `None` when it was gone (ended while the request ran), leaving nothing behind.
    /// A store such as actix-session's `RedisSessionStore` answers `update` of a missing key by
    /// saving under a new key; so when `update` answers another key and `arrived` no longer
    /// loads, that new key is deleted. (A store whose key is the state itself,
    /// `CookieSessionStore`, answers a new key every time and still loads the arrived one.)
    async fn update_existing(
        &self,
        req: &HttpRequest,
        arrived: String,
        entries: SessionState,
        ttl: &Duration,
    ) -> Result<Option<String>, Error> {
        let saved: String = bounded(req, self.store.update(session_key(&arrived)?, entries, ttl))
            .await?
            .into();
        if saved == arrived
            || bounded(req, self.store.load(&session_key(&arrived)?))
                .await?
                .is_some()
        {
            return Ok(Some(saved));
        }
        bounded(req, self.store.delete(&session_key(&saved)?)).await?;
        Ok(None)
    }

    /// Marks the state under `old` as superseded by a renew: it serves `before` (the claims the
    /// request arrived with, never the renewed ones) until `now + RENEW_GRACE`, then nothing.
    async fn supersede(
        &self,
        state: &RequestState,
        req: &HttpRequest,
        old: String,
        before: &Claims,
    ) -> Result<(), Error> {
        let json =
            serde_json::to_string(before).map_err(actix_web::error::ErrorInternalServerError)?;
        let until = state.now + RENEW_GRACE;
        let entries = [
            (CLAIMS.to_owned(), json),
            (SUPERSEDED_UNTIL.to_owned(), until.to_string()),
        ]
        .into_iter()
        .collect();
        // Already gone (ended meanwhile): nothing to keep serving, and nothing is left behind.
        let ttl = Duration::seconds(RENEW_GRACE);
        self.update_existing(req, old, entries, &ttl).await?;
        Ok(())
    }
}

/// Whether `new` renews `old`: the same signed-in user and login, a new session id.
fn is_renewal(old: &Claims, new: &Claims) -> bool {
    old.sub.is_some() && old.sub == new.sub && old.auth_time == new.auth_time
}

/// A store key this crate handed out or received as a `SessionKey` (a store's own key always
/// converts; anything else is an internal error, never a lookup).
fn session_key(value: &str) -> Result<SessionKey, Error> {
    SessionKey::try_from(value.to_owned())
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))
}

impl<S> Storage for StoreStorage<S>
where
    S: SessionStore + Send + Sync + 'static,
{
    fn read<'a>(
        &'a self,
        config: &'a Configuration,
        _: &'a VerifiedCache,
        req: &'a ServiceRequest,
        now: i64,
    ) -> Step<'a, Read> {
        Step::Pending(Box::pin(async move {
            let mut sessions = super::Sessions::new();
            let mut seen: Vec<&str> = Vec::new();
            for value in session_cookies(config, req, text) {
                if seen.contains(&value) {
                    continue;
                }
                seen.push(value);
                // Nothing reaches the store unless its MAC verified: a made-up key is never
                // looked up (and a store whose key is its state is never fed forged state).
                let decoded = percent_decode_str(value).decode_utf8_lossy();
                let Some((store_key, rotated)) = self.macs.open(&decoded) else {
                    config.emit(SecurityEvent::SessionRefused { reason: "bad_mac" });
                    continue;
                };
                let loaded = self.load(config, req.request(), store_key, now).await;
                if let Some((claims, superseded)) = loaded.map_err(|_| StoreDown)? {
                    req.extensions_mut().insert(ArrivedKey {
                        value: store_key.to_owned(),
                        superseded,
                    });
                    sessions.push((claims, rotated));
                }
            }
            Ok(sessions)
        }))
    }

    fn write<'a>(
        &'a self,
        state: &'a RequestState,
        req: &'a HttpRequest,
        headers: &'a mut HeaderMap,
        outgoing: Outgoing,
    ) -> Step<'a, Result<(), Error>> {
        Step::Pending(Box::pin(async move {
            let arrived = req.extensions().get::<ArrivedKey>().cloned();
            let config = &state.config;
            if let (
                Some(ArrivedKey {
                    superseded: true, ..
                }),
                Outgoing::Issue(_),
            ) = (&arrived, &outgoing)
            {
                // A request under way across a renew, with the old key: it is served, but
                // nothing is written (no refresh extends the old key, no change lands on it),
                // and the client keeps the renewed cookie.
                tracing::debug!("session superseded by a renew; nothing written");
                return Ok(());
            }
            let now = state.now;
            let cookie = match outgoing {
                Outgoing::Remove => {
                    if let Some(arrived) = arrived {
                        bounded(req, self.store.delete(&session_key(&arrived.value)?)).await?;
                    }
                    cookie_for(config, now, None)
                }
                Outgoing::Issue(claims) => match self.save(state, req, arrived, &claims).await? {
                    Saved::At(key) => {
                        cookie_for(config, now, Some((self.macs.seal(&key), &claims)))
                    }
                    Saved::Ended => {
                        config.emit(SecurityEvent::SessionRefused { reason: "ended" });
                        cookie_for(config, now, None)
                    }
                },
            };
            put_cookie(config, headers, &cookie)
        }))
    }

    fn size_limit(&self) -> Option<usize> {
        None
    }

    fn unused_settings(&self) -> &'static [&'static str] {
        &["content"]
    }

    fn unused_because(&self) -> &'static str {
        "does not apply to a session store: the cookie carries only the store's key and its MAC"
    }
}

/// The Redis key under which to keep the state of actix-session's `session_key`: `prefix`
/// followed by the hex SHA-256 of the key, so the keys of the store (`KEYS *`, a dump, a replica)
/// give nobody a usable session. Hand it to actix-session's `RedisSessionStore` (feature
/// `redis-session`): `RedisSessionStore::builder(url).cache_keygen(keygen).build().await?` with
///
/// ```
/// let keygen = |key: &str| session_core::hashed_session_key("session:", key);
/// assert_eq!(keygen("abc").len(), "session:".len() + 64);
/// ```
pub fn hashed_session_key(prefix: &str, session_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(session_key.as_bytes());
    let mut key = String::with_capacity(prefix.len() + 64);
    key.push_str(prefix);
    for byte in digest {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_are_stored_as_their_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hashed_session_key("s:", "abc"),
            "s:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hashed_session_key("", "abd"), hashed_session_key("", "abc"));
    }
}
