//! The attribute macros end to end: every form against signed-in, anonymous (browser and API) and
//! refused requests, through a real actix service with the session middleware.

use std::sync::Arc;

use actix_web::{
    body::BoxBody,
    cookie::Cookie,
    dev::ServiceResponse,
    get,
    http::header,
    post,
    test::{self, TestRequest},
    web, Responder,
};
use session_core::{clock::ManualClock, prelude::*};
use tests::{auth, call, clock, login, routes, test_app, TestApp};

// ---------------------------------------------------------------------------------------------
// Handlers: one per accepted form. Each answers with a short body naming itself (or the user).

enum Role {
    Admin,
}

impl RoleName for Role {
    fn role_name(&self) -> &str {
        match self {
            Role::Admin => "admin",
        }
    }
}

fn is_alice(user: &AuthUser) -> bool {
    user.id() == "alice"
}

#[get("/plain")]
#[login_required]
async fn plain(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[login_required(redirect = "/signin")] // above the route attribute
#[get("/redirect")]
async fn custom_redirect() -> impl Responder {
    "redirect"
}

#[get("/status")]
#[login_required(status = 401)]
async fn custom_status() -> impl Responder {
    "status"
}

#[get("/login-form")]
#[skip_if_authenticated]
async fn login_form() -> impl Responder {
    "login form"
}

#[get("/register")]
#[skip_if_authenticated(redirect = "/dashboard")]
async fn register_form() -> impl Responder {
    "register form"
}

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> impl Responder {
    "admin"
}

#[get("/admin-typed")]
#[require_role(Role::Admin)]
async fn admin_typed() -> impl Responder {
    "admin typed"
}

#[get("/nested")]
#[authorize(any(role = "admin", all(role = "editor", not(role = "suspended"))))]
async fn nested() -> impl Responder {
    "nested"
}

#[get("/fresh")]
#[authorize(authenticated, fresh = 600)]
async fn fresh() -> impl Responder {
    "fresh"
}

#[get("/alice-only")]
#[authorize(check = is_alice)]
async fn alice_only() -> impl Responder {
    "alice only"
}

#[get("/stacked")]
#[login_required(redirect = "/signin")]
#[require_role("admin")]
#[authorize(not(role = "suspended"))]
async fn stacked(user: AuthUser) -> impl Responder {
    format!("stacked {}", user.id())
}

#[login_required]
#[get("/above")]
async fn above(user: AuthUser) -> impl Responder {
    format!("above {}", user.id())
}

#[get("/below")]
#[login_required]
async fn below(user: AuthUser) -> impl Responder {
    format!("below {}", user.id())
}

#[post("/echo")]
#[login_required]
async fn echo(body: web::Json<serde_json::Value>) -> impl Responder {
    body.to_string()
}

// `instrument` expands after the guard is injected, and records it with `Debug`.
#[get("/traced")]
#[login_required]
#[tracing::instrument(skip(user))]
async fn traced(user: AuthUser) -> impl Responder {
    format!("traced {}", user.id())
}

// The guard hands its user over (the `AuthUser` parameter is folded into the guard's extractor)
// whatever the pattern; a handler whose first parameter is something else keeps its own
// `AuthUser` extractor.
#[get("/folded-mut")]
#[login_required]
async fn folded_mut(mut user: AuthUser) -> impl Responder {
    format!("folded mut {}", first_role(&mut user))
}

fn first_role(user: &mut AuthUser) -> &str {
    user.roles().first().map_or("none", String::as_str)
}

#[get("/folded-ignored")]
#[require_role("admin")]
async fn folded_ignored(_: AuthUser) -> impl Responder {
    "folded ignored"
}

#[get("/user-second")]
#[authorize(role = "admin")]
async fn user_second(req: actix_web::HttpRequest, user: AuthUser) -> impl Responder {
    format!("{} {}", req.path(), user.id())
}

/// How often `counted` ran: only the test of that route calls it.
static COUNTED_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[get("/counted")]
#[require_role("admin")]
async fn counted(user: AuthUser) -> impl Responder {
    COUNTED_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("counted {}", user.id())
}

/// Registered with `web::get().to(..)`, no route attribute.
#[require_role("admin")]
async fn plain_fn() -> impl Responder {
    "plain fn"
}

fn handlers(cfg: &mut web::ServiceConfig) {
    cfg.service(plain)
        .service(custom_redirect)
        .service(custom_status)
        .service(login_form)
        .service(register_form)
        .service(admin)
        .service(admin_typed)
        .service(nested)
        .service(fresh)
        .service(alice_only)
        .service(stacked)
        .service(above)
        .service(below)
        .service(echo)
        .service(traced)
        .service(folded_mut)
        .service(folded_ignored)
        .service(user_second)
        .service(counted)
        .route("/plain-fn", web::get().to(plain_fn));
}

// ---------------------------------------------------------------------------------------------
// Harness

async fn app(clock: &Arc<ManualClock>) -> TestApp {
    test_app(auth(clock), |cfg| {
        routes(cfg);
        handlers(cfg);
    })
    .await
}

/// Who sends a request, and what it accepts.
#[derive(Clone, Copy)]
enum Client<'a> {
    /// A browser navigation without a session (`Accept: text/html`).
    AnonymousHtml,
    /// An API call without a session (`Accept: application/json`).
    AnonymousJson,
    /// A browser navigation with this session cookie.
    Html(&'a Cookie<'static>),
    /// An API call with this session cookie.
    Json(&'a Cookie<'static>),
}

