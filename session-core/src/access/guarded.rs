//! Guarded registration: [`guarded`] accepts only handlers that carry a guard attribute or
//! `#[public]`, so a handler without one is a compile error, not an open route.

use actix_web::{dev::HttpServiceFactory, web::ServiceConfig};

/// The service of a handler whose route attribute sits below a guard attribute or `#[public]`.
///
/// Implemented by those attributes for the service struct actix's route macro makes of the
/// handler; nothing else should implement it (its supertrait is hidden API). An attribute written
/// below the route attribute cannot implement it (actix's macro has already moved the handler),
/// so guarded registration refuses such a handler too, with the same message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is registered through guarded registration, but carries no guard attribute and is not `#[public]`",
    label = "`{Self}` has no guard attribute or `#[public]` above its route attribute",
    note = "add a guard (`#[login_required]`, `#[require_role(..)]`, `#[require_permission(..)]`, `#[authorize(..)]`, `#[skip_if_authenticated]`) or `#[public]` to the handler, ABOVE its route attribute: `#[login_required]` then `#[get(\"/path\")]`",
    note = "a guard written below the route attribute still guards, but the route is hidden from it: move it above"
)]
pub trait Covered: HttpServiceFactory + CoverageSeal {}

/// The seal of [`Covered`]: implemented, with it, by the attributes only (through
/// `__private`, where generated code names it).
pub trait CoverageSeal {}

/// Registration that accepts only [`Covered`] handler services: a handler with a guard attribute
/// or `#[public]` written above its route attribute. Made by [`guarded`].
pub struct GuardedRoutes<'a> {
    config: &'a mut ServiceConfig,
}

impl GuardedRoutes<'_> {
    /// Registers `service`, a handler carrying a guard attribute or `#[public]` (above its route
    /// attribute). A bare `#[get]` handler is a compile error here.
    pub fn service<S: Covered + 'static>(&mut self, service: S) -> &mut Self {
        self.config.service(service);
        self
    }
}

/// Deny by default, at compile time: what `routes` registers must carry a guard attribute or
/// `#[public]`. Use it with `App::configure` or `Scope::configure`.
///
/// ```
/// use actix_web::{get, web, App, Responder};
/// use session_core::{access, prelude::*};
///
/// #[login_required]
/// #[get("/dashboard")]
/// async fn dashboard(user: AuthUser) -> impl Responder {
///     user.id().to_owned()
/// }
///
/// #[public]
/// #[get("/health")]
/// async fn health() -> impl Responder {
///     "ok"
/// }
///
/// let app = App::new()
///     .configure(access::guarded(|routes| {
///         routes.service(dashboard).service(health);
///     }))
///     .service(web::scope("/api").configure(access::guarded(|routes| {
///         routes.service(health);
///     })));
/// # let _ = app;
/// ```
///
/// A handler without a guard fails to compile:
///
/// ```compile_fail
/// use actix_web::{get, App, Responder};
/// use session_core::access;
///
/// #[get("/admin")]
/// async fn admin() -> impl Responder {
///     "forgot the guard"
/// }
///
/// let app = App::new().configure(access::guarded(|routes| {
///     routes.service(admin); // error: `admin` ... carries no guard attribute
/// }));
/// ```
///
/// Routes that cannot carry attributes (closures, `web::resource(..).to(..)`) cannot be
/// registered here; [`crate::Require::deny_unlisted`] covers them at run time.
pub fn guarded<F>(routes: F) -> impl FnOnce(&mut ServiceConfig)
where
    F: FnOnce(&mut GuardedRoutes<'_>),
{
    move |config| routes(&mut GuardedRoutes { config })
}
