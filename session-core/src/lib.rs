//! Signed session cookies, rolling refresh and role guards for Actix Web.
//!
//! ```no_run
//! use actix_web::{get, post, web, App, HttpResponse, HttpServer, Responder};
//! use session_core::prelude::*;
//!
//! #[login_required] // browsers: 303 to /login?next=/dashboard; APIs: 401 JSON
//! #[get("/dashboard")]
//! async fn dashboard(user: AuthUser) -> impl Responder {
//!     format!("hello {}", user.id())
//! }
//!
//! #[public]
//! #[post("/login")]
//! async fn login(session: Session) -> Result<HttpResponse, SessionError> {
//!     // ... check the password first ...
//!     session.login(Login::new("42").roles(["editor"]))?; // always a new session id
//!     Ok(HttpResponse::SeeOther().insert_header(("Location", "/dashboard")).finish())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let auth = AuthSession::builder(Key::from_env("SESSION_SECRET")?).build()?;
//!     HttpServer::new(move || App::new().wrap(auth.clone()).service(dashboard).service(login))
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! The cookie is a standard HS256 JWS verified strictly (its format, key derivation and
//! verification order: `docs/cookie-format.md` in the repository); invalid cookies make a request
//! anonymous, never an error page.
//!
//! Route coverage ([`access`]): `#[public]` marks deliberately open handlers,
//! [`access::guarded`] refuses at compile time a handler without a guard attribute or
//! `#[public]`, [`Require::deny_unlisted`] answers 401/403 at run time to routes nobody declared,
//! and [`access::manifest`] / [`access::table`] list who can reach what, from the attributes.
//!
//! # Layers
//!
//! The modules form layers, bottom first; each uses only modules of the layers below it (the
//! test `tests/layers.rs` reads the list below and checks it):
//!
//! 1. `base64url`, `bound`, `claims`, `clock`, `error`, `gate`, `redirect`, `redis_conn`: leaves
//! 2. `authz`, `cache`, `deny`, `random`, `refresh`: role table, verified-cookie cache (and its
//!    keyed slots), denials, randomness, refresh decisions
//! 3. `events`, `key`, `live`, `outgoing`: security events, keys, user stores, the response's
//!    cookie decision
//! 4. `codec`, `revocation`: the cookie format, revocation stores
//! 5. `settings`: the validated settings
//! 6. `state`: the per-request state
//! 7. `storage`, `throttle`, `user`: where sessions live (cookie or session store), login
//!    throttling, the user extractors
//! 8. `revocation_policy`: revocation checks on a request
//! 9. `middleware`, `session`: the middleware, the session extractor
//! 10. `config`, `csrf`, `policy`, `test_util`: the builder, CSRF tokens, resource policies, test
//!     cookies
//! 11. `rule`: guard rules and their evaluation
//! 12. `guard`: guards and the guard extractor
//! 13. `access`: route coverage
//! 14. `__private`, `require`: what generated code calls, the scope middleware
#![forbid(unsafe_code)]
// docs.rs (nightly, `--cfg docsrs`): mark each feature-gated item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod access;
mod authz;
mod base64url;
mod bound;
mod cache;
mod claims;
pub mod clock;
mod codec;
pub mod config;
pub mod csrf;
mod deny;
mod error;
pub mod events;
mod gate;
mod guard;
mod key;
mod live;
mod middleware;
mod outgoing;
mod policy;
mod random;
mod redirect;
#[cfg(feature = "redis")]
mod redis_conn;
mod refresh;
mod require;
pub mod revocation;
mod revocation_policy;
mod rule;
mod session;
mod settings;
mod state;
mod storage;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod throttle;
mod user;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::{
    authz::{Authorization, AuthorizationBuilder, IntoAuthorization, PermissionName},
    bound::StoreError,
    codec::{Rejection, MAX_COOKIE_LEN},
    config::AuthSessionBuilder,
    deny::{AuthError, Deny, DenyKind},
    error::{ConfigError, GuardError, SessionError},
    guard::{Guard, GuardBuilder},
    key::{Key, MIN_SECRET_LEN},
    live::{User, UserStore},
    middleware::AuthSession,
    policy::{BodyFree, Policy, PolicyOutput},
    redirect::{safe_next, MAX_NEXT_LEN},
    refresh::Refresh,
    require::Require,
    rule::{Check, RoleName, Rule},
    session::{Login, Session},
    storage::MAX_SESSION_COOKIES,
    user::{AuthUser, Current},
};

#[cfg(feature = "actix-session")]
pub use crate::storage::store::hashed_session_key;
#[cfg(feature = "macros")]
pub use session_macros::{
    authorize, login_required, policy, public, require_permission, require_role,
    skip_if_authenticated,
};

/// Everything a typical app imports: `use session_core::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "macros")]
    pub use crate::{
        authorize, login_required, policy, public, require_permission, require_role,
        skip_if_authenticated,
    };
    pub use crate::{
        AuthError, AuthSession, AuthUser, Authorization, BodyFree, ConfigError, Current, Deny, Key,
        Login, PermissionName, Refresh, Require, RoleName, Rule, Session, SessionError, User,
        UserStore,
    };
}
