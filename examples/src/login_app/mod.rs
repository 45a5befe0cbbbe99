//! A real login app: `cargo run -p examples --bin login-app`, then open http://127.0.0.1:8080/.
//!
//! - Users in SQLite ([`db`]), created on first start in the data directory; passwords hashed with
//!   argon2id and upgraded to the current parameters at login ([`crate::password`]). The account
//!   rules (names, password policy, credential checks, password and role changes, deletion) are
//!   in [`accounts`].
//! - Pages ([`pages`]): register and log in (`#[skip_if_authenticated]`), the dashboard
//!   (`#[login_required]`), the admin page (`#[require_role("admin")]`, a real 403 page for
//!   everyone else) where admins make accounts admin or member and delete them (never the last
//!   admin), sensitive settings (`#[authorize(authenticated, fresh = 300)]`, which sends
//!   you to confirm your password again), and logout (POST only).
//! - Every form carries a CSRF token bound to the session ([`session_core::csrf`]); a post without
//!   a valid one is refused with 403 and changes nothing.
//! - The first registered user is an admin; admins can make others admin, and the last admin can
//!   neither lose the role nor be deleted ([`accounts`]).
//!
//! - Live users ([`store`]): every signed-in request reads the account's row once, so a role
//!   change counts on the next request, a deleted account is signed out, and a password change
//!   signs out every other device.
//! - My sessions: the settings page lists every session of the account (device, address, when
//!   it signed in and was last refreshed, "this device") with an "End" button for each other one,
//!   which signs that device out at once; logout takes effect at once too (a revocation store in
//!   this process's memory, `session_core::revocation`).
//! - Brute force ([`Throttles`]): sign-in, password confirmation and password change are
//!   throttled per account and per address, registration per address; a refused form says how
//!   long to wait (429). Password hashes run at most one per core at once
//!   ([`Passwords::run`]), so a flood of posts queues instead of taking 19 MiB each.
//!
//! Tests build the same app with [`app`]: `app(state.clone(), auth_builder(key, false, &state).build()?)`.

pub mod accounts;
pub mod args;
pub mod db;
mod handlers;
pub mod notes;
pub mod pages;
pub mod store;

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    middleware::{from_fn, DefaultHeaders, Next},
    web::{self, ServiceConfig},
    App, Error, FromRequest as _, HttpRequest, HttpResponse, ResponseError,
};
use session_core::{
    clock::Clock, csrf, revocation::MemoryRevocations, throttle::Throttle, AuthError, AuthSession,
    AuthSessionBuilder, AuthUser, Authorization, AuthorizationBuilder, ConfigError, Key, Session,
    SessionError,
};

use self::{
    accounts::Accounts,
    db::{Db, DbError},
    pages::Nav,
};
use crate::password::Passwords;

/// What the handlers share: the accounts (user database and password hasher) and the
/// throttles.
#[derive(Debug, Clone)]
pub struct AppState {
    accounts: Arc<Accounts>,
    throttles: Throttles,
}

impl AppState {
    /// Opens (or creates) the database in `data_dir`, hashing with the default argon2id
    /// parameters.
    pub fn open(data_dir: &Path, throttles: Throttles) -> Result<Self, DbError> {
        Ok(Self::new(
            Db::open(data_dir)?,
            Passwords::default(),
            throttles,
        ))
    }

    /// A state over `db`, hashing with `passwords`.
    pub fn new(db: Db, passwords: Passwords, throttles: Throttles) -> Self {
        Self {
            accounts: Arc::new(Accounts::new(db, passwords)),
            throttles,
        }
    }

    /// The throttles of the password forms.
    pub fn throttles(&self) -> &Throttles {
        &self.throttles
    }

    /// The account rules (blocking: use them in `web::block`).
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The user database (blocking: use it in `web::block`).
    pub fn db(&self) -> &Db {
        self.accounts.db()
    }

    /// The password hasher.
    pub fn passwords(&self) -> &Passwords {
        self.accounts.passwords()
    }
}

/// Failed sign-ins per account name per [`SIGN_IN_WINDOW`].
pub const SIGN_IN_FAILURES_PER_ACCOUNT: u32 = 5;
/// Failed sign-ins per client address per [`SIGN_IN_WINDOW`].
pub const SIGN_IN_FAILURES_PER_ADDRESS: u32 = 50;
/// The window of the sign-in limits: 15 minutes.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first lock of a full sign-in counter (1 minute); each next one doubles, up to
/// [`MAX_LOCK`].
pub const FIRST_LOCK: Duration = Duration::from_secs(60);
/// The longest lock: 1 hour.
pub const MAX_LOCK: Duration = Duration::from_secs(3600);
/// Registrations per client address per hour.
pub const REGISTRATIONS_PER_ADDRESS: u32 = 10;

