//! The per-request session state and the [`Session`] handle that changes it.

use std::{
    future::{ready, Ready},
    sync::Arc,
};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::{
    claims::Claims,
    error::SessionError,
    events::SecurityEvent,
    live::User,
    random,
    revocation::{ActiveSession, RevocationError},
    state::{from_value, RequestState},
    user::AuthUser,
};

/// The `Set-Cookie` a response to `login` would carry under `config`, minted without a request
/// (for [`crate::test_util`]).
#[cfg(feature = "test-util")]
pub(crate) fn mint(
    config: Arc<crate::settings::Configuration>,
    size_limit: Option<usize>,
    login: Login,
) -> Result<actix_web::cookie::Cookie<'static>, SessionError> {
    let now = config.clock.now();
    let state = Arc::new(RequestState::new(
        config,
        size_limit,
        now,
        crate::state::Incoming::anonymous(),
    ));
    Session {
        state: Arc::clone(&state),
    }
    .login(login)?;
    let outgoing = state.outgoing().expect("a login always issues a cookie");
    Ok(crate::storage::cookie::session_cookie(
        &state.config,
        state.now,
        outgoing,
    ))
}

// Public as `csrf::SESSION_KEY`; here because a login rotates the token.
/// The session data key the token is stored under. Reserved: do not write it yourself.
pub const CSRF_SESSION_KEY: &str = "_csrf";

/// A login to record with [`Session::login`].
///
/// ```
/// use session_core::Login;
/// let login = Login::new("42").roles(["editor"]).data("theme", "dark").remember(false);
/// # let _ = login;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Login {
    id: String,
    roles: Vec<String>,
    data: Vec<(String, Result<Value, String>)>,
    remember: bool,
    fingerprint: Option<Vec<u8>>,
}

impl Login {
    /// Signs in the user with this id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            roles: Vec::new(),
            data: Vec::new(),
            remember: true,
            fingerprint: None,
        }
    }

    /// Signs in `user` (with a user store, [`crate::AuthSessionBuilder::users`]): its id, and the
    /// MAC of its credential fingerprint, so the session ends when the credentials change. The
    /// roles are not copied: with a store, guards read them from the record on every request.
    ///
    /// ```
    /// use session_core::{Login, User};
    /// struct Account { id: String, roles: Vec<String>, hash: String }
    /// impl User for Account {
    ///     fn id(&self) -> &str { &self.id }
    ///     fn roles(&self) -> &[String] { &self.roles }
    ///     fn fingerprint(&self) -> Option<&[u8]> { Some(self.hash.as_bytes()) }
    /// }
    /// let account = Account { id: "42".into(), roles: vec![], hash: "$argon2id$..".into() };
    /// let login = Login::user(&account).remember(false);
    /// # let _ = login;
    /// ```
    pub fn user<U: User>(user: &U) -> Self {
        let mut login = Self::new(user.id());
        login.fingerprint = user.fingerprint().map(<[u8]>::to_vec);
        login
    }

    /// The user's roles, checked by `require_role` / `authorize`. Default: none.
    pub fn roles<R: Into<String>>(mut self, roles: impl IntoIterator<Item = R>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// A session data value set with the login. A value that does not serialize makes
    /// [`Session::login`] fail.
    pub fn data(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).map_err(|e| e.to_string());
        self.data.push((key.into(), value));
        self
    }

    /// `true` (default): a persistent cookie with Max-Age. `false`: a browser-session cookie, which
    /// the signed idle expiry still bounds.
    pub fn remember(mut self, remember: bool) -> Self {
        self.remember = remember;
        self
    }
}

