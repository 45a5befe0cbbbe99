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
    Error, HttpMessage, HttpResponse,
};

use crate::{
    cache::VerifiedCache,
    codec::Rejection,
    deny::unavailable,
    events::SecurityEvent,
    live::{self, Resolved, UserCache},
    revocation::{ActiveSession, RevocationError},
    revocation_policy,
    settings::Configuration,
    state::{Incoming, Outgoing, RequestState},
    storage::{cookie::verify, Storage},
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
async fn incoming_session(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    users_cache: &UserCache,
    req: &ServiceRequest,
    now: i64,
) -> Result<Incoming, HttpResponse> {
    let Ok(mut sessions) = storage.read(config, cache, req, now).get().await else {
        return Err(unavailable(req.request(), "session_store_unavailable"));
    };
    // Revoked sessions drop out before the choice: a planted dead cookie never hides a live one.
    if let Err(e) = revocation_policy::drop_revoked(config, &mut sessions, now).await {
        return Err(revocation_policy::unavailable(req.request(), &e));
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
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let config = Arc::clone(&self.config);
        let storage = Arc::clone(&self.storage);
        let service = Rc::clone(&self.service);
        let cache = Rc::clone(&self.cache);
        let users_cache = Rc::clone(&self.users_cache);
        Box::pin(async move {
            let now = config.clock.now();
            let incoming =
                incoming_session(&config, &*storage, &cache, &users_cache, &req, now).await;
            let incoming = match incoming {
                Ok(incoming) => incoming,
                Err(unavailable) => {
                    return Ok(req.into_response(unavailable).map_into_right_body())
                }
            };
            let state = Arc::new(RequestState::new(
                config,
                storage.size_limit(),
                now,
                incoming,
            ));
            req.extensions_mut().insert(Arc::clone(&state));
            let res = service.call(req).await?;
            if let Some(mistake) = state.take_mistake() {
                // The app's wiring is wrong (an `Option<Current<U>>` may have hidden it from the
                // handler): answer the mistake, and write no cookie.
                return Ok(res.error_response(mistake).map_into_right_body());
            }
            let Some(outgoing) = state.outgoing() else {
                return Ok(res.map_into_left_body());
            };
            // Revocation first (end, stamp, record): a change the store cannot back is not
            // written, and a sign-out it cannot make is not announced.
            let (outgoing, revoked) =
                revocation_policy::settle(&state, res.request(), outgoing).await;
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
