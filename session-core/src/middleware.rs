//! The [`AuthSession`] middleware: verifies the cookie once per request and writes the session
//! cookie of the response.

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header,
    Error, HttpMessage, HttpRequest, HttpResponse,
};

use crate::{
    cache::VerifiedCache,
    claims::Claims,
    codec::Rejection,
    config::{AuthSessionBuilder, Configuration, RevocationConfig},
    deny::unavailable,
    events::SecurityEvent,
    key::Key,
    live::{self, LiveUser, Resolved, UserCache},
    revocation::{device_label, store::SessionRecord, ActiveSession, RevocationError},
    session::{Incoming, Outgoing, RequestState},
    storage::cookie::verify,
};

/// Signed-cookie sessions for an actix-web `App`: register it with `.wrap(auth.clone())`.
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use session_core::{AuthSession, Key};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = AuthSession::builder(Key::from_env("SESSION_SECRET")?).build()?;
/// HttpServer::new(move || App::new().wrap(auth.clone()))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthSession {
    config: Arc<Configuration>,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSession")
            .field("cookie_name", &self.config.cookie_name)
            .finish_non_exhaustive()
    }
}

impl AuthSession {
    /// Starts a configuration signed with `key`.
    pub fn builder(key: Key) -> AuthSessionBuilder {
        AuthSessionBuilder::new(key)
    }

    pub(crate) fn from_config(config: Configuration) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// Verifies a cookie value as the middleware would, now: its claims as JSON, or the exact
    /// reason it is refused. For debugging ("my session keeps disappearing"); never log the
    /// value itself.
    pub fn inspect(&self, cookie_value: &str) -> Result<serde_json::Value, Rejection> {
        let now = self.config.clock.now();
        let (claims, _) = verify(&self.config, cookie_value, now)?;
        Ok(serde_json::to_value(claims).expect("claims always serialize"))
    }
}

impl AuthSession {
    /// Revokes every session of `user` started before this call, on every instance sharing the
    /// revocation store ("log out all my devices", "kill every session on password change"),
    /// whatever the instances' clocks say (see [`crate::revocation`]). To keep the calling
    /// session, use [`crate::Session::revoke_other_sessions`].
    ///
    /// The exact guarantee: once this returns `Ok`, every session of `user` whose sign-in
    /// request reached the middleware before it returned is refused, on every instance, from
    /// its next request on; that includes a login whose handler was running during the call
    /// (its password checked before, its session started after). With `RedisRevocations` (and
    /// its mirror) a login whose request began within about one Redis round trip after the
    /// call returned may be refused too (it cannot be told apart); sign in again.
    pub async fn revoke_user(&self, user: &str) -> Result<(), RevocationError> {
        revoke_user(&self.config, user).await?;
        self.config.emit(SecurityEvent::SignedOutEverywhere {
            user: user.to_owned(),
            kept_current: false,
        });
        Ok(())
    }

    /// The active sessions of `user` ("My sessions", see [`crate::revocation`]), none marked
    /// current, for an administrator's view. With a user store, sessions bound to credentials
    /// the user no longer has are left out, and a user the store does not know has none.
    ///
    /// Fails with [`RevocationError::NotConfigured`] without a revocation store,
    /// [`RevocationError::Unsupported`] when it keeps no lists, or the store's error (a user
    /// store's failure is [`RevocationError::Unavailable`]).
    pub async fn sessions(&self, user: &str) -> Result<Vec<ActiveSession>, RevocationError> {
        let live = match &self.config.users {
            Some(users) => {
                let load = actix_web::rt::time::timeout(users.timeout, users.store.load(user));
                match load.await {
                    Ok(Ok(Some(record))) => Some(record),
                    Ok(Ok(None)) => return Ok(Vec::new()),
                    Ok(Err(e)) => return Err(RevocationError::Unavailable(e)),
                    Err(_) => return Err(RevocationError::Timeout),
                }
            }
            None => None,
        };
        active_sessions(&self.config, user, live.as_ref(), None).await
    }

    /// Revokes one session by its id ([`crate::AuthUser::session_id`]).
    pub async fn revoke_session(&self, sid: &str) -> Result<(), RevocationError> {
        let revocation = self.config.revocation()?;
        let now = self.config.clock.now();
        let until = now.saturating_add(self.config.absolute_timeout);
        with_timeout(revocation, revocation.store.revoke_session(sid, until, now)).await
    }

