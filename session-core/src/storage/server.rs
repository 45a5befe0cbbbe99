//! Server-side sessions (feature `actix-session`): the claims live in an `actix_session::Session`
//! (any of its stores) instead of the signed cookie; the cookie carries only actix-session's key.
//!
//! Register actix-session's `SessionMiddleware` outside [`crate::AuthSession`] (wrapped after it):
//! `App::new().wrap(auth).wrap(SessionMiddleware::new(store, key))`. actix-session then owns the
//! cookie (its name, attributes and lifetime), so the builder's cookie settings do not apply.
//!
//! Guards, macros and extractors work unchanged; `login` renews actix-session's key (fixation
//! defense), `logout` purges the server-side state at once. No cookie size limit applies.

use std::sync::Arc;

use actix_session::SessionExt;
use actix_web::{dev::ServiceRequest, http::header::HeaderMap, Error, HttpRequest};

use super::{in_time, Step, Storage};
use crate::{
    cache::VerifiedCache,
    claims::Claims,
    config::Configuration,
    events::SecurityEvent,
    session::{Outgoing, RequestState},
};

/// The actix-session key holding the claims.
const CLAIMS_KEY: &str = "session-core.claims";

/// Sessions in actix-session's state.
pub(crate) struct ServerStorage;

impl ServerStorage {
    fn read_now(
        &self,
        config: &Configuration,
        _: &VerifiedCache,
        req: &ServiceRequest,
        now: i64,
    ) -> Vec<(Arc<Claims>, bool)> {
        let claims = match req.get_session().get::<Claims>(CLAIMS_KEY) {
            Ok(Some(claims)) => claims,
            Ok(None) => return Vec::new(),
            Err(e) => {
                tracing::debug!(error = %e, "server-side session state unreadable; request is anonymous");
                config.emit(SecurityEvent::SessionRefused {
                    reason: "bad_payload",
                });
                return Vec::new();
            }
        };
        match in_time(config, &claims, now) {
            Ok(()) => vec![(Arc::new(claims), false)],
            Err(rejection) => {
                tracing::debug!(detail = %rejection, "server-side session refused");
                config.emit(SecurityEvent::SessionRefused {
                    reason: rejection.reason(),
                });
                Vec::new()
            }
        }
    }

    /// A new session id renews actix-session's key, a removal purges the state.
    fn write_now(
        &self,
        state: &RequestState,
        req: &HttpRequest,
        _: &mut HeaderMap,
        outgoing: Outgoing,
    ) -> Result<(), Error> {
        let session = req.get_session();
        match outgoing {
            Outgoing::Remove => session.purge(),
            Outgoing::Issue(claims) => {
                let incoming_sid = state.incoming.as_deref().map(|c| c.sid.as_str());
                if incoming_sid != Some(claims.sid.as_str()) {
                    session.renew();
                }
                session.insert(CLAIMS_KEY, claims)?;
            }
        }
        Ok(())
    }
}

impl Storage for ServerStorage {
    fn read<'a>(
        &'a self,
        config: &'a Configuration,
        memo: &'a VerifiedCache,
        req: &'a ServiceRequest,
        now: i64,
    ) -> Step<'a, Vec<(Arc<Claims>, bool)>> {
        Step::Ready(self.read_now(config, memo, req, now))
    }

    fn write<'a>(
        &'a self,
        state: &'a RequestState,
        req: &'a HttpRequest,
        headers: &'a mut HeaderMap,
        outgoing: Outgoing,
    ) -> Step<'a, Result<(), Error>> {
        Step::Ready(self.write_now(state, req, headers, outgoing))
    }

    fn size_limit(&self) -> Option<usize> {
        None
    }

    fn unused_settings(&self) -> &'static [&'static str] {
        &[
            "cookie_name",
            "secure",
            "http_only",
            "same_site",
            "path",
            "domain",
            "previous_keys",
            "encrypted",
        ]
    }

    fn unused_because(&self) -> &'static str {
        "does not apply to server-side sessions: actix-session's SessionMiddleware owns the \
         cookie (configure its name, attributes and key there)"
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
