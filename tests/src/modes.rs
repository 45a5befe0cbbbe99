//! The storage modes the shared integration matrix runs in: the signed cookie (default), and
//! session-core's cookie over actix-session's cookie store and over its Redis store (hashed keys).

use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::App;
use session_core::AuthSessionBuilder;

use crate::{redis_server::RedisServer, routes, serve, TestApp};

/// Where the claims live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The signed cookie (no server state).
    SignedCookie,
    /// `session_store(CookieSessionStore)`: the state is the store's key, which the cookie
    /// carries with session-core's MAC.
    CookieSessionStore,
    /// `session_store(RedisSessionStore)` on a real `redis-server`: session-core's cookie, the
    /// state in Redis under hashed keys.
    RedisSessionStore,
}

/// A test app with [`routes`] plus whatever `extra` adds, in `mode`, and the Redis server it
/// needs (kept alive as long as the app).
pub async fn app(
    mode: Mode,
    builder: AuthSessionBuilder,
    extra: fn(&mut actix_web::web::ServiceConfig),
) -> (TestApp, Option<RedisServer>) {
    let (auth, redis) = match mode {
        Mode::SignedCookie => (builder.build().expect("valid config"), None),
        Mode::CookieSessionStore => {
            let auth = builder.session_store(CookieSessionStore::default());
            (auth.build().expect("valid config"), None)
        }
        Mode::RedisSessionStore => {
            let redis = RedisServer::start();
            let store = RedisSessionStore::builder(redis.url())
                .cache_keygen(|key| session_core::hashed_session_key("session:", key))
                .build()
                .await
                .expect("redis session store");
            let auth = builder.session_store(store).build().expect("valid config");
            (auth, Some(redis))
        }
    };
    let app = App::new().wrap(auth).configure(routes).configure(extra);
    (serve(app).await, redis)
}
