//! The storage modes the shared integration matrix runs in: the signed cookie (default), and
//! server-side through actix-session with its cookie store and its Redis store.

use actix_service::{boxed, ServiceExt as _};
use actix_session::{
    storage::{CookieSessionStore, RedisSessionStore},
    SessionMiddleware,
};
use actix_web::{
    body::BoxBody,
    cookie::Key as CookieKey,
    dev::ServiceResponse,
    test::{self, TestRequest},
    App,
};
use session_core::AuthSessionBuilder;

use crate::{redis_server::RedisServer, routes, session_cookie, COOKIE};

/// Where the claims live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The signed cookie (no server state).
    SignedCookie,
    /// actix-session with `CookieSessionStore`.
    ActixCookieStore,
    /// actix-session with `RedisSessionStore` on a real `redis-server`.
    ActixRedisStore,
}

/// An app of any mode behind one type.
pub type TestApp =
    boxed::BoxService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// A test app with [`routes`] plus whatever `extra` adds, in `mode`, and the Redis server it
/// needs (kept alive as long as the app).
pub async fn app(
    mode: Mode,
    builder: AuthSessionBuilder,
    extra: fn(&mut actix_web::web::ServiceConfig),
) -> (TestApp, Option<RedisServer>) {
    let key = CookieKey::from(&[3u8; 64]);
    macro_rules! boxed_app {
        ($app:expr) => {
            boxed::service(
                test::init_service($app)
                    .await
                    .map(ServiceResponse::map_into_boxed_body),
            )
        };
    }
    macro_rules! actix_session {
        ($store:expr) => {
            SessionMiddleware::builder($store, key)
                .cookie_name(COOKIE.to_owned())
                .cookie_secure(false)
                .build()
        };
    }
    match mode {
        Mode::SignedCookie => {
            let auth = builder.build().expect("valid config");
            (
                boxed_app!(App::new().wrap(auth).configure(routes).configure(extra)),
                None,
            )
        }
        Mode::ActixCookieStore => {
            let auth = builder.server_side().build().expect("valid config");
            let app = App::new()
                .wrap(auth)
                .wrap(actix_session!(CookieSessionStore::default()))
                .configure(routes)
                .configure(extra);
            (boxed_app!(app), None)
        }
        Mode::ActixRedisStore => {
            let redis = RedisServer::start();
            let store = RedisSessionStore::new(redis.url())
                .await
                .expect("redis session store");
            let auth = builder.server_side().build().expect("valid config");
            let app = App::new()
                .wrap(auth)
                .wrap(actix_session!(store))
                .configure(routes)
                .configure(extra);
            (boxed_app!(app), Some(redis))
        }
    }
}

/// A one-cookie jar for the session cookie: follows `Set-Cookie` like a browser.
#[derive(Debug, Default, Clone)]
pub struct Jar(Option<actix_web::cookie::Cookie<'static>>);

impl Jar {
    /// Sends `req` with the jar's cookie and stores any session cookie the response sets.
    pub async fn call(&mut self, app: &TestApp, req: TestRequest) -> ServiceResponse<BoxBody> {
        let req = match &self.0 {
            Some(cookie) => req.cookie(cookie.clone()),
            None => req,
        };
        let res = test::call_service(app, req.to_request()).await;
        if let Some(cookie) = session_cookie(&res) {
            self.0 = (!cookie.value().is_empty()).then_some(cookie);
        }
        res
    }

    /// The cookie currently held (to replay it later, as an attacker with a copy would).
    pub fn cookie(&self) -> Option<actix_web::cookie::Cookie<'static>> {
        self.0.clone()
    }
}
