//! A JSON API on cookie sessions: `cargo run -p examples --bin api` (http://127.0.0.1:8081).
//!
//! - `POST /api/login` with `{"username": .., "password": ..}` checks the password against an
//!   in-memory user table of argon2id hashes and sets the session cookie;
//! - `GET /api/me` (`#[login_required]`), `GET /api/reports`
//!   (`#[authorize(any(role = "admin", role = "analyst"))]`), `GET /api/admin/users`
//!   (`#[require_role("admin")]`); denials are JSON: 401 `{"error":"unauthenticated"}`, 403
//!   `{"error":"forbidden"}` (the app configures [`Deny::Json`], so browsers get JSON too);
//! - `POST /api/logout` with the body `{}` ends the session;
//! - `GET /api/openapi.json`: the OpenAPI 3.1 document of these routes (utoipa), whose security,
//!   denial responses and `x-session-rule` come from the guards ([`OpenApiSecurity`]).
//!
//! Every handler is registered through [`access::guarded`]: one without a guard attribute or
//! `#[public]` would not compile.
//!
//! Brute force: `POST /api/login` is throttled per account and per client address
//! ([`throttle_builder`]); past the limit it answers 429 `{"error":"too_many_attempts",
//! "retry_after":N}` with `Retry-After: N`, before any password is checked. Password checks run
//! at most one per core at once ([`Passwords::run`]).
//!
//! CSRF: every state-changing endpoint takes `application/json` only (actix's `Json` extractor
//! refuses other content types with 415), which a cross-site HTML form cannot send without a CORS
//! preflight this API never grants; the `SameSite=Lax` cookie is the second line.
//!
//! Live users: the user table is the session's [`UserStore`], so guards read each request's roles
//! from it and a session ends when its user is gone or the password hash changed.
//!
//! The demo users are [`DEMO_USERS`].

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    error::JsonPayloadError,
    get, post,
    web::{self, ServiceConfig},
    App, Error, HttpRequest, HttpResponse,
};
use serde::{de::IgnoredAny, Deserialize};
use serde_json::json;
use session_core::{
    access::{self, OpenApiSecurity},
    events::SecurityEvent,
    prelude::*,
    throttle::{Throttle, ThrottleBuilder},
    AuthSessionBuilder,
};
use utoipa::{Modify as _, OpenApi as _};

#[cfg(test)]
use crate::password::Params;
use crate::{
    login_app::accounts::{check_credentials, Checked},
    password::Passwords,
};

/// `(username, password, roles)` of the demo accounts.
pub const DEMO_USERS: [(&str, &str, &[&str]); 3] = [
    ("alice", "alice-password", &["admin"]),
    ("bob", "bob-password", &["analyst"]),
    ("carol", "carol-password", &[]),
];

/// A user of the table: the session's live user.
#[derive(Debug, Clone)]
pub struct ApiUser {
    name: String,
    hash: String,
    roles: Vec<String>,
}

impl User for ApiUser {
    fn id(&self) -> &str {
        &self.name
    }

    fn roles(&self) -> &[String] {
        &self.roles
    }

    fn fingerprint(&self) -> Option<&[u8]> {
        Some(self.hash.as_bytes())
    }
}

/// The user table (name → argon2id hash and roles), the hasher and the login throttle.
#[derive(Debug, Clone)]
pub struct ApiState {
    users: Arc<HashMap<String, Arc<ApiUser>>>,
    passwords: Arc<Passwords>,
    throttle: Throttle,
}

/// The login throttle's settings: 5 failures per account and 50 per address per 15 minutes,
/// then locks from 1 minute doubling up to 1 hour, keys derived from `key`. Add `.clock(..)` in
/// tests, `.store(..)` to share counters between instances.
pub fn throttle_builder(key: &Key) -> ThrottleBuilder {
    const MINUTE: Duration = Duration::from_secs(60);
    Throttle::builder(key)
        .scope("api-login")
        .per_account(5, 15 * MINUTE)
        .per_address(50, 15 * MINUTE)
        .lockout(MINUTE, 60 * MINUTE)
}