/// The app's throttles (`session_core::throttle`), counting in this process's memory.
///
/// - `sign_in`: [`SIGN_IN_FAILURES_PER_ACCOUNT`] failures per account and
///   [`SIGN_IN_FAILURES_PER_ADDRESS`] per address per [`SIGN_IN_WINDOW`], then locks from
///   [`FIRST_LOCK`] doubling up to [`MAX_LOCK`]. The sign-in, password confirmation and password
///   change forms share it: no form gives more guesses at a password than another.
/// - `register`: [`REGISTRATIONS_PER_ADDRESS`] registration posts per address per hour.
///
/// The app serves clients directly, so addresses are the TCP peers' (behind a reverse proxy,
/// add `.trusted_proxy_header("X-Forwarded-For", 1)` to both builders).
#[derive(Debug, Clone)]
pub struct Throttles {
    sign_in: Throttle,
    register: Throttle,
}

impl Throttles {
    /// The app's limits, counter keys derived from `key`, time from `clock`.
    pub fn new(key: &Key, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let sign_in = Throttle::builder(key)
            .scope("sign-in")
            .per_account(SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_WINDOW)
            .per_address(SIGN_IN_FAILURES_PER_ADDRESS, SIGN_IN_WINDOW)
            .lockout(FIRST_LOCK, MAX_LOCK)
            .clock(clock.clone())
            .build()?;
        let register = Throttle::builder(key)
            .scope("register")
            .without_per_account()
            .per_address(REGISTRATIONS_PER_ADDRESS, Duration::from_secs(3600))
            .lockout(FIRST_LOCK, MAX_LOCK)
            .clock(clock)
            .build()?;
        Ok(Self { sign_in, register })
    }

    /// Sign-in, password confirmation and password change: per account and per address.
    pub fn sign_in(&self) -> &Throttle {
        &self.sign_in
    }

    /// Registration: per address.
    pub fn register(&self) -> &Throttle {
        &self.register
    }
}

/// The role an admin gives on the admin page: reads and edits every note.
pub const EDITOR: &str = "editor";

/// The app's role table: `admin` includes `editor` and may delete notes; `editor` reads and edits
/// every note; `member` is every account's base role.
pub fn authorization() -> AuthorizationBuilder {
    Authorization::builder()
        .role(db::Role::Admin.as_str())
        .includes([EDITOR])
        .grants(["notes:delete"])
        .role(EDITOR)
        .grants(["notes:read", "notes:edit"])
        .role(db::Role::Member.as_str())
}

/// The session settings of this app: users read live from `state`'s database, sign-in at
/// `/login`, password confirmation at `/reauth`, home at `/dashboard`, the app's own 403 page,
/// the cookie's `Secure` flag as given, and revocations with the lists of sessions in this
/// process's memory (one instance; several would share a `RedisRevocations`). Add `.clock(..)`
/// in tests.
///
/// With `secure_cookies` the cookie is `__Host-session; Secure`, which browsers accept from
/// http://localhost and http://127.0.0.1 too (the binary's default); `false` (`--insecure-cookies`)
/// is only for plain HTTP on another host.
pub fn auth_builder(key: Key, secure_cookies: bool, state: &AppState) -> AuthSessionBuilder {
    AuthSession::builder(key)
        .users(state.clone())
        .authorization(authorization())
        .revocations(Arc::new(MemoryRevocations::new()))
        .cookie(|c| c.secure(secure_cookies))
        .redirects(|r| {
            r.login_url("/login")
                .reauth_url("/reauth")
                .home_url("/dashboard")
        })
        .forbidden_page(forbidden_page)
}

/// The 403 page for browsers, with the navigation bar of the signed-in user.
fn forbidden_page(req: &HttpRequest) -> String {
    let nav = Session::extract(req)
        .into_inner()
        .map_err(AppError::from)
        .and_then(|session| nav(&session, session.user().as_ref()))
        .unwrap_or(Nav::Anonymous);
    pages::error(
        &nav,
        403,
        "Forbidden",
        "You are signed in, but your account may not open this page.",
    )
}

