//! [`Require`]: the scope-level twin of the macros (same evaluator, same deny responses).

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_utils::future::Either;

use actix_web::{
    body::EitherBody,
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    Error,
};

use crate::{
    access::DenyUnlisted,
    guard::{checking, Guard},
    rule::Rule,
};

/// Guards every route of a scope: `web::scope("/admin").wrap(Require::role("admin"))`.
///
/// Needs the [`crate::AuthSession`] middleware registered further out (on the `App`).
///
/// ```no_run
/// use actix_web::{web, App};
/// use session_core::{AuthSession, Key, Require};
/// # let auth = AuthSession::builder(Key::from_bytes(&[0u8; 32]).unwrap()).build().unwrap();
/// let app = App::new()
///     .wrap(auth)
///     .service(web::scope("/admin").wrap(Require::role("admin")));
/// ```
#[derive(Debug, Clone)]
pub struct Require {
    guard: Rc<Guard>,
}

impl Require {
    /// Any signed-in user.
    pub fn authenticated() -> Self {
        Self::rule(Rule::authenticated())
    }

    /// Signed-in users with `role`.
    pub fn role(role: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self::rule(Rule::role(role))
    }

    /// Signed-in users with `permission` (from their record or their roles; see
    /// [`crate::AuthUser::has_permission`]).
    pub fn permission(permission: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self::rule(Rule::permission(permission))
    }

    /// Signed-in users for whose request `policy` answers `true`: a resource policy (see
    /// [`crate::Policy`]) over the scope's path parameters, app data, the user, ... Denials answer
    /// 403; for a 404 that hides what exists, use
    /// `Require::guard(Guard::require(Rule::policy(p)).status(404).build()?)`.
    ///
    /// ```no_run
    /// use actix_web::{web, App};
    /// use session_core::{AuthSession, AuthUser, Key, Require};
    ///
    /// // `/teams/{team}/..`: members of the team only.
    /// async fn member_of_team(user: AuthUser, team: web::Path<String>) -> bool {
    ///     user.id().starts_with(&format!("{team}-"))
    /// }
    /// # let auth = AuthSession::builder(Key::from_bytes(&[0u8; 32]).unwrap()).build().unwrap();
    /// let app = App::new()
    ///     .wrap(auth)
    ///     .service(web::scope("/teams/{team}").wrap(Require::policy(member_of_team)));
    /// ```
    pub fn policy<Args>(policy: impl crate::Policy<Args>) -> Self {
        Self::rule(Rule::policy(policy))
    }

    /// Signed-in users who meet `rule`.
    pub fn rule(rule: Rule) -> Self {
        Self::guard(Guard::require(rule))
    }

    /// Any guard, with its own denial answer. A custom answer is checked when the [`Guard`] is
    /// built ([`crate::GuardBuilder::build`]), so a `Require` never answers a denied request with
    /// a success or an off-site redirect. Build the guard once, outside the app factory, and
    /// clone it into each worker's `App`:
    ///
    /// ```no_run
    /// use actix_web::{web, App, HttpServer};
    /// use session_core::{AuthSession, Guard, Key, Require, Rule};
    ///
    /// #[actix_web::main]
    /// async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let auth = AuthSession::builder(Key::from_env("SESSION_SECRET")?).build()?;
    ///     // 404 to everyone else, so the scope's routes stay hidden.
    ///     let admins = Guard::require(Rule::role("admin")).status(404).build()?;
    ///     HttpServer::new(move || {
    ///         App::new()
    ///             .wrap(auth.clone())
    ///             .service(web::scope("/admin").wrap(Require::guard(admins.clone())))
    ///     })
    ///     .bind(("127.0.0.1", 8080))?
    ///     .run()
    ///     .await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn guard(guard: Guard) -> Self {
        Self {
            guard: Rc::new(guard),
        }
    }

    /// Deny by default at run time, for routes that cannot carry attributes: answers 401 (or
    /// the login redirect) to anonymous requests and 403 to signed-in ones on every route that
    /// no guard attribute or `#[public]` declares, except the patterns given to
    /// [`DenyUnlisted::allow`]. See [`DenyUnlisted`] for how routes are recognized and the
    /// limits; [`crate::access::guarded`] checks the same while compiling.
    pub fn deny_unlisted() -> DenyUnlisted {
        DenyUnlisted::new()
    }
}

impl<S, B> Transform<S, ServiceRequest> for Require
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireMiddleware {
            service: Rc::new(service),
            guard: Rc::clone(&self.guard),
        }))
    }
}

/// The service [`Require`] wraps around a scope; not used directly.
#[doc(hidden)]
pub struct RequireMiddleware<S> {
    service: Rc<S>,
    guard: Rc<Guard>,
}

impl<S, B> Service<ServiceRequest> for RequireMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = RequireFuture<S::Future, B>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match checking(Rc::clone(&self.guard), req.request()) {
            // Decided at once (no policy in the rule): no box, no clone of the service.
            Either::Left { value } => match value.into_inner() {
                Ok(()) => RequireFuture::Calling {
                    inner: self.service.call(req),
                },
                // Denied: the inner service (and so the body) is never touched.
                Err(denial) => RequireFuture::Denied {
                    res: Some(req.error_response(denial).map_into_right_body()),
                },
            },
            Either::Right { value: checking } => {
                let service = Rc::clone(&self.service);
                RequireFuture::Checking {
                    future: Box::pin(async move {
                        if let Err(denial) = checking.await {
                            return Ok(req.error_response(denial).map_into_right_body());
                        }
                        Ok(service.call(req).await?.map_into_left_body())
                    }),
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of one request through [`Require`]; not used directly. A rule without
    /// policies is decided in `call`, so the request's future is the inner service's.
    #[doc(hidden)]
    #[project = RequireProj]
    pub enum RequireFuture<F, B> {
        /// Let through: the inner service runs.
        Calling {
            #[pin]
            inner: F,
        },
        /// Denied at once.
        Denied {
            res: Option<ServiceResponse<EitherBody<B>>>,
        },
        /// The rule's policies run first.
        Checking {
            future: Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>>>>,
        },
    }
}

impl<F, B> Future for RequireFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RequireProj::Calling { inner } => inner
                .poll(cx)
                .map(|res| res.map(ServiceResponse::map_into_left_body)),
            RequireProj::Denied { res } => {
                Poll::Ready(Ok(res.take().expect("polled after completion")))
            }
            RequireProj::Checking { future } => future.as_mut().poll(cx),
        }
    }
}