    pub(crate) fn config(&self) -> &Configuration {
        &self.config
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn shared_config(&self) -> Arc<Configuration> {
        Arc::clone(&self.config)
    }
}

/// Revokes every session of `user` started before the call; the user's new generation.
pub(crate) async fn revoke_user(
    config: &Configuration,
    user: &str,
) -> Result<u64, RevocationError> {
    let revocation = config.revocation()?;
    let now = config.clock.now();
    let until = now.saturating_add(config.absolute_timeout);
    with_timeout(revocation, revocation.store.revoke_user(user, until, now)).await
}

/// `user`'s listed sessions, newest sign-in first, with `current_sid` marked; with a `live`
/// record, only those bound to its current credentials (a credential change ended the others).
pub(crate) async fn active_sessions(
    config: &Configuration,
    user: &str,
    live: Option<&LiveUser>,
    current_sid: Option<&str>,
) -> Result<Vec<ActiveSession>, RevocationError> {
    let revocation = config.revocation()?;
    let now = config.clock.now();
    let listed = with_timeout(revocation, revocation.store.sessions(user, now)).await?;
    let mut sessions: Vec<_> = listed
        .into_iter()
        .filter(|s| {
            live.is_none_or(|live| {
                live::fingerprint_matches(live.as_ref(), s.fp.as_deref(), &config.fingerprint_keys)
            })
        })
        .map(|s| ActiveSession::new(s, current_sid))
        .collect();
    sessions.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.id.cmp(&b.id)));
    Ok(sessions)
}

/// Stamps a session started in this request with its user's revocation generation as it stood
/// when the request began, so a `revoke_user` (on any instance) that returned after the request
/// began covers it, even one that ran while the handler was running. A store failure fails closed (503) or, when
/// failing open, leaves the session at generation 0, which any past `revoke_user` covers.
async fn stamp_generation(
    state: &RequestState,
    outgoing: &mut Outgoing,
) -> Result<(), RevocationError> {
    let (Some(revocation), Outgoing::Issue(claims)) = (&state.config.revocation, outgoing) else {
        return Ok(());
    };
    let started_now = claims.auth_time == state.now && claims.gen.is_none();
    let Some(user) = claims.sub.as_deref().filter(|_| started_now) else {
        return Ok(());
    };
    let read = revocation.store.login_generation(user, state.began);
    let read = with_timeout(revocation, read).await;
    claims.gen = fail_open_or(
        revocation,
        read.map(Some),
        None,
        "revocation generation unread",
    )?;
    Ok(())
}

/// Records the signed-in session `outgoing` issues in its user's list ("My sessions"): at login
/// and at every re-issue, so a request that writes no cookie costs the list nothing. Device and
/// address come from this request: the `User-Agent` header, reduced to a fixed label, and the
/// TCP peer (never a forwarded-for header, which any client can send).
///
/// What the response then writes, and its error. Failing closed, a session the list cannot
/// show is never issued (invariant: every cookie issued while the store answers is listed until
/// its `exp`): a new session is not started (503, as when its generation is unread); a changed
/// session is not re-issued (503, the change is lost); a plain refresh or rotation re-issue is
/// skipped and the client keeps its cookie, whose list entry still holds. A store that keeps no
/// lists records nothing.
async fn record_issued(
    state: &RequestState,
    req: &HttpRequest,
    outgoing: Outgoing,
) -> (Option<Outgoing>, Result<(), RevocationError>) {
    let (Some(revocation), Outgoing::Issue(claims)) = (&state.config.revocation, &outgoing) else {
        return (Some(outgoing), Ok(()));
    };
    let Some(user) = claims.sub.as_deref() else {
        return (Some(outgoing), Ok(()));
    };
    let user_agent = req.headers().get(header::USER_AGENT);
    let record = SessionRecord {
        sid: claims.sid.clone(),
        started: claims.auth_time,
        refreshed: claims.iat,
        expires: claims.exp,
        gen: claims.gen.unwrap_or(0),
        fp: claims.fp.clone(),
        device: device_label(user_agent.and_then(|v| v.to_str().ok())),
        address: req.peer_addr().map(|addr| addr.ip().to_string()),
    };
    let write = revocation.store.record_session(user, &record, state.now);
    let written = match with_timeout(revocation, write).await {
        Err(RevocationError::Unsupported) => Ok(()),
        other => other,
    };
    let what = "could not record the session in its user's list";
    let Err(e) = fail_open_or(revocation, written, (), what) else {
        return (Some(outgoing), Ok(()));
    };
    let new_session = state
        .incoming
        .as_deref()
        .is_none_or(|c| c.sid != claims.sid);
    if new_session {
        (Some(Outgoing::Remove), Err(e))
    } else if state.handler_changed() {
        (None, Err(e))
    } else {
        tracing::warn!(error = %e, "{what}; the session is not re-issued");
        (None, Ok(()))
    }
}