impl ApiState {
    /// The [`DEMO_USERS`], their passwords hashed with `passwords` (slow: run it once, at start),
    /// logins throttled by `throttle`.
    pub fn demo(passwords: Passwords, throttle: Throttle) -> Self {
        let users = DEMO_USERS
            .iter()
            .map(|(name, password, roles)| {
                let user = ApiUser {
                    name: name.to_string(),
                    hash: passwords.hash(password),
                    roles: roles.iter().map(|r| r.to_string()).collect(),
                };
                (name.to_string(), Arc::new(user))
            })
            .collect();
        Self {
            users: Arc::new(users),
            passwords: Arc::new(passwords),
            throttle,
        }
    }

    /// The user `username` if `password` is theirs. Blocking (argon2).
    fn check(&self, username: &str, password: &str) -> Option<ApiUser> {
        let found = self
            .users
            .get(username)
            .map(|user| (user, user.hash.as_str()));
        match check_credentials(&self.passwords, found, password) {
            // The table lives in memory only; a real app would store the new hash here.
            Checked::Accepted(user) | Checked::Rehashed { user, .. } => Some(ApiUser::clone(user)),
            Checked::Refused => None,
        }
    }
}

/// The table, read on every signed-in request (a map lookup: no blocking work, so it answers
/// at once with the shared record, and a request waits for nothing).
impl UserStore for ApiState {
    type User = ApiUser;
    type Error = std::convert::Infallible;

    async fn load(&self, name: &str) -> Result<Option<ApiUser>, Self::Error> {
        Ok(self.users.get(name).map(|user| ApiUser::clone(user)))
    }

    fn load_now(&self, name: &str) -> Option<Result<Option<Arc<ApiUser>>, Self::Error>> {
        Some(Ok(self.users.get(name).cloned()))
    }
}

/// The session settings of the API: users read live from `state`, JSON denials for everyone,
/// and the cookie's `Secure` flag as given (`false` only for plain HTTP on localhost).
pub fn auth_builder(key: Key, secure_cookies: bool, state: &ApiState) -> AuthSessionBuilder {
    AuthSession::builder(key)
        .users(state.clone())
        .cookie(|c| c.secure(secure_cookies))
        .deny(Deny::Json)
}

/// The whole API with its session middleware.
pub fn app(
    state: ApiState,
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
    let document = web::Data::new(openapi(&auth));
    App::new()
        .app_data(web::Data::new(state))
        .app_data(document)
        .app_data(
            web::JsonConfig::default()
                .limit(4096)
                .error_handler(bad_json),
        )
        .configure(configure)
        .wrap(auth)
}

/// The operations of the OpenAPI document; their security, denial responses and rules are
/// added by [`OpenApiSecurity`] from the access manifest, not written here.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "session-core JSON API example"),
    paths(login, logout, me, reports, admin_users, openapi_json)
)]
struct ApiDoc;

/// The API's OpenAPI 3.1 document, with the security of the app that `auth` guards.
pub fn openapi(auth: &AuthSession) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    OpenApiSecurity::new(auth).modify(&mut document);
    document
}

/// `GET /api/openapi.json`: the document [`app`] built at start.
#[public]
#[utoipa::path(tag = "meta", responses((status = 200, description = "This document")))]
#[get("/api/openapi.json")]
async fn openapi_json(document: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(document.get_ref())
}

/// The API's routes; needs `web::Data<ApiState>`, the document of [`openapi`] and an
/// [`AuthSession`] on the `App`.
pub fn configure(cfg: &mut ServiceConfig) {
    // Deny by default: each handler must carry a guard attribute or `#[public]`.
    cfg.configure(access::guarded(|routes| {
        routes
            .service(login)
            .service(logout)
            .service(me)
            .service(reports)
            .service(admin_users)
            .service(openapi_json);
    }))
    .default_service(web::to(|| async {
        HttpResponse::NotFound().json(json!({ "error": "not_found" }))
    }));
}

fn bad_json(err: JsonPayloadError, _: &HttpRequest) -> Error {
    let status = match err {
        JsonPayloadError::ContentType => actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
        }
        _ => actix_web::http::StatusCode::BAD_REQUEST,
    };
    let body = json!({ "error": "bad_request", "detail": err.to_string() });
    actix_web::error::InternalError::from_response(err, HttpResponse::build(status).json(body))
        .into()
}

/// `POST /api/login` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct Credentials {
    username: String,
    password: String,
    /// `false`: a browser-session cookie. Default `true`.
    #[serde(default = "yes")]
    remember: bool,
}

