//! One server, one mode per process, for `bench/run.sh`:
//!
//! `bench-server --mode MODE --bind 127.0.0.1:PORT` with one worker. Every mode serves
//! `POST /login` (which sets whatever cookie the mode needs; the script sends it back) and
//! `GET /hello` (the measured route: reads the user and answers `hello <id>`). In the modes
//! without a user store, `POST /login?user=ID` signs in as `ID` instead of `bench`, so the script
//! can mint many distinct sessions before measuring.
//!
//! Modes: `bare` (no session at all), `bare-layer` (`bare` behind a middleware that does nothing:
//! what any actix-web layer costs), `core` (session-core signed cookie + `#[login_required]`),
//! `core-authorize` (`#[authorize(any(role = ..), ..)]`), `core-policy` (the same rule and a
//! resource policy over the `web::Path` and a `web::Data` map, on `/{page}`),
//! `core-authorize-path` (`core-authorize` on `/{page}`: the route cost without the policy), `core-encrypted` (sealed cookie),
//! `identity` (actix-session `CookieSessionStore`, signed, + actix-identity `Identity`),
//! `grants` (the same session store + actix-web-grants `#[protect]`); and, with `--redis URL`,
//! `core-revocations` (signed cookie + revocation checks against a local mirror of the Redis
//! store; until the mirror exists, the same as the next mode), `core-revocations-lookup` (signed
//! cookie + a Redis revocation lookup, one `MGET`, per request) and `core-session-store`
//! (`session_store(RedisSessionStore)`).
//!
//! Live users: `core-users-memory` and `core-users-sqlite` are `core-authorize` with a
//! [`UserStore`] loading the user on every request (no cache): from a `HashMap`, or from the
//! login app's SQLite database (`--data DIR`, default a fresh directory under the system temp
//! directory; one user is created at start-up). Their sessions start with `Login::user`.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::Arc,
};

use actix_identity::{Identity, IdentityMiddleware};
use actix_session::{
    config::CookieContentSecurity,
    storage::{CookieSessionStore, RedisSessionStore},
    SessionExt, SessionMiddleware,
};
use actix_web::{
    cookie::Key as CookieKey,
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    get, post, web, App, Error, HttpMessage, HttpRequest, HttpResponse, HttpServer, Responder,
};
use examples::login_app::{store::Account, AppState};
use session_core::{
    config::Content,
    prelude::*,
    revocation::{RedisRevocations, RevocationMirror},
    AuthSessionBuilder, User, UserStore,
};

const SECRET: &[u8; 64] = b"bench-secret-bench-secret-bench-secret-bench-secret-bench-secret";

// ---------------------------------------------------------------- bare

#[get("/hello")]
async fn bare_hello() -> impl Responder {
    // The same answer the other modes build from their user id, built the same way: `black_box`
    // keeps the compiler from folding a literal argument into the format string, which would
    // make this a `String::from` of exact capacity (no formatting at run time, and a body
    // `Bytes` takes over without the allocation a spare capacity costs) and so charge that
    // difference to the session layer.
    format!("hello {}", std::hint::black_box("bench"))
}

/// A middleware that only passes the request on (`bare-layer`): the cost of a layer as such.
struct PassThrough;

impl<S, B> Transform<S, ServiceRequest> for PassThrough
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = PassThroughService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(PassThroughService { service }))
    }
}

struct PassThroughService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for PassThroughService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.service.call(req)
    }
}

#[post("/login")]
async fn bare_login() -> impl Responder {
    HttpResponse::Ok()
}

// ---------------------------------------------------------------- session-core

#[get("/hello")]
#[login_required]
async fn core_hello(user: AuthUser) -> impl Responder {
    format!("hello {}", user.id())
}

#[get("/hello")]
#[authorize(any(role = "admin", role = "editor"), fresh = 86400)]
async fn core_authorize_hello(user: AuthUser) -> impl Responder {
    format!("hello {}", user.id())
}

/// `core-authorize` on the route of `core-policy`, a path with a parameter (actix matches it
/// with a regex, which costs more than the policy): the baseline of the policy alone.
#[get("/{page}")]
#[authorize(any(role = "admin", role = "editor"), fresh = 86400)]
async fn core_authorize_path_hello(user: AuthUser) -> impl Responder {
    format!("hello {}", user.id())
}

