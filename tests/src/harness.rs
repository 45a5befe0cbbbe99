//! One way to build, call and sign in to a test app: every integration test file goes through
//! these instead of its own `app!` / `call!` / `login!` macros.
//!
//! ```no_run
//! # async fn example() {
//! use tests::{auth, call, clock, get, login, routes, test_app};
//!
//! let app = test_app(auth(&clock()), routes).await;
//! let alice = login(&app, "/login?id=alice&roles=admin").await;
//! let res = call(&app, get("/me").cookie(alice)).await;
//! assert!(res.status().is_success());
//! # }
//! ```

use std::fmt::Debug;

use actix_http::Request;
use actix_service::{boxed, IntoServiceFactory, ServiceExt as _, ServiceFactory};
use actix_web::{
    body::{BoxBody, MessageBody},
    cookie::Cookie,
    dev::{AppConfig, ServiceResponse},
    http::StatusCode,
    test::{self, TestRequest},
    web::ServiceConfig,
    App,
};
use session_core::AuthSession;

use crate::{session_cookie, COOKIE};

/// An initialised test app of any shape behind one type: what [`test_app`] and [`serve`] return, and
/// what [`call`], [`login`] and [`Client`](crate::Client) send requests to.
pub type TestApp = boxed::BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// Any app (an `App` with whatever middleware it needs), initialised, with its body boxed.
pub async fn serve<F, S, B>(app: F) -> TestApp
where
    F: IntoServiceFactory<S, Request> + 'static,
    S: ServiceFactory<
            Request,
            Config = AppConfig,
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
        > + 'static,
    S::InitError: Debug,
    B: MessageBody + 'static,
{
    let service = test::init_service(app).await;
    boxed::service(service.map(ServiceResponse::map_into_boxed_body))
}

/// A test app: `auth` wrapping what `configure` registers (usually [`routes`](crate::routes),
/// or a closure calling it and adding a few routes).
pub async fn test_app(auth: AuthSession, configure: impl FnOnce(&mut ServiceConfig)) -> TestApp {
    serve(App::new().wrap(auth).configure(configure)).await
}

/// `GET uri`.
pub fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

/// `POST uri`.
pub fn post(uri: &str) -> TestRequest {
    TestRequest::post().uri(uri)
}

/// The session cookie ([`COOKIE`]) with `value`, as a browser sends it back.
pub fn session_value(value: impl Into<String>) -> Cookie<'static> {
    Cookie::new(COOKIE, value.into())
}

/// Sends `req` to `app` as is (no cookie is added or kept: see [`Client`](crate::Client) for
/// that).
pub async fn call(app: &TestApp, req: TestRequest) -> ServiceResponse<BoxBody> {
    test::call_service(app, req.to_request()).await
}

/// Signs in with `POST uri` (for [`routes`](crate::routes): `/login?id=..&roles=a,b`), checks
/// that it answered 200, and returns the session cookie it set.
pub async fn login(app: &TestApp, uri: &str) -> Cookie<'static> {
    let res = call(app, post(uri)).await;
    assert_eq!(res.status(), StatusCode::OK, "POST {uri}");
    session_cookie(&res).expect("the login response sets the session cookie")
}