fn yes() -> bool {
    true
}

#[public]
#[utoipa::path(tag = "session", responses(
    (status = 200, description = "Signed in: the session cookie is set"),
    (status = 401, description = "Wrong name or password"),
    (status = 429, description = "Too many attempts; see `Retry-After`"),
))]
#[post("/api/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<ApiState>,
    session: Session,
    creds: web::Json<Credentials>,
) -> Result<HttpResponse, Error> {
    let Credentials {
        username,
        password,
        remember,
    } = creds.into_inner();
    // Before the password is checked, alike for known and unknown names; JSON whatever the
    // client accepts, like every answer of this API.
    let address = state.throttle.client_address(&req);
    let checked = state.throttle.check_client(Some(&username), address).await;
    let attempt = checked.inspect_err(|refused| {
        let retry_after = refused.retry_after().as_secs();
        let address = address.map(|ip| ip.to_string());
        session.report(SecurityEvent::throttled(&username, address, retry_after));
    })?;
    let (checker, name) = (web::Data::clone(&state), username.clone());
    let user = state
        .passwords
        .run(move || checker.check(&name, &password))
        .await?;
    let Some(user) = user else {
        attempt.failed();
        let address = address.map(|ip| ip.to_string());
        session.report(SecurityEvent::sign_in_failed(&username, address));
        return Ok(HttpResponse::Unauthorized().json(json!({ "error": "invalid_credentials" })));
    };
    attempt.succeeded().await;
    session.login(Login::user(&user).remember(remember))?;
    Ok(HttpResponse::Ok().json(json!({ "user": username, "roles": user.roles })))
}

/// `POST /api/logout`. The body is ignored, but it must be JSON like every state-changing route's:
/// a cross-site form cannot sign the user out either.
#[public]
#[utoipa::path(tag = "session", responses((status = 204, description = "Signed out")))]
#[post("/api/logout")]
async fn logout(_: web::Json<IgnoredAny>, session: Session) -> HttpResponse {
    session.logout();
    HttpResponse::NoContent().finish()
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[login_required]
#[utoipa::path(tag = "users", responses((status = 200, description = "The signed-in user")))]
#[get("/api/me")]
async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "user": user.id(),
        "roles": user.roles(),
        "signed_in_at": unix(user.authenticated_at()),
        "expires_at": unix(user.expires_at()),
    }))
}

// Our attribute below `#[utoipa::path]` works as well: each needs only the route attribute
// under it.
#[utoipa::path(tag = "reports", responses((status = 200, description = "The reports")))]
#[authorize(any(role = "admin", role = "analyst"))]
#[get("/api/reports")]
async fn reports(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "for": user.id(),
        "reports": [
            { "name": "signups-weekly", "rows": 7 },
            { "name": "logins-by-hour", "rows": 24 },
        ],
    }))
}

#[require_role("admin")]
#[utoipa::path(tag = "users", responses((status = 200, description = "Every user and their roles")))]
#[get("/api/admin/users")]
async fn admin_users(state: web::Data<ApiState>) -> HttpResponse {
    let mut users: Vec<_> = state
        .users
        .iter()
        .map(|(name, user)| json!({ "user": name, "roles": user.roles }))
        .collect();
    users.sort_by(|a, b| a["user"].as_str().cmp(&b["user"].as_str()));
    HttpResponse::Ok().json(json!({ "users": users }))
}

#[cfg(test)]
mod tests {
    use actix_web::{
        cookie::Cookie,
        http::{header, StatusCode},
        test,
    };
    use serde_json::Value;

    use session_core::clock::ManualClock;

    use super::*;

    fn key() -> Key {
        Key::from_bytes(&[5; 32]).unwrap()
    }

    /// The demo users, logins throttled on `clock`.
    fn state_on(clock: &Arc<ManualClock>) -> ApiState {
        let throttle = throttle_builder(&key())
            .clock(clock.clone())
            .build()
            .unwrap();
        // Cheap parameters: these tests are about the API, not about argon2's cost.
        ApiState::demo(
            Passwords::new(Params::new(1024, 1, 1, None).unwrap()),
            throttle,
        )
    }

    fn state() -> ApiState {
        state_on(&Arc::new(ManualClock::new(1_700_000_000)))
    }