/// `core-authorize`'s rule and a resource policy: the signed-in user may read `/{page}`.
#[get("/{page}")]
#[authorize(all(any(role = "admin", role = "editor"), policy = may_read_page), fresh = 86400)]
async fn core_policy_hello(user: AuthUser) -> impl Responder {
    format!("hello {}", user.id())
}

/// Who may read each page: an in-memory map, as an app's cache of a table would be.
type Readers = HashMap<String, HashSet<String>>;

#[session_core::policy]
async fn may_read_page(
    user: AuthUser,
    page: web::Path<String>,
    readers: web::Data<Readers>,
) -> bool {
    readers
        .get(page.as_str())
        .is_some_and(|readers| readers.contains(user.id()))
}

#[post("/login")]
async fn core_login(req: HttpRequest, session: Session) -> Result<HttpResponse, SessionError> {
    session.login(Login::new(login_as(&req)).roles(["editor"]))?;
    Ok(HttpResponse::Ok().finish())
}

/// The user `POST /login?user=ID` signs in as: `ID`, or `bench` without one. `bench/run.sh`
/// mints its many distinct sessions (`core-10k`, `identity-10k`) with ids as long as `bench`, so
/// cookies and answers keep the size they have with one session.
fn login_as(req: &HttpRequest) -> String {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|query| query.get("user").cloned())
        .unwrap_or_else(|| "bench".to_owned())
}

// ---------------------------------------------------------------- session-core, live users

/// A user record as an app would keep it in memory.
#[derive(Clone)]
struct MemoryUser {
    id: String,
    roles: Vec<String>,
    password_hash: String,
}

impl User for MemoryUser {
    fn id(&self) -> &str {
        &self.id
    }

    fn roles(&self) -> &[String] {
        &self.roles
    }

    // Like the SQLite store's `Account`: sessions are bound to the password hash.
    fn fingerprint(&self) -> Option<&[u8]> {
        Some(self.password_hash.as_bytes())
    }
}

/// An in-memory user store: one `HashMap` lookup per load, answered at once with the shared
/// record (a clone of the `Arc`, not of the record).
struct MemoryUsers(HashMap<String, Arc<MemoryUser>>);

impl UserStore for MemoryUsers {
    type User = MemoryUser;
    type Error = std::convert::Infallible;

    async fn load(&self, id: &str) -> Result<Option<MemoryUser>, Self::Error> {
        Ok(self.0.get(id).map(|user| MemoryUser::clone(user)))
    }

    fn load_now(&self, id: &str) -> Option<Result<Option<Arc<MemoryUser>>, Self::Error>> {
        Some(Ok(self.0.get(id).cloned()))
    }
}

/// Signs in as the store's user (`web::Data<U>` holds its record, loaded at start-up).
async fn users_login<U: User>(
    session: Session,
    user: web::Data<U>,
) -> Result<HttpResponse, SessionError> {
    session.login(Login::user(&**user))?;
    Ok(HttpResponse::Ok().finish())
}

/// The bench user: an in-memory store holding it, or the login app's database in `dir` with it.
fn memory_users() -> (MemoryUsers, MemoryUser) {
    let user = MemoryUser {
        id: "bench".to_owned(),
        roles: vec!["editor".to_owned()],
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bench-salt$bench-hash".to_owned(),
    };
    let users = HashMap::from([(user.id.clone(), Arc::new(user.clone()))]);
    (MemoryUsers(users), user)
}

