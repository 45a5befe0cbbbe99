//! Testing helpers for apps (feature `test-util`): test guarded handlers without a login
//! endpoint.
//!
//! ```
//! use actix_web::{get, test, App, Responder};
//! use session_core::{prelude::*, test_util::signed_in_cookie};
//!
//! #[get("/admin")]
//! #[require_role("admin")]
//! async fn admin(user: AuthUser) -> impl Responder {
//!     format!("hello {}", user.id())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let auth = AuthSession::builder(Key::generate()).build().unwrap();
//! let cookie = signed_in_cookie(&auth, Login::new("42").roles(["admin"])).unwrap();
//! let app = test::init_service(App::new().wrap(auth).service(admin)).await;
//! let req = test::TestRequest::get().uri("/admin").cookie(cookie).to_request();
//! assert_eq!(test::call_and_read_body(&app, req).await, "hello 42");
//! # });
//! ```

use actix_web::cookie::Cookie;

use crate::{AuthSession, Login, SessionError};

/// The session cookie `auth` would set for `login`, now (on `auth`'s clock): send it with
/// `TestRequest::cookie`. With a user store, use [`Login::user`] so the session is bound to the
/// user's fingerprint as a real login would be.
pub fn signed_in_cookie(auth: &AuthSession, login: Login) -> Result<Cookie<'static>, SessionError> {
    crate::session::mint(auth.shared_config(), login)
}