    /// The API over the demo users, ready for `test::call_service`.
    macro_rules! service {
        () => {{
            let state = state();
            test::init_service(app(state.clone(), auth(&state))).await
        }};
    }

    fn auth(state: &ApiState) -> AuthSession {
        auth_builder(key(), true, state).build().unwrap()
    }

    fn login_req(user: &str, password: &str) -> test::TestRequest {
        test::TestRequest::post()
            .uri("/api/login")
            .set_json(json!({ "username": user, "password": password }))
    }

    fn session_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
        res.headers()
            .get_all(header::SET_COOKIE)
            .filter_map(|v| Cookie::parse(v.to_str().ok()?.to_owned()).ok())
            .find(|c| c.name() == "__Host-session")
    }

    macro_rules! call {
        ($app:expr, $req:expr) => {{
            let res = test::call_service($app, $req.to_request()).await;
            let status = res.status();
            let cookie = session_cookie(&res);
            let body: Value = test::read_body_json(res).await;
            (status, body, cookie)
        }};
    }

    macro_rules! login_as {
        ($app:expr, $user:expr) => {{
            let password = DEMO_USERS.iter().find(|u| u.0 == $user).unwrap().1;
            let (status, _, cookie) = call!($app, login_req($user, password));
            assert_eq!(status, StatusCode::OK);
            cookie.expect("login sets the session cookie")
        }};
    }

    /// For every operation of the served document: an anonymous call answers 401 exactly when
    /// the document says the operation needs the session; and the document covers every route.
    #[actix_web::test]
    async fn openapi_security_matches_what_anonymous_calls_get() {
        let app = service!();
        let (status, doc, _) = call!(&app, test::TestRequest::get().uri("/api/openapi.json"));
        assert_eq!(status, StatusCode::OK);
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1."),
            "{doc}"
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["session"],
            json!({ "type": "apiKey", "in": "cookie", "name": "__Host-session" })
        );
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let method = method.to_uppercase();
                let security = operation["security"].as_array().expect("security is set");
                let needs_session = security.iter().any(|r| r.get("session").is_some());
                let req = test::TestRequest::default()
                    .method(method.parse().unwrap())
                    .uri(path);
                let status = test::call_service(&app, req.to_request()).await.status();
                assert_eq!(
                    status == StatusCode::UNAUTHORIZED,
                    needs_session,
                    "{method} {path}: {status}"
                );
                if needs_session {
                    assert!(operation["responses"]["401"].is_object(), "{method} {path}");
                }
                documented.push(format!("{method} {path}"));
            }
        }
        let mut served: Vec<String> = access::manifest()
            .into_iter()
            .filter(|entry| entry.module() == "examples::api")
            .flat_map(|entry| entry.routes().iter().map(ToString::to_string))
            .collect();
        served.sort();
        documented.sort();
        assert_eq!(documented, served);
        let reports_op = &doc["paths"]["/api/reports"]["get"];
        assert_eq!(
            reports_op["x-session-rule"],
            "any(role=admin, role=analyst)"
        );
        assert!(reports_op["responses"]["403"].is_object());
        assert!(doc["paths"]["/api/me"]["get"]["responses"]["403"].is_null());
        assert_eq!(doc["paths"]["/api/login"]["post"]["security"], json!([]));
    }

    #[actix_web::test]
    async fn login_returns_user_and_roles_and_sets_the_cookie() {
        let app = service!();
        let (status, body, cookie) = call!(&app, login_req("alice", "alice-password"));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "user": "alice", "roles": ["admin"] }));
        let cookie = cookie.unwrap();
        assert_eq!(cookie.http_only(), Some(true));
        let get = test::TestRequest::get().uri("/api/me").cookie(cookie);
        let (status, body, _) = call!(&app, get);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"], "alice");
    }

    #[actix_web::test]
    async fn wrong_password_and_unknown_user_get_the_same_401() {
        let app = service!();
        for (user, password) in [("alice", "bob-password"), ("mallory", "alice-password")] {
            let (status, body, cookie) = call!(&app, login_req(user, password));
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{user}");
            assert_eq!(body, json!({ "error": "invalid_credentials" }));
            assert!(cookie.is_none());
        }
    }

    #[actix_web::test]
    async fn anonymous_requests_get_401_json_even_from_browsers() {
        let app = service!();
        for uri in ["/api/me", "/api/reports", "/api/admin/users"] {
            let req = test::TestRequest::get()
                .uri(uri)
                .insert_header((header::ACCEPT, "text/html"));
            let (status, body, _) = call!(&app, req);
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
            assert_eq!(body, json!({ "error": "unauthenticated" }));
        }
    }

    #[actix_web::test]
    async fn role_guards_answer_403_json_to_users_without_the_role() {
        let app = service!();
        let table = [
            ("alice", "/api/reports", StatusCode::OK),
            ("bob", "/api/reports", StatusCode::OK),
            ("carol", "/api/reports", StatusCode::FORBIDDEN),
            ("alice", "/api/admin/users", StatusCode::OK),
            ("bob", "/api/admin/users", StatusCode::FORBIDDEN),
        ];
        for (user, uri, want) in table {
            let cookie = login_as!(&app, user);
            let req = test::TestRequest::get().uri(uri).cookie(cookie);
            let (status, body, _) = call!(&app, req);
            assert_eq!(status, want, "{user} {uri}");
            if want == StatusCode::FORBIDDEN {
                assert_eq!(body, json!({ "error": "forbidden" }));
            }
        }
    }

    #[actix_web::test]
    async fn login_takes_json_only() {
        let app = service!();
        let form = test::TestRequest::post()
            .uri("/api/login")
            .set_form([("username", "alice"), ("password", "alice-password")]);
        let (status, body, cookie) = call!(&app, form);
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["error"], "bad_request");
        assert!(cookie.is_none());
    }

    #[actix_web::test]
    async fn logout_takes_json_only() {
        let app = service!();
        let cookie = login_as!(&app, "bob");
        let logout_request = || {
            test::TestRequest::post()
                .uri("/api/logout")
                .cookie(cookie.clone())
        };
        let refused = [
            logout_request(),
            logout_request().set_form([("x", "1")]),
            logout_request().insert_header((header::CONTENT_TYPE, "text/plain")),
        ];
        for req in refused {
            let (status, body, removal) = call!(&app, req);
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert_eq!(body["error"], "bad_request");
            assert!(removal.is_none(), "the session is not ended");
        }
        let who = test::TestRequest::get().uri("/api/me").cookie(cookie);
        assert_eq!(call!(&app, who).0, StatusCode::OK);
    }

    #[actix_web::test]
    async fn logout_removes_the_cookie() {
        let app = service!();
        let cookie = login_as!(&app, "bob");
        let req = test::TestRequest::post()
            .uri("/api/logout")
            .cookie(cookie)
            .set_json(json!({}));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let removal = session_cookie(&res).expect("a removal cookie");
        assert_eq!(removal.value(), "");
        assert_eq!(
            removal.max_age(),
            Some(actix_web::cookie::time::Duration::ZERO)
        );
    }

    #[actix_web::test]
    async fn past_the_limit_logins_get_429_json_before_any_password_check() {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let state = state_on(&clock);
        let app = test::init_service(app(state.clone(), auth(&state))).await;
        // A known and an unknown name: the same answers, in the same order.
        for user in ["bob", "mallory"] {
            for _ in 0..5 {
                let (status, _, _) = call!(&app, login_req(user, "guess"));
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{user}");
            }
            let checked = state.passwords.verifications();
            for accept in ["application/json", "text/html"] {
                let req = login_req(user, "bob-password").insert_header((header::ACCEPT, accept));
                let res = test::call_service(&app, req.to_request()).await;
                assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{user}");
                assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "60");
                let body: Value = test::read_body_json(res).await;
                assert_eq!(
                    body,
                    json!({ "error": "too_many_attempts", "retry_after": 60 }),
                    "{user} {accept}: JSON even for browsers"
                );
            }
            assert_eq!(
                state.passwords.verifications(),
                checked,
                "{user}: refused before the password check"
            );
        }
        let (status, _, _) = call!(&app, login_req("alice", "alice-password"));
        assert_eq!(status, StatusCode::OK, "other accounts are not affected");
        clock.advance(Duration::from_secs(60));
        let (status, body, _) = call!(&app, login_req("bob", "bob-password"));
        assert_eq!(status, StatusCode::OK, "after the wait");
        assert_eq!(body["user"], "bob");
    }
}