/// The whole app: routes, session middleware, request logging, the 403 page and security headers.
pub fn app(
    state: AppState,
    auth: AuthSession,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .configure(configure)
        // Innermost first: `observe` sees the handler's own error (to log denials and draw the
        // 403 page); the session middleware, outermost, writes the cookie on the final response.
        .wrap(from_fn(observe))
        .wrap(security_headers())
        .wrap(auth)
}

/// The app's routes; needs `web::Data<AppState>` and an [`AuthSession`] on the `App`.
/// Each path is a resource, so a wrong method gets 405 (`GET /logout` changes nothing).
pub fn configure(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(web::resource("/").get(home))
        .service(web::resource("/register").get(register_form).post(register))
        .service(web::resource("/login").get(login_form).post(login))
        .service(web::resource("/logout").post(logout))
        .service(web::resource("/dashboard").get(dashboard))
        .service(web::resource("/admin").get(admin))
        .service(web::resource("/admin/users/{uid}/admin").post(change_role))
        .service(web::resource("/admin/users/{uid}/editor").post(change_editor))
        .service(web::resource("/admin/users/{uid}/delete").post(delete_account))
        .service(web::resource("/notes").get(notes::list).post(notes::create))
        .service(web::resource("/notes/{id}").get(notes::show))
        .service(web::resource("/notes/{id}/edit").post(notes::edit))
        .service(web::resource("/notes/{id}/delete").post(notes::delete))
        .service(
            web::resource("/settings")
                .get(settings)
                .post(change_password),
        )
        .service(web::resource("/settings/sessions/end").post(end_session))
        .service(web::resource("/reauth").get(reauth_form).post(reauth))
        .default_service(web::to(not_found));
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ))
}

/// Logs every request (method, path, status, time) and every denial (with its reason).
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    tracing::info!(%method, %path, status, ?elapsed, "request");
    let denial = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AuthError>())
        .map(AuthError::kind);
    if let Some(kind) = denial {
        tracing::info!(reason = kind.as_str(), %method, %path, status, "access denied");
    }
    Ok(res)
}

/// The navigation bar for this request's user (a sign-out form needs the CSRF token).
fn nav(session: &Session, user: Option<&AuthUser>) -> Result<Nav, AppError> {
    let Some(user) = user else {
        return Ok(Nav::Anonymous);
    };
    Ok(Nav::SignedIn {
        username: user
            .get::<String>("username")?
            .unwrap_or_else(|| user.id().to_owned()),
        admin: user.has_role(db::Role::Admin.as_str()),
        csrf: csrf::token(session)?,
    })
}

/// An HTML page that is never cached (it shows who is signed in).
fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(body)
}

/// 303 See Other to `location` (after a form post, the browser GETs it).
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Why a handler failed.
#[derive(Debug)]
pub enum AppError {
    /// The form's CSRF token is missing or wrong: 403, nothing changed.
    Csrf,
    /// What the address names does not exist: 404.
    NotFound,
    /// Anything else: 500 with a generic page; the detail goes to the log only.
    Internal(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Csrf => f.write_str("invalid or missing CSRF token"),
            AppError::NotFound => f.write_str("not found"),
            AppError::Internal(detail) => write!(f, "internal error: {detail}"),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, text) = match self {
            AppError::Csrf => (
                "Form expired",
                "This form was not sent from this site, or your session changed since it was \
                 shown. Go back, reload the page and try again.",
            ),
            AppError::NotFound => ("Not found", "There is no page at this address."),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (
                    "Something went wrong",
                    "The server could not complete this request. Please try again.",
                )
            }
        };
        let status = self.status_code();
        html(
            status,
            pages::error(&Nav::Anonymous, status.as_u16(), title, text),
        )
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// Runs blocking SQLite work on actix's blocking thread pool.
async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    work: impl FnOnce(&AppState) -> Result<T, DbError> + Send + 'static,
) -> Result<T, AppError> {
    let state = web::Data::clone(state);
    Ok(web::block(move || work(&state)).await??)
}

/// Runs blocking work that hashes or verifies passwords (argon2id, 19 MiB each) like
/// [`blocking`], once one of the hasher's turns is free ([`Passwords::run`]).
async fn hashing<T: Send + 'static>(
    state: &web::Data<AppState>,
    work: impl FnOnce(&AppState) -> Result<T, DbError> + Send + 'static,
) -> Result<T, AppError> {
    let shared = web::Data::clone(state);
    Ok(state.passwords().run(move || work(&shared)).await??)
}