/// Runs a revocation-store call under the configured timeout.
pub(crate) async fn with_timeout<T>(
    revocation: &RevocationConfig,
    call: impl Future<Output = Result<T, RevocationError>>,
) -> Result<T, RevocationError> {
    actix_web::rt::time::timeout(revocation.timeout, call)
        .await
        .unwrap_or(Err(RevocationError::Timeout))
}

/// Whether an authenticated session was revoked. A store failure is an error when failing
/// closed; when failing open it is logged and the session counts as not revoked.
async fn is_revoked(
    config: &Configuration,
    claims: &Claims,
    now: i64,
) -> Result<bool, RevocationError> {
    let (Some(revocation), Some(user)) = (&config.revocation, &claims.sub) else {
        return Ok(false);
    };
    let check = revocation
        .store
        .is_revoked(&claims.sid, user, claims.gen.unwrap_or(0), now);
    let checked = with_timeout(revocation, check).await;
    fail_open_or(revocation, checked, false, "revocation check failed")
}

/// A store call's result under the fail-open policy: failing open, an error is logged and
/// `fallback` stands in for the answer; failing closed, the error stands.
fn fail_open_or<T>(
    revocation: &RevocationConfig,
    result: Result<T, RevocationError>,
    fallback: T,
    what: &str,
) -> Result<T, RevocationError> {
    match result {
        Err(e) if revocation.fail_open => {
            tracing::warn!(error = %e, "{what}; failing open");
            Ok(fallback)
        }
        other => other,
    }
}

/// The 503 answer when the revocation store cannot answer and the app fails closed.
fn store_unavailable(req: &HttpRequest, e: &RevocationError) -> HttpResponse {
    tracing::error!(error = %e, "revocation store unavailable; failing closed");
    unavailable(req, "session_store_unavailable")
}

/// The session `req` arrives with: verified, in time, not revoked, and (with a user store) its
/// user loaded and judged. `Err` is the 503 to answer when a store cannot say.
async fn incoming_session(
    config: &Configuration,
    cache: &VerifiedCache,
    users_cache: &UserCache,
    req: &ServiceRequest,
    now: i64,
) -> Result<Incoming, HttpResponse> {
    let Ok(mut sessions) = config.storage.read(config, cache, req, now).get().await else {
        return Err(unavailable(req.request(), "session_store_unavailable"));
    };
    // Revoked sessions drop out before the choice: a planted dead cookie never hides a live one.
    let mut i = 0;
    while i < sessions.len() {
        match is_revoked(config, &sessions[i].0, now).await {
            Ok(false) => i += 1,
            Ok(true) => {
                config.emit(SecurityEvent::SessionRefused { reason: "revoked" });
                sessions.swap_remove(i);
            }
            Err(e) => return Err(store_unavailable(req.request(), &e)),
        }
    }
    // Two different live sessions in one request: one of them was planted (cookie tossing from a
    // sibling domain or a plain-HTTP page). Neither is used, and neither is re-issued.
    let (claims, rotated) = match sessions.len() {
        0 => return Ok(Incoming::anonymous()),
        1 => sessions.swap_remove(0),
        _ => {
            config.emit(SecurityEvent::SessionRefused {
                reason: "ambiguous",
            });
            return Ok(Incoming::anonymous());
        }
    };
    let standing = |live| Incoming {
        claims: Some(Arc::clone(&claims)),
        rotated,
        live,
        ended: false,
    };
    if !claims.is_authenticated() {
        return Ok(standing(None));
    }
    let Some(users) = &config.users else {
        return Ok(standing(None));
    };
    match live::resolve(users, &config.fingerprint_keys, users_cache, &claims, now).await {
        Ok(Resolved::Live(user)) => Ok(standing(Some(user))),
        Ok(Resolved::Ended(reason)) => {
            config.emit(SecurityEvent::SessionRefused { reason });
            Ok(Incoming {
                ended: true,
                ..Incoming::anonymous()
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "user store unavailable; the session is kept");
            Err(unavailable(req.request(), "user_store_unavailable"))
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for AuthSession
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthSessionMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthSessionMiddleware {
            service: Rc::new(service),
            config: Arc::clone(&self.config),
            cache: Rc::new(VerifiedCache::new()),
            users_cache: Rc::new(UserCache::new()),
        }))
    }
}