impl Client<'_> {
    fn request(self, req: TestRequest) -> TestRequest {
        let (accept, cookie) = match self {
            Client::AnonymousHtml => ("text/html", None),
            Client::AnonymousJson => ("application/json", None),
            Client::Html(cookie) => ("text/html", Some(cookie)),
            Client::Json(cookie) => ("application/json", Some(cookie)),
        };
        let req = req.insert_header((header::ACCEPT, accept));
        match cookie {
            Some(cookie) => req.cookie(cookie.clone()),
            None => req,
        }
    }
}

/// A response as the tests compare it: the status, then the `Location` header when there is one,
/// else the body.
async fn answer(res: ServiceResponse<BoxBody>) -> (u16, String) {
    let status = res.status().as_u16();
    if let Some(location) = res.headers().get(header::LOCATION) {
        return (
            status,
            location.to_str().expect("ASCII location").to_owned(),
        );
    }
    let body = test::read_body(res).await;
    (
        status,
        String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    )
}

async fn get(app: &TestApp, client: Client<'_>, path: &str) -> (u16, String) {
    let req = client.request(tests::get(path));
    answer(call(app, req).await).await
}

async fn post_json(
    app: &TestApp,
    client: Client<'_>,
    path: &str,
    body: &'static str,
) -> (u16, String) {
    let req = tests::post(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body);
    answer(call(app, client.request(req)).await).await
}

fn ok(body: &str) -> (u16, String) {
    (200, body.to_owned())
}

fn see_other(location: &str) -> (u16, String) {
    (303, location.to_owned())
}