fn sqlite_users(dir: &std::path::Path) -> std::io::Result<(AppState, Account)> {
    let db_error = |e: examples::login_app::db::DbError| std::io::Error::other(e.to_string());
    let throttles = examples::login_app::Throttles::new(
        &Key::from_bytes(SECRET).expect("64 bytes"),
        Arc::new(session_core::clock::SystemClock),
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    let state = AppState::open(dir, throttles).map_err(db_error)?;
    let user = state
        .db()
        .create_user(
            "bench",
            "$argon2id$v=19$m=19456,t=2,p=1$bench-salt$bench-hash",
        )
        .map_err(db_error)?
        .map_err(|_| std::io::Error::other(format!("{}: user bench exists", dir.display())))?;
    let account = state
        .db()
        .account(&user.uid)
        .map_err(db_error)?
        .ok_or_else(|| std::io::Error::other("the bench user vanished"))?;
    Ok((state, account))
}

// ---------------------------------------------------------------- actix-session + identity

#[get("/hello")]
async fn identity_hello(user: Identity) -> Result<String, Error> {
    let id = user.id().map_err(actix_web::error::ErrorUnauthorized)?;
    Ok(format!("hello {id}"))
}

#[post("/login")]
async fn identity_login(req: HttpRequest) -> Result<HttpResponse, Error> {
    Identity::login(&req.extensions(), login_as(&req))
        .map_err(actix_web::error::ErrorInternalServerError)?;
    req.get_session()
        .insert("roles", ["editor"])
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().finish())
}

// ---------------------------------------------------------------- actix-web-grants

async fn session_roles(req: &ServiceRequest) -> Result<HashSet<String>, Error> {
    let roles: Option<Vec<String>> = req.get_session().get("roles").unwrap_or(None);
    Ok(roles.unwrap_or_default().into_iter().collect())
}

#[get("/hello")]
#[actix_web_grants::protect(any("admin", "editor"))]
async fn grants_hello(user: Identity) -> Result<String, Error> {
    let id = user.id().map_err(actix_web::error::ErrorUnauthorized)?;
    Ok(format!("hello {id}"))
}

fn session_middleware() -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), CookieKey::from(SECRET))
        .cookie_content_security(CookieContentSecurity::Signed)
        .cookie_secure(false)
        .build()
}

