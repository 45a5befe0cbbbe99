//! The [`AuthSession`] middleware: verifies the cookie once per request and writes the session
//! cookie of the response. This file is the `Transform`/`Service` and the order of the steps;
//! the way in is [`incoming`], the way out [`finish`], the request's future [`future`].

mod finish;
mod future;
mod incoming;

use std::{
    future::{ready, Ready},
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};

pub use self::future::AuthSessionFuture;
use self::{
    finish::{finish, Finish},
    incoming::{incoming_at_once, incoming_session, AtOnce, Resume},
};
use crate::{
    cache::VerifiedCache,
    codec::Rejection,
    events::SecurityEvent,
    live::UserCache,
    revocation::{ActiveSession, RevocationError},
    revocation_policy,
    settings::Configuration,
    state::{Incoming, RequestState, StatePool},
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

    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn shared_config(&self) -> Arc<Configuration> {
        Arc::clone(&self.config)
    }

    /// The storage's limit on one session's size (see [`crate::state::RequestState`]).
    #[cfg(feature = "test-util")]
    pub(crate) fn size_limit(&self) -> Option<usize> {
        self.storage.size_limit()
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
            states: Rc::new(StatePool::default()),
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
    /// This worker's request states, reused.
    states: Rc<StatePool>,
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

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let now = self.config.clock.now();
        // The fast path: nothing to wait for before the handler, so no boxed future; the
        // request's future is the inner service's, with the state beside it.
        let at_once = incoming_at_once(
            &self.config,
            &*self.storage,
            &self.cache,
            &self.users_cache,
            &req,
            now,
        );
        match at_once {
            AtOnce::Incoming(incoming) => {
                let state = start(self, &mut req, now, incoming);
                AuthSessionFuture::Handling {
                    inner: self.service.call(req),
                    state: Some((state, Arc::clone(&self.storage))),
                }
            }
            AtOnce::Unavailable(unavailable) => AuthSessionFuture::Done {
                res: Some(Box::new(
                    req.into_response(unavailable).map_into_right_body(),
                )),
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
        read: Resume,
    ) -> AuthSessionFuture<S::Future, B> {
        let config = Arc::clone(&self.config);
        let storage = Arc::clone(&self.storage);
        let service = Rc::clone(&self.service);
        let cache = Rc::clone(&self.cache);
        let users_cache = Rc::clone(&self.users_cache);
        let states = Rc::clone(&self.states);
        AuthSessionFuture::Boxed {
            future: Box::pin(async move {
                let mut req = req;
                let incoming =
                    incoming_session(&config, &*storage, &cache, &users_cache, &req, now, read)
                        .await;
                let incoming = match incoming {
                    Ok(incoming) => incoming,
                    Err(unavailable) => {
                        return Ok(req.into_response(unavailable).map_into_right_body())
                    }
                };
                let state = states.attach(&mut req, &config, storage.size_limit(), now, incoming);
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
fn start<S>(
    middleware: &AuthSessionMiddleware<S>,
    req: &mut ServiceRequest,
    now: i64,
    incoming: Incoming,
) -> Arc<RequestState> {
    middleware.states.attach(
        req,
        &middleware.config,
        middleware.storage.size_limit(),
        now,
        incoming,
    )
}
