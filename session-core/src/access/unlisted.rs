//! [`DenyUnlisted`]: the run-time fallback of deny by default, for routes that cannot carry
//! attributes.

use std::{
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
};

use actix_web::{
    body::EitherBody,
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
    http::Method,
    Error, HttpRequest,
};

use super::manifest;
use crate::{
    deny::{DenyKind, Overrides},
    events::SecurityEvent,
    state::{deny_for, RequestState},
};

/// Answers every request whose route is not declared with a denial: the not-signed-in answer
/// (401, or the login redirect) for anonymous requests, 403 for signed-in ones. Made by
/// [`crate::Require::deny_unlisted`].
///
/// A route is declared when the handler actix matched carries a guard attribute or `#[public]`
/// above its route attribute (it is in the [`manifest`] with that route), or when its pattern
/// was passed to [`DenyUnlisted::allow`] (for a closure the app guards some other way, such as
/// a [`crate::Require`] on its scope, or leaves open on purpose).
///
/// Limits, by design of a run-time check (prefer [`super::guarded`], which is checked while
/// compiling):
/// - A handler is recognized by its resource name (the handler's name, which actix's route
///   attributes give the resource unless `name = ".."` says otherwise: such a handler is denied
///   unless allowed), the method, and the end of the matched pattern (the attribute's path; a
///   scope adds its prefix in front). A closure resource that the app *names* like a guarded
///   handler, under a pattern ending like that handler's path, would pass for it.
/// - It does not check the rule: the handler's own guard does.
/// - A guard attribute written below the route attribute leaves the route out of the manifest:
///   such handlers are denied (write the guard above).
/// - Requests that match no resource go on to the default service (404 by default) unchecked.
/// - It needs [`crate::AuthSession`] further out, and costs a resource-map lookup per request.
///
/// ```
/// use actix_web::{get, web, App, HttpResponse, Responder};
/// use session_core::{prelude::*, Require};
///
/// #[login_required]
/// #[get("/dashboard")]
/// async fn dashboard(user: AuthUser) -> impl Responder {
///     user.id().to_owned()
/// }
///
/// # let auth = AuthSession::builder(Key::from_bytes(&[7u8; 32]).unwrap()).build().unwrap();
/// let app = App::new().wrap(auth).service(
///     web::scope("")
///         .wrap(Require::deny_unlisted().allow("/robots.txt"))
///         .service(dashboard) // declared by its guard
///         .route("/robots.txt", web::get().to(HttpResponse::Ok)) // allowed by pattern
///         .route("/debug", web::get().to(HttpResponse::Ok)), // denied: 401 / 403
/// );
/// # let _ = app;
/// ```
#[derive(Debug, Clone)]
#[must_use = "DenyUnlisted does nothing until it wraps an App or a scope"]
pub struct DenyUnlisted {
    allowed: Rc<Vec<String>>,
}

impl DenyUnlisted {
    /// Nothing allowed beyond the manifest: what [`crate::Require::deny_unlisted`] returns.
    pub(crate) fn new() -> Self {
        Self {
            allowed: Rc::default(),
        }
    }

    /// Also lets through requests whose matched pattern (the full one, scope prefixes included,
    /// as actix reports it: `/files/{name}`) is `pattern`.
    pub fn allow(mut self, pattern: impl Into<String>) -> Self {
        Rc::make_mut(&mut self.allowed).push(pattern.into());
        self
    }

    /// Whether `req` goes to a declared route. Unmatched requests count as declared: they reach
    /// the default service.
    fn declared(&self, req: &HttpRequest) -> bool {
        let Some(pattern) = req.match_pattern() else {
            return true;
        };
        self.allowed.contains(&pattern)
            || req
                .match_name()
                .is_some_and(|name| listed(req.method(), name, &pattern))
    }
}

/// Whether the manifest has handler `name` with a `method` route whose path ends `pattern`.
fn listed(method: &Method, name: &str, pattern: &str) -> bool {
    manifest().iter().any(|entry| {
        entry.handler() == name
            && entry
                .routes()
                .iter()
                .any(|route| route.method() == method.as_str() && pattern.ends_with(route.path()))
    })
}

impl<S, B> Transform<S, ServiceRequest> for DenyUnlisted
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = DenyUnlistedMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(DenyUnlistedMiddleware {
            service: Rc::new(service),
            policy: self.clone(),
        }))
    }
}

/// The service [`DenyUnlisted`] wraps around an app or scope; not used directly.
#[doc(hidden)]
pub struct DenyUnlistedMiddleware<S> {
    service: Rc<S>,
    policy: DenyUnlisted,
}

impl<S, B> Service<ServiceRequest> for DenyUnlistedMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Error>>>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.policy.declared(req.request()) {
            let service = Rc::clone(&self.service);
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        }
        // Undeclared: the inner service (and so the handler and the body) is never touched.
        let denial = denial(req.request());
        Box::pin(ready(Ok(req.error_response(denial).map_into_right_body())))
    }
}

/// The denial of an undeclared route: not signed in, or forbidden.
fn denial(req: &HttpRequest) -> Error {
    let state = match RequestState::from_request(req) {
        Ok(state) => state,
        Err(e) => return e.into(),
    };
    let kind = match crate::user::signed_in_user(&state) {
        Some(_) => DenyKind::Forbidden,
        None => DenyKind::Unauthenticated,
    };
    state.config.emit(SecurityEvent::Denied {
        kind,
        path: req.path().to_owned(),
        decided_by: Some("unlisted".to_owned()),
    });
    deny_for(req, &state, kind, &Overrides::default()).into()
}