fn json_error(status: u16, error: &str) -> (u16, String) {
    (status, format!(r#"{{"error":"{error}"}}"#))
}

// ---------------------------------------------------------------------------------------------
// Behaviour

#[actix_web::test]
async fn signed_in_user_passes_every_requiring_form() {
    let c = clock();
    let app = app(&c).await;
    let alice = login(&app, "/login?id=alice&roles=admin,editor").await;
    let cases = [
        ("/plain", ok("alice")),
        ("/redirect", ok("redirect")),
        ("/status", ok("status")),
        ("/admin", ok("admin")),
        ("/admin-typed", ok("admin typed")),
        ("/nested", ok("nested")),
        ("/fresh", ok("fresh")),
        ("/alice-only", ok("alice only")),
        ("/stacked", ok("stacked alice")),
        ("/above", ok("above alice")),
        ("/below", ok("below alice")),
        ("/traced", ok("traced alice")),
        ("/plain-fn", ok("plain fn")),
    ];
    for (path, want) in cases {
        for client in [Client::Html(&alice), Client::Json(&alice)] {
            assert_eq!(get(&app, client, path).await, want, "{path}");
        }
    }
}

#[actix_web::test]
async fn anonymous_browser_is_redirected_to_login_with_next() {
    let c = clock();
    let app = app(&c).await;
    let cases = [
        ("/plain", see_other("/login?next=/plain")),
        ("/plain?tab=2", see_other("/login?next=/plain%3Ftab%3D2")),
        ("/redirect", see_other("/signin?next=/redirect")),
        ("/admin", see_other("/login?next=/admin")),
        ("/admin-typed", see_other("/login?next=/admin-typed")),
        ("/nested", see_other("/login?next=/nested")),
        ("/fresh", see_other("/login?next=/fresh")),
        ("/alice-only", see_other("/login?next=/alice-only")),
        ("/stacked", see_other("/signin?next=/stacked")),
        ("/above", see_other("/login?next=/above")),
        ("/below", see_other("/login?next=/below")),
        ("/traced", see_other("/login?next=/traced")),
        ("/plain-fn", see_other("/login?next=/plain-fn")),
    ];
    for (path, want) in cases {
        assert_eq!(get(&app, Client::AnonymousHtml, path).await, want, "{path}");
    }
}

#[actix_web::test]
async fn anonymous_api_call_gets_401_json() {
    let c = clock();
    let app = app(&c).await;
    let unauthenticated = json_error(401, "unauthenticated");
    let cases = [
        ("/plain", unauthenticated.clone()),
        ("/status", unauthenticated.clone()),
        ("/admin", unauthenticated.clone()),
        ("/admin-typed", unauthenticated.clone()),
        ("/nested", unauthenticated.clone()),
        ("/fresh", unauthenticated.clone()),
        ("/alice-only", unauthenticated.clone()),
        ("/above", unauthenticated.clone()),
        ("/below", unauthenticated.clone()),
        ("/traced", unauthenticated.clone()),
        ("/plain-fn", unauthenticated.clone()),
        // An explicit `redirect` redirects every client.
        ("/redirect", see_other("/signin?next=/redirect")),
        ("/stacked", see_other("/signin?next=/stacked")),
    ];
    for (path, want) in cases {
        assert_eq!(get(&app, Client::AnonymousJson, path).await, want, "{path}");
    }
}

#[actix_web::test]
async fn status_override_answers_browsers_with_that_status_too() {
    let c = clock();
    let app = app(&c).await;
    let (status, body) = get(&app, Client::AnonymousHtml, "/status").await;
    assert_eq!(status, 401);
    assert!(body.starts_with("<!doctype html>"), "{body}");
}

#[actix_web::test]
async fn signed_in_user_without_the_role_gets_403() {
    let c = clock();
    let app = app(&c).await;
    let bob = login(&app, "/login?id=bob&roles=viewer").await;
    for path in [
        "/admin",
        "/admin-typed",
        "/nested",
        "/alice-only",
        "/stacked",
        "/plain-fn",
    ] {
        let json = get(&app, Client::Json(&bob), path).await;
        assert_eq!(json, json_error(403, "forbidden"), "{path}");
        let (status, body) = get(&app, Client::Html(&bob), path).await;
        assert_eq!(status, 403, "{path}");
        assert!(body.contains("403 Forbidden"), "{path}: {body}");
    }
}

#[actix_web::test]
async fn nested_rule_truth_table() {
    // any(role = "admin", all(role = "editor", not(role = "suspended")))
    let cases: [(&[&str], bool); 8] = [
        (&[], false),
        (&["viewer"], false),
        (&["admin"], true),
        (&["admin", "suspended"], true),
        (&["editor"], true),
        (&["editor", "suspended"], false),
        (&["suspended"], false),
        (&["editor", "viewer"], true),
    ];
    let c = clock();
    let app = app(&c).await;
    for (roles, allowed) in cases {
        let cookie = login(&app, &format!("/login?id=u&roles={}", roles.join(","))).await;
        let want = match allowed {
            true => ok("nested"),
            false => json_error(403, "forbidden"),
        };
        assert_eq!(
            get(&app, Client::Json(&cookie), "/nested").await,
            want,
            "{roles:?}"
        );
    }
}

#[actix_web::test]
async fn fresh_login_passes_until_the_window_closes_then_asks_to_reauthenticate() {
    let c = clock();
    let app = app(&c).await;
    let alice = login(&app, "/login?id=alice").await;
    c.advance(std::time::Duration::from_secs(600));
    assert_eq!(
        get(&app, Client::Json(&alice), "/fresh").await,
        ok("fresh"),
        "at the edge"
    );
    c.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        get(&app, Client::Json(&alice), "/fresh").await,
        json_error(401, "reauthenticate")
    );
    assert_eq!(
        get(&app, Client::Html(&alice), "/fresh").await,
        see_other("/login?next=/fresh&reason=reauthenticate")
    );
    assert_eq!(
        get(&app, Client::Json(&alice), "/plain").await,
        ok("alice"),
        "still signed in"
    );
}

#[actix_web::test]
async fn reauthentication_request_reaches_the_skip_if_authenticated_login_page() {
    let c = clock();
    let app = app(&c).await;
    let alice = login(&app, "/login?id=alice").await;
    c.advance(std::time::Duration::from_secs(601));
    assert_eq!(
        get(&app, Client::Html(&alice), "/fresh").await,
        see_other("/login?next=/fresh&reason=reauthenticate")
    );
    // The page behind `login_url` carries #[skip_if_authenticated]: the same query lets the
    // signed-in user through to confirm the password; without it they are still sent home.
    for client in [Client::Html(&alice), Client::Json(&alice)] {
        assert_eq!(
            get(
                &app,
                client,
                "/login-form?next=/fresh&reason=reauthenticate"
            )
            .await,
            ok("login form")
        );
        assert_eq!(
            get(&app, client, "/login-form?next=/fresh&reason=other").await,
            see_other("/")
        );
        assert_eq!(
            get(&app, client, "/login-form?xreason=reauthenticate").await,
            see_other("/")
        );
    }
}

#[actix_web::test]
async fn check_fn_decides() {
    let c = clock();
    let app = app(&c).await;
    for (id, want) in [
        ("alice", ok("alice only")),
        ("bob", json_error(403, "forbidden")),
    ] {
        let cookie = login(&app, &format!("/login?id={id}&roles=admin")).await;
        assert_eq!(
            get(&app, Client::Json(&cookie), "/alice-only").await,
            want,
            "{id}"
        );
    }
}

#[actix_web::test]
async fn skip_if_authenticated_admits_anonymous_visitors() {
    let c = clock();
    let app = app(&c).await;
    for client in [Client::AnonymousHtml, Client::AnonymousJson] {
        assert_eq!(get(&app, client, "/login-form").await, ok("login form"));
        assert_eq!(get(&app, client, "/register").await, ok("register form"));
    }
}

#[actix_web::test]
async fn skip_if_authenticated_sends_signed_in_users_home_or_to_its_redirect() {
    let c = clock();
    let app = app(&c).await;
    let alice = login(&app, "/login?id=alice").await;
    for client in [Client::Html(&alice), Client::Json(&alice)] {
        assert_eq!(get(&app, client, "/login-form").await, see_other("/"));
        assert_eq!(
            get(&app, client, "/register").await,
            see_other("/dashboard")
        );
    }
}

#[actix_web::test]
async fn stacked_attributes_combine_with_and_and_run_top_to_bottom() {
    let c = clock();
    let app = app(&c).await;
    // #[login_required(redirect = "/signin")] runs first: its redirect wins for anonymous calls,
    // even over #[require_role]'s 401 for API clients.
    assert_eq!(
        get(&app, Client::AnonymousJson, "/stacked").await,
        see_other("/signin?next=/stacked")
    );
    let cases: [(&[&str], (u16, String)); 4] = [
        (&["viewer"], json_error(403, "forbidden")),
        (&["suspended"], json_error(403, "forbidden")),
        (&["admin", "suspended"], json_error(403, "forbidden")),
        (&["admin"], ok("stacked u")),
    ];
    for (roles, want) in cases {
        let cookie = login(&app, &format!("/login?id=u&roles={}", roles.join(","))).await;
        assert_eq!(
            get(&app, Client::Json(&cookie), "/stacked").await,
            want,
            "{roles:?}"
        );
    }
}

#[actix_web::test]
async fn attribute_above_and_below_the_route_attribute_behave_alike() {
    let c = clock();
    let app = app(&c).await;
    let alice = login(&app, "/login?id=alice").await;
    for position in ["above", "below"] {
        let path = format!("/{position}");
        assert_eq!(
            get(&app, Client::AnonymousHtml, &path).await,
            see_other(&format!("/login?next={path}"))
        );
        assert_eq!(
            get(&app, Client::AnonymousJson, &path).await,
            json_error(401, "unauthenticated")
        );
        assert_eq!(
            get(&app, Client::Json(&alice), &path).await,
            ok(&format!("{position} alice"))
        );
    }
}

#[actix_web::test]
async fn denied_request_is_answered_before_its_body_is_read() {
    let c = clock();
    let app = app(&c).await;
    let broken = "{not json";
    assert_eq!(
        post_json(&app, Client::AnonymousJson, "/echo", broken).await,
        json_error(401, "unauthenticated"),
        "the deny response, not the Json extractor's 400"
    );
    assert_eq!(
        post_json(&app, Client::AnonymousHtml, "/echo", broken).await,
        see_other("/login?next=/echo")
    );
    let alice = login(&app, "/login?id=alice").await;
    let (status, _) = post_json(&app, Client::Json(&alice), "/echo", broken).await;
    assert_eq!(status, 400, "once admitted, the body is read");
    assert_eq!(
        post_json(&app, Client::Json(&alice), "/echo", r#"{"a":1}"#).await,
        ok(r#"{"a":1}"#)
    );
}

#[actix_web::test]
async fn the_guard_hands_its_user_to_the_handler_whatever_the_pattern() {
    let c = clock();
    let app = app(&c).await;
    let alice = login(&app, "/login?id=alice&roles=admin").await;
    let bob = login(&app, "/login?id=bob&roles=viewer").await;
    let cases = [
        (Client::Json(&alice), "/folded-mut", ok("folded mut admin")),
        (Client::Json(&bob), "/folded-mut", ok("folded mut viewer")),
        (
            Client::AnonymousJson,
            "/folded-mut",
            json_error(401, "unauthenticated"),
        ),
        (
            Client::Json(&alice),
            "/folded-ignored",
            ok("folded ignored"),
        ),
        (
            Client::Json(&bob),
            "/folded-ignored",
            json_error(403, "forbidden"),
        ),
        (
            Client::AnonymousJson,
            "/folded-ignored",
            json_error(401, "unauthenticated"),
        ),
        // Not the first parameter: the guard and the `AuthUser` extractor each do their part.
        (
            Client::Json(&alice),
            "/user-second",
            ok("/user-second alice"),
        ),
        (
            Client::Json(&bob),
            "/user-second",
            json_error(403, "forbidden"),
        ),
        (
            Client::AnonymousHtml,
            "/user-second",
            see_other("/login?next=/user-second"),
        ),
    ];
    for (client, path, want) in cases {
        assert_eq!(get(&app, client, path).await, want, "{path}");
    }
}

#[actix_web::test]
async fn a_denied_request_never_reaches_a_handler_that_takes_the_user() {
    use std::sync::atomic::Ordering;
    let c = clock();
    let app = app(&c).await;
    let viewer = login(&app, "/login?id=bob&roles=viewer").await;
    let alice = login(&app, "/login?id=alice&roles=admin").await;
    let before = COUNTED_RUNS.load(Ordering::SeqCst);
    let denials = [
        (Client::AnonymousJson, json_error(401, "unauthenticated")),
        (Client::AnonymousHtml, see_other("/login?next=/counted")),
        (Client::Json(&viewer), json_error(403, "forbidden")),
    ];
    for (client, want) in denials {
        assert_eq!(get(&app, client, "/counted").await, want);
    }
    assert_eq!(
        COUNTED_RUNS.load(Ordering::SeqCst),
        before,
        "a denied request ran it"
    );
    assert_eq!(
        get(&app, Client::Json(&alice), "/counted").await,
        ok("counted alice")
    );
    assert_eq!(COUNTED_RUNS.load(Ordering::SeqCst), before + 1);
}
