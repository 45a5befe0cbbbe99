//! Server-side sessions in any actix-session `SessionStore` (feature `actix-session`), with this
//! crate owning the cookie: the browser holds only the store's random key under the configured
//! cookie name and attributes, `remember(false)` gives a browser-session cookie, and no size limit
//! applies. No `SessionMiddleware` is needed. With actix-session's `RedisSessionStore` and
//! [`crate::hashed_session_key`] as its key generator, Redis keeps only hashes of the keys.
//!
//! Invariants: a new session id (login, renew) gets a new store key and the old one is deleted
//! (no fixation); a logout deletes the state; the state lives as long as the session's idle
//! expiry; the signed idle and absolute timeouts are checked on every read as in cookie mode.

use std::sync::Arc;

use actix_session::storage::{SessionKey, SessionStore};
use actix_web::{
    cookie::time::Duration,
    dev::ServiceRequest,
    http::header::{self, HeaderMap, HeaderValue},
    Error, HttpMessage, HttpRequest,
};

use super::{in_time, session_cookies, Step, Storage};
use crate::{
    cache::VerifiedCache,
    claims::Claims,
    config::Configuration,
    events::SecurityEvent,
    session::{Outgoing, RequestState},
};

/// The state entry holding the claims.
const CLAIMS: &str = "session-core.claims";

/// The store key the request arrived with.
#[derive(Clone)]
struct ArrivedKey(String);

/// Sessions in a `SessionStore`, keyed by the value of this crate's cookie.
pub(crate) struct StoreStorage<S>(pub(crate) S);

impl<S> StoreStorage<S>
where
    S: SessionStore + Send + Sync + 'static,
{
    async fn load(&self, config: &Configuration, value: &str, now: i64) -> Option<Arc<Claims>> {
        let key = SessionKey::try_from(value.to_owned()).ok()?;
        let state = match self.0.load(&key).await {
            Ok(state) => state?,
            Err(e) => {
                tracing::warn!(error = %e, "session store failed; the request is anonymous");
                return None;
            }
        };
        let claims: Claims = match state.get(CLAIMS).map(|json| serde_json::from_str(json)) {
            Some(Ok(claims)) => claims,
            _ => {
                config.emit(SecurityEvent::SessionRefused {
                    reason: "bad_payload",
                });
                return None;
            }
        };
        match in_time(config, &claims, now) {
            Ok(()) => Some(Arc::new(claims)),
            Err(rejection) => {
                config.emit(SecurityEvent::SessionRefused {
                    reason: rejection.reason(),
                });
                None
            }
        }
    }

    async fn save(
        &self,
        state: &RequestState,
        arrived: Option<ArrivedKey>,
        claims: Claims,
    ) -> Result<String, Error> {
        let json =
            serde_json::to_string(&claims).map_err(actix_web::error::ErrorInternalServerError)?;
        let entries = [(CLAIMS.to_owned(), json)].into_iter().collect();
        let ttl = Duration::seconds(claims.exp.saturating_sub(state.now).max(1));
        let continues = state
            .incoming
            .as_deref()
            .is_some_and(|incoming| incoming.sid == claims.sid);
        let saved = match arrived.map(|k| SessionKey::try_from(k.0)) {
            Some(Ok(key)) if continues => self
                .0
                .update(key, entries, &ttl)
                .await
                .map_err(store_error)?,
            arrived => {
                // A new session id: a new key, and the old state goes (no fixation).
                if let Some(Ok(old)) = arrived {
                    self.0.delete(&old).await.map_err(store_error)?;
                }
                self.0.save(entries, &ttl).await.map_err(store_error)?
            }
        };
        Ok(saved.into())
    }

    fn set_cookie(
        headers: &mut HeaderMap,
        cookie: &actix_web::cookie::Cookie<'_>,
    ) -> Result<(), Error> {
        let value = HeaderValue::from_str(&cookie.encoded().to_string())
            .map_err(actix_web::error::ErrorInternalServerError)?;
        headers.append(header::SET_COOKIE, value);
        Ok(())
    }
}

fn store_error(e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "session store failed");
    actix_web::error::ErrorServiceUnavailable("session store unavailable")
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
    ) -> Step<'a, Vec<(Arc<Claims>, bool)>> {
        Step::Pending(Box::pin(async move {
            let mut sessions = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            for value in session_cookies(config, req) {
                if seen.contains(&value) {
                    continue;
                }
                seen.push(value);
                if let Some(claims) = self.load(config, value, now).await {
                    req.extensions_mut().insert(ArrivedKey(value.to_owned()));
                    sessions.push((claims, false));
                }
            }
            sessions
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
            let cookie = match outgoing {
                Outgoing::Remove => {
                    if let Some(Ok(key)) = arrived.map(|k| SessionKey::try_from(k.0)) {
                        self.0.delete(&key).await.map_err(store_error)?;
                    }
                    let mut cookie = config.cookie(String::new());
                    cookie.make_removal();
                    cookie
                }
                Outgoing::Issue(claims) => {
                    let transient = claims.transient;
                    let exp = claims.exp;
                    let key = self.save(state, arrived, claims).await?;
                    let mut cookie = config.cookie(key);
                    if !transient {
                        let left = exp.saturating_sub(state.now).max(0);
                        cookie.set_max_age(Duration::seconds(left));
                    }
                    cookie
                }
            };
            Self::set_cookie(headers, &cookie)
        }))
    }

    fn size_limit(&self) -> Option<usize> {
        None
    }

    fn unused_settings(&self) -> &'static [&'static str] {
        &["previous_keys", "encrypted"]
    }

    fn unused_because(&self) -> &'static str {
        "does not apply to a session store: the cookie carries only the store's key"
    }
}
