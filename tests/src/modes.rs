//! The storage modes the shared integration matrix runs in: the signed cookie (default),
//! server-side through actix-session's middleware with its cookie store and its Redis store, and
//! session-core's own cookie over actix-session's Redis store (hashed keys).

use actix_session::{
    storage::{CookieSessionStore, RedisSessionStore},
    SessionMiddleware,
};
use actix_web::{cookie::Key as CookieKey, App};
use session_core::AuthSessionBuilder;

use crate::{redis_server::RedisServer, routes, serve, TestApp, COOKIE};

/// Where the claims live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The signed cookie (no server state).
    SignedCookie,
    /// actix-session with `CookieSessionStore`.
    ActixCookieStore,
    /// actix-session with `RedisSessionStore` on a real `redis-server`.
    ActixRedisStore,
    /// `session_store(RedisSessionStore)` on a real `redis-server`: session-core's cookie, the
    /// state in Redis under hashed keys, no `SessionMiddleware`.
    RedisSessionStore,
}

/// A test app with [`routes`] plus whatever `extra` adds, in `mode`, and the Redis server it
/// needs (kept alive as long as the app).
pub async fn app(
    mode: Mode,
    builder: AuthSessionBuilder,
    extra: fn(&mut actix_web::web::ServiceConfig),
) -> (TestApp, Option<RedisServer>) {
    let key = CookieKey::from(&[3u8; 64]);
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
                serve(App::new().wrap(auth).configure(routes).configure(extra)).await,
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
            (serve(app).await, None)
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
            (serve(app).await, Some(redis))
        }
        Mode::RedisSessionStore => {
            let redis = RedisServer::start();
            let store = RedisSessionStore::builder(redis.url())
                .cache_keygen(|key| session_core::hashed_session_key("session:", key))
                .build()
                .await
                .expect("redis session store");
            let auth = builder.session_store(store).build().expect("valid config");
            let app = App::new().wrap(auth).configure(routes).configure(extra);
            (serve(app).await, Some(redis))
        }
    }
}
