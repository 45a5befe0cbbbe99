//! The [`AuthSession`] middleware: verifies the cookie once per request and writes the session
//! cookie of the response.

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    body::MessageBody,
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    Error, HttpMessage,
};

use crate::{
    claims::{Claims, TimeFault},
    codec::Rejection,
    config::{AuthSessionBuilder, Configuration},
    key::Key,
    session::RequestState,
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

/// Verifies one cookie value: signature, then time. `(claims, rotated)`.
fn verify(config: &Configuration, value: &str, now: i64) -> Result<(Claims, bool), Rejection> {
    let verified = config.codec.decode(value)?;
    verified
        .claims
        .check_time(now, config.absolute_timeout)
        .map_err(|fault| match fault {
            TimeFault::Expired { at } => Rejection::Expired { at },
            TimeFault::IssuedInFuture { at } => Rejection::IssuedInFuture { at },
            TimeFault::AbsoluteTimeout { at } => Rejection::AbsoluteTimeout { at },
        })?;
    Ok((verified.claims, verified.rotated))
}

/// The request's session: the first cookie named `cookie_name` (in header order) that verifies.
/// Invalid cookies make the request anonymous and are logged at debug level with the reason.
fn read_session(config: &Configuration, req: &ServiceRequest, now: i64) -> Option<(Claims, bool)> {
    let cookies = match req.cookies() {
        Ok(cookies) => cookies,
        Err(e) => {
            tracing::debug!(error = %e, "unparsable Cookie header; request is anonymous");
            return None;
        }
    };
    cookies
        .iter()
        .filter(|c| c.name() == config.cookie_name)
        .find_map(|c| match verify(config, c.value(), now) {
            Ok(found) => Some(found),
            Err(rejection) => {
                tracing::debug!(reason = rejection.reason(), detail = %rejection, "session cookie refused");
                None
            }
        })
}

impl<S, B> Transform<S, ServiceRequest> for AuthSession
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = AuthSessionMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthSessionMiddleware {
            service: Rc::new(service),
            config: Arc::clone(&self.config),
        }))
    }
}

/// The service [`AuthSession`] wraps around an app; not used directly.
#[doc(hidden)]
pub struct AuthSessionMiddleware<S> {
    service: Rc<S>,
    config: Arc<Configuration>,
}

impl<S, B> Service<ServiceRequest> for AuthSessionMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let config = Arc::clone(&self.config);
        let now = config.clock.now();
        let (incoming, rotated) = match read_session(&config, &req, now) {
            Some((claims, rotated)) => (Some(claims), rotated),
            None => (None, false),
        };
        let state = Arc::new(RequestState::new(config, now, incoming, rotated));
        req.extensions_mut().insert(Arc::clone(&state));
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let mut res = service.call(req).await?;
            if let Some(outgoing) = state.outgoing() {
                let cookie = state.cookie(outgoing);
                // Never two session cookies on one response: drop any the handler set by hand.
                let name = state.config.cookie_name.clone();
                res.response_mut().del_cookie(&name);
                res.response_mut().add_cookie(&cookie)?;
            }
            Ok(res)
        })
    }
}