/// The session of the current request: log in and out, and keep small data values.
///
/// Changes are written to the response's cookie by the [`crate::AuthSession`] middleware. A
/// session may be anonymous: data without a user (e.g. a CSRF token for the login form).
///
/// ```no_run
/// use actix_web::{post, HttpResponse};
/// use session_core::{Login, Session, SessionError};
///
/// #[post("/login")]
/// async fn login(session: Session) -> Result<HttpResponse, SessionError> {
///     session.login(Login::new("42").roles(["editor"]))?;
///     Ok(HttpResponse::SeeOther().insert_header(("Location", "/")).finish())
/// }
/// ```
#[derive(Clone)]
pub struct Session {
    state: Arc<RequestState>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user().map(|u| u.id().to_owned()))
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Signs a user in. Always starts a new session id (session-fixation defense) and a new
    /// authentication time. Data already in an anonymous session (or in this same user's) is
    /// kept, but for its CSRF token, which is replaced by a new one; a session of another user
    /// starts empty. So a session planted before the login can neither carry data into the
    /// victim's account nor know its CSRF token.
    pub fn login(&self, login: Login) -> Result<(), SessionError> {
        let mut data = self.carried_data(&login.id);
        for (key, value) in login.data {
            let value = value.map_err(|e| SessionError::Serialize(serde::ser::Error::custom(e)))?;
            data.insert(key, value);
        }
        let now = self.state.now;
        let fp = self
            .state
            .config
            .fingerprint_mac(login.fingerprint.as_deref());
        self.state.update(|claims| {
            *claims = Some(Claims {
                sid: random::session_id(),
                sub: Some(login.id),
                roles: login.roles,
                iat: now,
                exp: now,
                auth_time: now,
                data,
                transient: !login.remember,
                fp,
                gen: None,
            });
        })
    }

    /// What a login of `id` keeps of the current session's data (see [`Session::login`]).
    fn carried_data(&self, id: &str) -> Map<String, Value> {
        let pending = self.state.lock();
        let current = pending.current(self.state.incoming.as_deref());
        let mut data = match current {
            Some(c) if c.sub.as_deref().is_none_or(|sub| sub == id) => c.data.clone(),
            _ => Map::new(),
        };
        if data.remove(CSRF_SESSION_KEY).is_some() {
            let token = Value::String(random::new_token());
            data.insert(CSRF_SESSION_KEY.to_owned(), token);
        }
        data
    }

    /// Ends the session: the response removes the cookie, and all data is cleared.
    pub fn logout(&self) {
        // Cannot fail: removing the session makes nothing larger.
        let _ = self.state.update(|claims| *claims = None);
    }

    /// Gives the session a new id, keeping user, roles and data (call it after a privilege change).
    ///
    /// With a session store ([`crate::AuthSessionBuilder::session_store`]) the new id gets a new
    /// key; the old key keeps serving the session as it was *before* this request for 10 seconds,
    /// so requests already under way with the old cookie still succeed, and nothing is written
    /// through it any more (no refresh extends it; a change made through it is dropped). With the
    /// signed cookie and a revocation store, the old session id is revoked at once.
    pub fn renew(&self) {
        let _ = self.state.update(|claims| {
            if let Some(c) = claims {
                c.sid = random::session_id();
            }
        });
    }

    /// Stores `value` under `key`, starting an anonymous session if there is none.
    pub fn insert(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let value = serde_json::to_value(value).map_err(SessionError::Serialize)?;
        let now = self.state.now;
        self.state.update(|claims| {
            let claims = claims.get_or_insert_with(|| anonymous(now));
            claims.data.insert(key.into(), value);
        })
    }

    /// Reads the value under `key`, if any.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let pending = self.state.lock();
        let current = pending.current(self.state.incoming.as_deref());
        let value = current.and_then(|c| c.data.get(key));
        value.map(|v| from_value(key, v)).transpose()
    }

    /// Removes `key`, returning whether it was there (the cookie is re-issued only if it was).
    pub fn remove(&self, key: &str) -> bool {
        let present = {
            let pending = self.state.lock();
            let current = pending.current(self.state.incoming.as_deref());
            current.is_some_and(|c| c.data.contains_key(key))
        };
        if present {
            // Cannot fail: removing a value makes nothing larger.
            let _ = self.state.update(|claims| {
                if let Some(c) = claims {
                    c.data.remove(key);
                }
            });
        }
        present
    }

    /// Removes all data, keeping the signed-in user; an anonymous session ends.
    pub fn clear(&self) {
        let _ = self.state.update(|claims| {
            if let Some(c) = claims.as_mut() {
                c.data.clear();
                if !c.is_authenticated() {
                    *claims = None;
                }
            }
        });
    }

    /// Signs out every other session of the signed-in user and keeps this one ("sign out my
    /// other devices"), in the way the configuration allows:
    ///
    /// - with a user store ([`crate::AuthSessionBuilder::users`]), the user's record is loaded
    ///   afresh; if its credential fingerprint changed (a password change, or a bumped "sessions
    ///   epoch" that [`User::fingerprint`] includes: change the record first, then call this),
    ///   this session is re-bound to it with a new id, and every other session, still carrying
    ///   the old fingerprint, ends on its next request (its cookie removed). Workers that cache
    ///   records ([`crate::config::Users::cache_ttl`]) see the change within the cache's TTL;
    /// - otherwise, with a revocation store ([`crate::AuthSessionBuilder::revocations`]), the
    ///   user's revocation generation moves on, on every instance sharing the store, and this
    ///   session is re-issued under the new one.
    ///
    /// Fails with [`RevocationError::NotSignedIn`] on an anonymous session (or when the user
    /// store no longer has the user), [`RevocationError::NotConfigured`] with neither store,
    /// [`RevocationError::CredentialsUnchanged`] when the fingerprint is unchanged and there is no
    /// revocation store (nothing would sign the others out), or [`RevocationError::Store`] when a
    /// store fails (nothing is changed then).
    pub async fn sign_out_other_devices(&self) -> Result<(), RevocationError> {
        let config = &self.state.config;
        let (user, fp) = {
            let pending = self.state.lock();
            let current = pending.current(self.state.incoming.as_deref());
            current
                .and_then(|c| Some((c.sub.clone()?, c.fp.clone())))
                .ok_or(RevocationError::NotSignedIn)?
        };
        if config.revocation.is_none() && config.users.is_none() {
            return Err(RevocationError::NotConfigured);
        }
        // The fingerprint of the user's record as it is now (never a worker's cached copy):
        // re-bound to when it changed, which ends the other sessions.
        let rebind = match &config.users {
            Some(users) => {
                let record = users.bound.call(users.store.load(&user)).await?;
                let record = record
                    .filter(|r| r.id() == user)
                    .ok_or(RevocationError::NotSignedIn)?;
                let new_fp = config.fingerprint_mac(record.fingerprint());
                if new_fp == fp && config.revocation.is_none() {
                    return Err(RevocationError::CredentialsUnchanged);
                }
                (new_fp != fp).then_some(new_fp)
            }
            None => None,
        };
        let generation = match (&rebind, &config.revocation) {
            (None, Some(_)) => Some(crate::revocation_policy::revoke_user(config, &user).await?),
            _ => None,
        };
        config.emit(SecurityEvent::SignedOutEverywhere {
            user,
            kept_current: true,
        });
        // Fails only for a cookie at its size limit, which then keeps its old fingerprint and
        // generation and ends with the others: never the other way round.
        let _ = self.state.update(|claims| {
            if let Some(c) = claims {
                if let Some(fp) = rebind {
                    c.sid = random::session_id();
                    c.fp = fp;
                }
                if generation.is_some() {
                    c.gen = generation;
                }
            }
        });
        Ok(())
    }

    /// The active sessions of the user this request arrived signed in as ("My sessions"): every
    /// session of theirs the revocation store lists (not expired, not revoked, and with a user
    /// store, bound to their current credentials), newest sign-in first, this one marked
    /// [`ActiveSession::current`]. Costs one store call; nothing is recorded by it.
    ///
    /// Fails with [`RevocationError::NotSignedIn`] on an anonymous request,
    /// [`RevocationError::NotConfigured`] without a revocation store,
    /// or [`RevocationError::Store`]: the store's failure ([`crate::StoreError::Unsupported`]
    /// when it keeps no lists).
    ///
    /// ```no_run
    /// use actix_web::{error::ErrorServiceUnavailable, get, HttpResponse};
    /// use session_core::Session;
    ///
    /// #[get("/api/sessions")]
    /// async fn my_sessions(session: Session) -> actix_web::Result<HttpResponse> {
    ///     let sessions = session.sessions().await.map_err(ErrorServiceUnavailable)?;
    ///     Ok(HttpResponse::Ok().json(sessions))
    /// }
    /// ```
    pub async fn sessions(&self) -> Result<Vec<ActiveSession>, RevocationError> {
        let me = self.state.signed_in().ok_or(RevocationError::NotSignedIn)?;
        let user = me.sub.as_deref().unwrap_or_default();
        let live = self.state.live.as_ref();
        crate::revocation_policy::active_sessions(&self.state.config, user, live, Some(&me.sid))
            .await
    }

    /// Ends one session of the signed-in user, by its id ([`ActiveSession::id`]): its cookie
    /// is refused on every instance from its next request on. Ending this request's own
    /// session is a [`Session::logout`].
    ///
    /// Invariant: only a session in the signed-in user's own list can be ended; any other id,
    /// another user's session among them, fails with [`RevocationError::UnknownSession`] and
    /// changes nothing. Also fails with [`RevocationError::NotSignedIn`],
    /// [`RevocationError::NotConfigured`] or [`RevocationError::Store`] (`Unsupported`
    /// included; then the session may still be valid: nothing was ended).
    pub async fn end_session(&self, sid: &str) -> Result<(), RevocationError> {
        let me = self.state.signed_in().ok_or(RevocationError::NotSignedIn)?;
        let config = &self.state.config;
        config.revocation()?;
        if sid == me.sid {
            self.logout();
            return Ok(());
        }
        let user = me.sub.as_deref().unwrap_or_default();
        let live = self.state.live.as_ref();
        crate::revocation_policy::end_session(config, user, live, sid).await
    }

    /// Reports a security event the app observed (a failed sign-in, ...) to `tracing` and the
    /// hook, like the events this crate emits itself (see [`crate::events`]).
    ///
    /// ```no_run
    /// # use session_core::{events::SecurityEvent, Session};
    /// # fn refused(session: &Session, username: &str) {
    /// session.report(SecurityEvent::sign_in_failed(username, None));
    /// # }
    /// ```
    pub fn report(&self, event: SecurityEvent) {
        self.state.config.emit(event);
    }

    /// The user the request arrived signed in as (not changed by `login`/`logout` in this request).
    pub fn user(&self) -> Option<AuthUser> {
        crate::user::signed_in_user(&self.state)
    }
}

fn anonymous(now: i64) -> Claims {
    Claims {
        sid: random::session_id(),
        sub: None,
        roles: Vec::new(),
        iat: now,
        exp: now,
        auth_time: now,
        data: Map::new(),
        transient: false,
        fp: None,
        gen: None,
    }
}

impl FromRequest for Session {
    type Error = SessionError;
    type Future = Ready<Result<Self, SessionError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(RequestState::from_request(req).map(|state| Session { state }))
    }
}
