//! Testing helpers for apps (feature `test-util`): test guarded handlers without a login
//! endpoint. Turn the feature on for tests only, as a dev-dependency:
//!
//! ```toml
//! [dependencies]
//! session-core = "0.1"
//!
//! [dev-dependencies]
//! session-core = { version = "0.1", features = ["test-util"] }
//! ```
//!
//! Then sign a `TestRequest` in with [`TestRequestExt::signed_in`]:
//!
//! ```
//! use actix_web::{get, test, App, Responder};
//! use session_core::{prelude::*, test_util::TestRequestExt};
//!
//! #[get("/admin")]
//! #[require_role("admin")]
//! async fn admin(user: AuthUser) -> impl Responder {
//!     format!("hello {}", user.id())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let auth = AuthSession::builder(Key::generate()).build().unwrap();
//! let app = test::init_service(App::new().wrap(auth.clone()).service(admin)).await;
//! let req = test::TestRequest::get()
//!     .uri("/admin")
//!     .signed_in(&auth, Login::new("42").roles(["admin"]))
//!     .to_request();
//! assert_eq!(test::call_and_read_body(&app, req).await, "hello 42");
//!
//! let editor = test::TestRequest::get()
//!     .uri("/admin")
//!     .signed_in(&auth, Login::new("7").roles(["editor"]))
//!     .to_request();
//! assert_eq!(test::call_service(&app, editor).await.status(), 403);
//! # });
//! ```
//!
//! or mint the cookie yourself with [`signed_in_cookie`]:
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

use actix_web::{cookie::Cookie, test::TestRequest};

use crate::{AuthSession, Login, SessionError};

/// The session cookie `auth` would set for `login`, now (on `auth`'s clock): send it with
/// `TestRequest::cookie`. With a user store, use [`Login::user`] so the session is bound to the
/// user's fingerprint as a real login would be.
pub fn signed_in_cookie(auth: &AuthSession, login: Login) -> Result<Cookie<'static>, SessionError> {
    crate::session::mint(auth.shared_config(), auth.size_limit(), login)
}

/// Signs an `actix_web::test::TestRequest` in: [`TestRequestExt::signed_in`].
pub trait TestRequestExt {
    /// `self` carrying the session cookie `auth` would set for `login` (see
    /// [`signed_in_cookie`]).
    ///
    /// # Panics
    ///
    /// If the session cannot be issued (its data does not fit in one cookie): a test set-up
    /// mistake, reported where the request is built.
    fn signed_in(self, auth: &AuthSession, login: Login) -> Self;
}

impl TestRequestExt for TestRequest {
    fn signed_in(self, auth: &AuthSession, login: Login) -> Self {
        match signed_in_cookie(auth, login) {
            Ok(cookie) => self.cookie(cookie),
            Err(e) => panic!("TestRequest::signed_in: the session cannot be issued: {e}"),
        }
    }
}
