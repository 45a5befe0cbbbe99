//! The [`AuthSession`] middleware: verifies the cookie once per request and writes the session
//! cookie of the response.

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
    task::{Context, Poll},
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    Error, HttpMessage, HttpResponse,
};

use crate::{
    cache::VerifiedCache,
    claims::Claims,
    codec::Rejection,
    deny::unavailable,
    events::SecurityEvent,
    live::{self, Resolved, UserCache},
    revocation::{ActiveSession, RevocationError},
    revocation_policy,
    settings::Configuration,
    state::{Incoming, Outgoing, RequestState},
    storage::{cookie::verify, Sessions, Step, Storage},
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
    /// Where sessions live: the cookie, or a session store.
    storage: Arc<dyn Storage>,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSession")
            .field("cookie_name", &self.config.cookie_name)
            .finish_non_exhaustive()
    }
}

impl AuthSession {
    pub(crate) fn new(config: Configuration, storage: Arc<dyn Storage>) -> Self {
        Self {
            config: Arc::new(config),
            storage,
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
    /// session, use [`crate::Session::sign_out_other_devices`].
    ///
    /// The exact guarantee: once this returns `Ok`, every session of `user` whose sign-in
    /// request reached the middleware before it returned is refused, on every instance, from
    /// its next request on; that includes a login whose handler was running during the call
    /// (its password checked before, its session started after). With `RedisRevocations` (and
    /// its mirror) a login whose request began within about one Redis round trip after the
    /// call returned may be refused too (it cannot be told apart); sign in again.
    pub async fn revoke_user(&self, user: &str) -> Result<(), RevocationError> {
        revocation_policy::revoke_user(&self.config, user).await?;
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
    /// Fails with [`RevocationError::NotConfigured`] without a revocation store, or
    /// [`RevocationError::Store`]: the revocation store's failure
    /// ([`crate::StoreError::Unsupported`] when it keeps no lists) or the user store's.
    pub async fn sessions(&self, user: &str) -> Result<Vec<ActiveSession>, RevocationError> {
        revocation_policy::sessions_of(&self.config, user).await
    }

    /// Revokes one session by its id ([`crate::AuthUser::session_id`]).
    pub async fn revoke_session(&self, sid: &str) -> Result<(), RevocationError> {
        revocation_policy::revoke_session(&self.config, sid).await
    }

    pub(crate) fn config(&self) -> &Configuration {
        &self.config
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn shared_config(&self) -> Arc<Configuration> {
        Arc::clone(&self.config)
    }

    /// The storage's limit on one session's size (see [`crate::state::RequestState`]).
    #[cfg(feature = "test-util")]
    pub(crate) fn size_limit(&self) -> Option<usize> {
        self.storage.size_limit()
    }
}

/// The session `req` arrives with: verified, in time, not revoked, and (with a user store) its
/// user loaded and judged. `Err` is the 503 to answer when a store cannot say.
///
/// `read`: the storage's answer when it was read already (on the way to the synchronous path),
/// so nothing is verified or announced twice.
async fn incoming_session(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    users_cache: &UserCache,
    req: &ServiceRequest,
    now: i64,
    read: Option<Sessions>,
) -> Result<Incoming, HttpResponse> {
    let read = match read {
        Some(sessions) => Ok(sessions),
        None => storage.read(config, cache, req, now).get().await,
    };
    let Ok(mut sessions) = read else {
        return Err(unavailable(req.request(), "session_store_unavailable"));
    };
    // Revoked sessions drop out before the choice: a planted dead cookie never hides a live one.
    if let Err(e) = revocation_policy::drop_revoked(config, &mut sessions, now).await {
        return Err(revocation_policy::unavailable(req.request(), &e));
    }
    let Some((claims, rotated)) = choose(config, sessions) else {
        return Ok(Incoming::anonymous());
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

/// The one session of a request among the live ones it carries (revoked ones already dropped).
///
/// Two different live sessions in one request: one of them was planted (cookie tossing from a
/// sibling domain or a plain-HTTP page). Neither is used, and neither is re-issued.
fn choose(config: &Configuration, mut sessions: Sessions) -> Option<(Arc<Claims>, bool)> {
    match sessions.len() {
        0 => None,
        1 => Some(sessions.swap_remove(0)),
        _ => {
            config.emit(SecurityEvent::SessionRefused {
                reason: "ambiguous",
            });
            None
        }
    }
}

/// What the synchronous path found before the handler.
enum AtOnce {
    /// The incoming session, every check done.
    Incoming(Incoming),
    /// The 503 to answer (the storage or the revocation store failed).
    Unavailable(HttpResponse),
    /// Something has to wait (a session store, a revocation answer, the user store): the
    /// asynchronous path continues, with the sessions when the storage was read already.
    Wait(Option<Sessions>),
}

/// The incoming session of `req` when it needs no waiting: the storage answers at once (the
/// cookie), the revocation store (if any) answers at once
/// ([`crate::revocation::Revocations::is_revoked_now`]) and no user store has to be asked.
///
/// Invariant: this path runs the same checks as [`incoming_session`], in the same order: the
/// storage read verifies the MAC (or finds the value in the verified memo) and the time checks
/// on every request, then revoked sessions are dropped (fail-closed or fail-open as
/// configured), then one session is chosen. Whatever has to wait is left to
/// [`incoming_session`], which continues from the same sessions.
fn incoming_at_once(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    req: &ServiceRequest,
    now: i64,
) -> AtOnce {
    if !storage.reads_at_once() {
        return AtOnce::Wait(None);
    }
    let Step::Ready(read) = storage.read(config, cache, req, now) else {
        // `reads_at_once` said otherwise; the asynchronous path reads it properly.
        return AtOnce::Wait(None);
    };
    let Ok(mut sessions) = read else {
        return AtOnce::Unavailable(unavailable(req.request(), "session_store_unavailable"));
    };
    if config.users.is_some() {
        return AtOnce::Wait(Some(sessions));
    }
    match revocation_policy::drop_revoked_now(config, &mut sessions, now) {
        None => return AtOnce::Wait(Some(sessions)),
        Some(Err(e)) => {
            return AtOnce::Unavailable(revocation_policy::unavailable(req.request(), &e))
        }
        Some(Ok(())) => {}
    }
    AtOnce::Incoming(match choose(config, sessions) {
        Some((claims, rotated)) => Incoming {
            claims: Some(claims),
            rotated,
            live: None,
            ended: false,
        },
        None => Incoming::anonymous(),
    })
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
            storage: Arc::clone(&self.storage),
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
    storage: Arc<dyn Storage>,
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
    type Future = AuthSessionFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let now = self.config.clock.now();
        // The fast path: nothing to wait for before the handler, so no boxed future; the
        // request's future is the inner service's, with the state beside it.
        match incoming_at_once(&self.config, &*self.storage, &self.cache, &req, now) {
            AtOnce::Incoming(incoming) => {
                let state = start(&self.config, &*self.storage, &req, now, incoming);
                AuthSessionFuture::Handling {
                    inner: self.service.call(req),
                    state: Some((state, Arc::clone(&self.storage))),
                }
            }
            AtOnce::Unavailable(unavailable) => AuthSessionFuture::Done {
                res: Some(req.into_response(unavailable).map_into_right_body()),
            },
            AtOnce::Wait(read) => self.call_with_io(req, now, read),
        }
    }
}

impl<S, B> AuthSessionMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    /// The path that asks a store (session store, revocations, users) before the handler.
    fn call_with_io(
        &self,
        req: ServiceRequest,
        now: i64,
        read: Option<Sessions>,
    ) -> AuthSessionFuture<S::Future, B> {
        let config = Arc::clone(&self.config);
        let storage = Arc::clone(&self.storage);
        let service = Rc::clone(&self.service);
        let cache = Rc::clone(&self.cache);
        let users_cache = Rc::clone(&self.users_cache);
        AuthSessionFuture::Boxed {
            future: Box::pin(async move {
                let incoming =
                    incoming_session(&config, &*storage, &cache, &users_cache, &req, now, read)
                        .await;
                let incoming = match incoming {
                    Ok(incoming) => incoming,
                    Err(unavailable) => {
                        return Ok(req.into_response(unavailable).map_into_right_body())
                    }
                };
                let state = start(&config, &*storage, &req, now, incoming);
                let res = service.call(req).await?;
                match finish(state, storage, res) {
                    Finish::Done(res) => Ok(res),
                    Finish::Write(write) => write.await,
                }
            }),
        }
    }
}

/// The request's state, put where the extractors and guards find it.
fn start(
    config: &Arc<Configuration>,
    storage: &dyn Storage,
    req: &ServiceRequest,
    now: i64,
    incoming: Incoming,
) -> Arc<RequestState> {
    let state = Arc::new(RequestState::new(
        Arc::clone(config),
        storage.size_limit(),
        now,
        incoming,
    ));
    req.extensions_mut().insert(Arc::clone(&state));
    state
}

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

/// What follows the handler: the answer at once (nothing to write: no I/O, no box), or the
/// write of the session change, which may wait on a store.
enum Finish<B> {
    Done(ServiceResponse<EitherBody<B>>),
    Write(Pin<Box<dyn Future<Output = Answer<B>>>>),
}

/// After the handler: a set-up mistake, nothing to write, or the session change to settle and
/// write.
fn finish<B: MessageBody + 'static>(
    state: Arc<RequestState>,
    storage: Arc<dyn Storage>,
    res: ServiceResponse<B>,
) -> Finish<B> {
    if let Some(mistake) = state.take_mistake() {
        // The app's wiring is wrong (an `Option<Current<U>>` may have hidden it from the
        // handler): answer the mistake, and write no cookie.
        return Finish::Done(res.error_response(mistake).map_into_right_body());
    }
    let Some(outgoing) = state.outgoing() else {
        return Finish::Done(res.map_into_left_body());
    };
    Finish::Write(Box::pin(async move {
        // Revocation first (end, stamp, record): a change the store cannot back is not
        // written, and a sign-out it cannot make is not announced.
        let (outgoing, revoked) = revocation_policy::settle(&state, res.request(), outgoing).await;
        if let Some(outgoing) = &outgoing {
            announce(&state, outgoing);
        }
        let mut res = match revoked {
            Ok(()) => res.map_into_left_body(),
            Err(e) => {
                let unavailable = revocation_policy::unavailable(res.request(), &e);
                res.into_response(unavailable).map_into_right_body()
            }
        };
        if let Some(outgoing) = outgoing {
            deliver(&*storage, &state, &mut res, outgoing).await?;
        }
        Ok(res)
    }))
}

pin_project_lite::pin_project! {
    /// The future of one request through [`AuthSession`]; not used directly.
    ///
    /// A small state machine rather than a boxed `async` block: on the fast path (nothing to
    /// ask a store, nothing to write) it is the inner service's future and the request state,
    /// with no allocation of its own.
    #[doc(hidden)]
    #[project = Proj]
    pub enum AuthSessionFuture<F, B> {
        /// The handler runs; then the state says what to write.
        Handling {
            #[pin]
            inner: F,
            // The request state, and the storage that writes what it says.
            state: Option<(Arc<RequestState>, Arc<dyn Storage>)>,
        },
        /// The answer is known before the handler (a store could not answer at once: 503).
        Done {
            res: Option<ServiceResponse<EitherBody<B>>>,
        },
        /// A store is asked, before the handler or for the write after it.
        Boxed {
            future: Pin<Box<dyn Future<Output = Answer<B>>>>,
        },
    }
}

impl<F, B> Future for AuthSessionFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Answer<B>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Proj::Handling { inner, state } => {
                    let res = match inner.poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(res) => res?,
                    };
                    let (state, storage) = state.take().expect("polled after completion");
                    match finish(state, storage, res) {
                        Finish::Done(res) => return Poll::Ready(Ok(res)),
                        Finish::Write(future) => self.set(AuthSessionFuture::Boxed { future }),
                    }
                }
                Proj::Done { res } => {
                    return Poll::Ready(Ok(res.take().expect("polled after completion")))
                }
                Proj::Boxed { future } => return future.as_mut().poll(cx),
            }
        }
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
    storage: &dyn Storage,
    state: &RequestState,
    res: &mut ServiceResponse<B>,
    outgoing: Outgoing,
) -> Result<(), Error> {
    let req = res.request().clone();
    storage
        .write(state, &req, res.headers_mut(), outgoing)
        .get()
        .await
}