/// The service [`AuthSession`] wraps around an app; not used directly.
#[doc(hidden)]
pub struct AuthSessionMiddleware<S> {
    service: Rc<S>,
    config: Arc<Configuration>,
    /// This worker's verified cookie values.
    cache: Rc<VerifiedCache>,
    /// This worker's recently loaded users (with `users_cache_ttl`).
    users_cache: Rc<UserCache>,
}

impl<S, B> Service<ServiceRequest> for AuthSessionMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let config = Arc::clone(&self.config);
        let service = Rc::clone(&self.service);
        let cache = Rc::clone(&self.cache);
        let users_cache = Rc::clone(&self.users_cache);
        Box::pin(async move {
            let now = config.clock.now();
            let incoming = incoming_session(&config, &cache, &users_cache, &req, now).await;
            let incoming = match incoming {
                Ok(incoming) => incoming,
                Err(unavailable) => {
                    return Ok(req.into_response(unavailable).map_into_right_body())
                }
            };
            let state = Arc::new(RequestState::new(config, now, incoming));
            req.extensions_mut().insert(Arc::clone(&state));
            let res = service.call(req).await?;
            if let Some(mistake) = state.take_mistake() {
                // The app's wiring is wrong (an `Option<Current<U>>` may have hidden it from the
                // handler): answer the mistake, and write no cookie.
                return Ok(res.error_response(mistake).map_into_right_body());
            }
            let Some(mut outgoing) = state.outgoing() else {
                return Ok(res.map_into_left_body());
            };
            if let Some((sid, until)) = state.ended_session(&outgoing) {
                // Invariant: a session change that ends a session (logout, renew, a login over
                // another session) says it worked only when the old session is revoked. If the
                // store cannot revoke it, the answer is 503, nothing is written (the client
                // keeps its cookie and may retry) and no sign-out is announced.
                if let Err(e) = revoke_ended(&state, sid, until).await {
                    let unavailable = store_unavailable(res.request(), &e);
                    return Ok(res.into_response(unavailable).map_into_right_body());
                }
            }
            let revoked = match stamp_generation(&state, &mut outgoing).await {
                Err(e) => {
                    // The new session cannot be bound to its generation: it is not issued.
                    outgoing = Outgoing::Remove;
                    Err(e)
                }
                Ok(()) => Ok(()),
            };
            let (outgoing, revoked) = match revoked {
                Ok(()) => record_issued(&state, res.request(), outgoing).await,
                Err(e) => (Some(outgoing), Err(e)),
            };
            if let Some(outgoing) = &outgoing {
                announce(&state, outgoing);
            }
            let mut res = match revoked {
                Ok(()) => res.map_into_left_body(),
                Err(e) => {
                    let unavailable = store_unavailable(res.request(), &e);
                    res.into_response(unavailable).map_into_right_body()
                }
            };
            if let Some(outgoing) = outgoing {
                deliver(&state, &mut res, outgoing).await?;
            }
            Ok(res)
        })
    }
}

/// The sign-in or sign-out `outgoing` makes, as a security event: a new session of a user started
/// in this request, or the removal of the signed-in session the request arrived with (sessions
/// that ended on arrival arrive as anonymous and were announced as refused).
fn announce(state: &RequestState, outgoing: &Outgoing) {
    let incoming = state.incoming.as_deref();
    let event = match outgoing {
        Outgoing::Remove => incoming
            .and_then(|c| c.sub.clone())
            .map(|user| SecurityEvent::SignedOut { user }),
        Outgoing::Issue(claims) => {
            let new_session = incoming.is_none_or(|c| c.sid != claims.sid);
            let started_now = claims.auth_time == state.now;
            claims
                .sub
                .clone()
                .filter(|_| new_session && started_now)
                .map(|user| SecurityEvent::SignedIn { user })
        }
    };
    if let Some(event) = event {
        state.config.emit(event);
    }
}

/// Writes the response's session change through the configured storage.
async fn deliver<B>(
    state: &RequestState,
    res: &mut ServiceResponse<B>,
    outgoing: Outgoing,
) -> Result<(), Error> {
    let req = res.request().clone();
    let storage = &state.config.storage;
    storage
        .write(state, &req, res.headers_mut(), outgoing)
        .get()
        .await
}

/// Revokes the session id a logout (or a login over another user's session) ended, so a copy
/// of the old cookie is refused. Failing open logs and goes on.
async fn revoke_ended(state: &RequestState, sid: &str, until: i64) -> Result<(), RevocationError> {
    let Some(revocation) = &state.config.revocation else {
        return Ok(());
    };
    let write = revocation.store.revoke_session(sid, until, state.now);
    let written = with_timeout(revocation, write).await;
    fail_open_or(
        revocation,
        written,
        (),
        "could not revoke the ended session",
    )
}
