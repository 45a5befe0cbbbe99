//! The one test-support module every integration test in `tests/tests/` uses: a configured
//! [`AuthSession`] on a manual clock, a set of routes that exercise the public API, cookie
//! helpers, and the harness built on them:
//!
//! - [`test_app`] / [`serve`] build a [`TestApp`]; [`call`] sends it a request ([`get`], [`post`]);
//!   [`login`] signs in and returns the session cookie; [`session_value`] makes a cookie from a
//!   raw value;
//! - [`Client`] is the cookie-jar browser, answering with a [`Reply`];
//! - [`free_port`] and [`http::request`] are for real servers on 127.0.0.1;
//! - [`redis_server::RedisServer`] and [`redis_cluster::RedisCluster`] start a real Redis and a
//!   real 3-master Redis Cluster on 127.0.0.1 (and [`redis_cluster`] checks that a store's
//!   `connect_cluster` refuses what is not a cluster);
//! - [`props`] holds the strategies and mutations of the property tests;
//! - [`stores`] makes the revocation and throttle stores of a behaviour matrix one type each,
//!   and lists the revocation stores the matrices run over.

use std::sync::Arc;

mod client;
mod harness;
pub mod http;
pub mod live;
pub mod login_site;
pub mod modes;
pub mod props;
pub mod redis_cluster;
pub mod redis_server;
pub mod stores;

pub use client::{Client, Reply};
pub use harness::{call, get, login, post, serve, session_value, test_app, TestApp};
pub use http::free_port;

use actix_web::{
    cookie::Cookie,
    dev::ServiceResponse,
    http::header,
    web::{self, ServiceConfig},
    HttpResponse,
};
use serde::Deserialize;
use session_core::{
    clock::ManualClock, AuthSession, AuthSessionBuilder, AuthUser, Key, Login, Session,
    SessionError,
};

/// The instant every test clock starts at (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000;

/// The cookie name used by default (`Secure`, no domain, path `/`).
pub const COOKIE: &str = "__Host-session";

/// A key from a repeated byte.
pub fn key(byte: u8) -> Key {
    Key::from_bytes(&[byte; 32]).expect("32 bytes is long enough")
}

/// A fresh manual clock at [`T0`].
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(T0))
}

/// A builder with key 7 on `clock`; everything else default.
pub fn builder(clock: &Arc<ManualClock>) -> AuthSessionBuilder {
    AuthSession::builder(key(7)).clock(clock.clone())
}

/// The default test configuration: key 7 on `clock`.
pub fn auth(clock: &Arc<ManualClock>) -> AuthSession {
    builder(clock).build().expect("test config is valid")
}

/// Every `Set-Cookie` of a response named `name`, parsed.
pub fn set_cookies<B>(res: &ServiceResponse<B>, name: &str) -> Vec<Cookie<'static>> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| Cookie::parse_encoded(v.to_owned()).ok())
        .filter(|c| c.name() == name)
        .collect()
}

/// The one session cookie a response sets, if any; panics if it sets more than one.
pub fn session_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    let mut cookies = set_cookies(res, COOKIE);
    assert!(
        cookies.len() <= 1,
        "more than one session cookie: {cookies:?}"
    );
    cookies.pop()
}

/// Query of the test login route.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    /// User id.
    pub id: String,
    /// Comma-separated roles.
    #[serde(default)]
    pub roles: String,
    /// `remember(false)` when `false`.
    #[serde(default = "yes")]
    pub remember: bool,
}

fn yes() -> bool {
    true
}

/// Query of the test data route.
#[derive(Debug, Deserialize)]
pub struct DataQuery {
    /// Key.
    pub k: String,
    /// Value (stored as a string).
    pub v: String,
}

/// Routes over the public API:
/// - `POST /login?id=..&roles=a,b&remember=false` → `Session::login`
/// - `POST /logout`, `POST /renew`, `POST /clear`
/// - `POST /data?k=..&v=..` → `Session::insert`; `GET /data/{k}` → `Session::get`;
///   `DELETE /data/{k}` → `Session::remove`
/// - `GET /me` → the `AuthUser` as JSON; `GET /maybe` → `Option<AuthUser>`
/// - `GET /public` → 200, touches nothing
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.route("/login", web::post().to(sign_in))
        .route("/logout", web::post().to(logout))
        .route("/renew", web::post().to(renew))
        .route("/clear", web::post().to(clear))
        .route("/data", web::post().to(insert))
        .route("/data/{k}", web::get().to(read))
        .route("/data/{k}", web::delete().to(remove))
        .route("/me", web::get().to(me))
        .route("/maybe", web::get().to(maybe))
        .route("/public", web::get().to(HttpResponse::Ok));
}

async fn sign_in(
    session: Session,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, SessionError> {
    let roles = q
        .roles
        .split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    session.login(Login::new(q.id.clone()).roles(roles).remember(q.remember))?;
    Ok(HttpResponse::Ok().finish())
}

async fn logout(session: Session) -> HttpResponse {
    session.logout();
    HttpResponse::Ok().finish()
}

async fn renew(session: Session) -> HttpResponse {
    session.renew();
    HttpResponse::Ok().finish()
}

async fn clear(session: Session) -> HttpResponse {
    session.clear();
    HttpResponse::Ok().finish()
}

async fn insert(session: Session, q: web::Query<DataQuery>) -> Result<HttpResponse, SessionError> {
    session.insert(q.k.clone(), q.v.clone())?;
    Ok(HttpResponse::Ok().finish())
}

async fn read(session: Session, k: web::Path<String>) -> Result<HttpResponse, SessionError> {
    Ok(HttpResponse::Ok().json(session.get::<String>(&k)?))
}

async fn remove(session: Session, k: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(session.remove(&k))
}

/// The user as JSON: id, roles, sid and the three times in Unix seconds.
pub fn user_json(user: &AuthUser) -> serde_json::Value {
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    serde_json::json!({
        "id": user.id(),
        "roles": user.roles(),
        "sid": user.session_id(),
        "iat": secs(user.issued_at()),
        "exp": secs(user.expires_at()),
        "auth": secs(user.authenticated_at()),
    })
}

async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(user_json(&user))
}

async fn maybe(user: Option<AuthUser>) -> HttpResponse {
    HttpResponse::Ok().json(user.map(|u| u.id().to_owned()))
}