fn auth(encrypted: bool) -> AuthSessionBuilder {
    AuthSession::builder(Key::from_bytes(SECRET).expect("64 bytes")).cookie(|c| match encrypted {
        true => c.secure(false).content(Content::Sealed),
        false => c.secure(false),
    })
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The revocation store of `core-revocations` (a [`RevocationMirror`] of the Redis store: no
/// network call per request while in sync), or with `lookup` of `core-revocations-lookup`: the
/// Redis store itself, asked once (one `MGET`) per authenticated request.
async fn revocations(
    builder: AuthSessionBuilder,
    url: &str,
    lookup: bool,
) -> std::io::Result<AuthSessionBuilder> {
    let store = RedisRevocations::connect(url)
        .await
        .map_err(std::io::Error::other)?;
    if lookup {
        return Ok(builder.revocations(store));
    }
    // `start` returns once the mirror has loaded and its first heartbeat came back: from the
    // first measured request on, answers come from memory.
    let mirror = RevocationMirror::start(store)
        .await
        .map_err(std::io::Error::other)?;
    Ok(builder.revocations(mirror))
}

const MODES: [&str; 14] = [
    "bare",
    "bare-layer",
    "core",
    "core-authorize",
    "core-authorize-path",
    "core-policy",
    "core-users-memory",
    "core-users-sqlite",
    "core-encrypted",
    "core-revocations",
    "core-revocations-lookup",
    "core-session-store",
    "identity",
    "grants",
];

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = format!(
        "usage: bench-server --mode {} --bind 127.0.0.1:PORT [--redis redis://127.0.0.1:PORT] \
         [--data DIR]",
        MODES.join("|")
    );
    let mode = arg(&args, "--mode").ok_or_else(|| std::io::Error::other(usage.clone()))?;
    let bind = arg(&args, "--bind").unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    if !MODES.contains(&mode.as_str()) {
        return Err(std::io::Error::other(usage));
    }
    let redis = arg(&args, "--redis");
    let need_redis = || {
        redis
            .clone()
            .ok_or_else(|| std::io::Error::other(format!("mode {mode} needs --redis URL")))
    };
    let invalid = |e: session_core::ConfigError| std::io::Error::other(e.to_string());
    let signed = auth(false).build().map_err(invalid)?;
    let sealed = auth(true).build().map_err(invalid)?;
    let core_variant = match mode.as_str() {
        "core-revocations" | "core-revocations-lookup" => {
            let lookup = mode == "core-revocations-lookup";
            let with_store = revocations(auth(false), &need_redis()?, lookup).await?;
            let auth = with_store.build().map_err(invalid)?;
            Some(auth)
        }
        "core-session-store" => {
            // session-core's cookie over actix-session's Redis store, keys hashed at rest.
            let store = RedisSessionStore::builder(need_redis()?)
                .cache_keygen(|key| session_core::hashed_session_key("session:", key))
                .build()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let auth = AuthSession::builder(Key::from_bytes(SECRET).expect("64 bytes"))
                .cookie(|c| c.secure(false))
                .session_store(store)
                .build()
                .map_err(invalid)?;
            Some(auth)
        }
        _ => None,
    };
    // The live-user modes: the session layer with the store, and the user's record for /login.
    let (with_users, memory_user, sqlite_user) = match mode.as_str() {
        "core-users-memory" => {
            let (store, user) = memory_users();
            let auth = auth(false).users(store).build().map_err(invalid)?;
            (Some(auth), Some(web::Data::new(user)), None)
        }
        "core-users-sqlite" => {
            let dir = arg(&args, "--data").map(PathBuf::from).unwrap_or_else(|| {
                std::env::temp_dir().join(format!("bench-server-{}", std::process::id()))
            });
            let (state, account) = sqlite_users(&dir)?;
            let auth = auth(false).users(state).build().map_err(invalid)?;
            (Some(auth), None, Some(web::Data::new(account)))
        }
        _ => (None, None, None),
    };
    HttpServer::new(move || {
        let mode = mode.clone();
        let (signed, sealed) = (signed.clone(), sealed.clone());
        let core_variant = core_variant.clone();
        let (with_users, memory_user, sqlite_user) =
            (with_users.clone(), memory_user.clone(), sqlite_user.clone());
        // Every mode sits in a `scope("")`, so the middleware stack is per mode and the App type
        // (and its routing cost) is the same for all.
        App::new().configure(move |cfg| {
            let scope = web::scope("");
            let core = (core_hello, core_login);
            match mode.as_str() {
                "bare" => cfg.service(scope.service((bare_hello, bare_login))),
                "bare-layer" => {
                    cfg.service(scope.wrap(PassThrough).service((bare_hello, bare_login)))
                }
                "core" => cfg.service(scope.wrap(signed).service(core)),
                "core-authorize" => cfg.service(
                    scope
                        .wrap(signed)
                        .service((core_authorize_hello, core_login)),
                ),
                "core-authorize-path" => cfg.service(
                    scope
                        .wrap(signed)
                        .service((core_login, core_authorize_path_hello)),
                ),
                "core-policy" => {
                    let readers = Readers::from([(
                        "hello".to_owned(),
                        HashSet::from(["bench".to_owned(), "other".to_owned()]),
                    )]);
                    cfg.service(
                        scope
                            .wrap(signed)
                            .app_data(web::Data::new(readers))
                            .service((core_login, core_policy_hello)),
                    )
                }
                "core-users-memory" => cfg.service(
                    scope
                        .wrap(with_users.expect("set up above"))
                        .app_data(memory_user.expect("set up above"))
                        .service(core_authorize_hello)
                        .route("/login", web::post().to(users_login::<MemoryUser>)),
                ),
                "core-users-sqlite" => cfg.service(
                    scope
                        .wrap(with_users.expect("set up above"))
                        .app_data(sqlite_user.expect("set up above"))
                        .service(core_authorize_hello)
                        .route("/login", web::post().to(users_login::<Account>)),
                ),
                "core-encrypted" => cfg.service(scope.wrap(sealed).service(core)),
                "core-revocations" | "core-revocations-lookup" | "core-session-store" => cfg
                    .service(
                        scope
                            .wrap(core_variant.expect("set up above"))
                            .service(core),
                    ),
                "identity" => cfg.service(
                    scope
                        .wrap(IdentityMiddleware::default())
                        .wrap(session_middleware())
                        .service((identity_hello, identity_login)),
                ),
                _ => cfg.service(
                    scope
                        .wrap(actix_web_grants::GrantsMiddleware::with_extractor(
                            session_roles,
                        ))
                        .wrap(IdentityMiddleware::default())
                        .wrap(session_middleware())
                        .service((grants_hello, identity_login)),
                ),
            };
        })
    })
    .workers(1)
    .bind(bind)?
    .run()
    .await
}
