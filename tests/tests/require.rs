//! `Require` scope middleware and the shared rule evaluator: truth tables and deny responses.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use actix_web::{
    cookie::Cookie,
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use session_core::{AuthUser, Guard, Require, Rule};
use tests::{auth, clock, routes, session_cookie};

fn is_alice(user: &AuthUser) -> bool {
    user.id() == "alice"
}

/// The DESIGN.md example: `any(role = "admin", all(role = "editor", not(role = "suspended")))`.
fn nested() -> Rule {
    Rule::any([
        Rule::role("admin"),
        Rule::all([Rule::role("editor"), Rule::not(Rule::role("suspended"))]),
    ])
}

macro_rules! app_with {
    ($clock:expr, $require:expr, $hits:expr) => {{
        let hits = $hits.clone();
        test::init_service(App::new().wrap(auth(&$clock)).configure(routes).service(
            web::scope("/guarded").wrap($require).route(
                "/json",
                web::post().to(move |body: web::Json<serde_json::Value>| {
                    hits.fetch_add(1, Ordering::SeqCst);
                    async move { HttpResponse::Ok().json(body.into_inner()) }
                }),
            ),
        ))
        .await
    }};
}

macro_rules! login {
    ($app:expr, $query:expr) => {{
        let req = TestRequest::post()
            .uri(&format!("/login?{}", $query))
            .to_request();
        session_cookie(&test::call_service(&$app, req).await).expect("login cookie")
    }};
}

fn post_json(
    cookie: Option<&Cookie<'static>>,
    body: &'static str,
    html: bool,
) -> actix_http::Request {
    let mut req = TestRequest::post()
        .uri("/guarded/json")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body);
    if html {
        req = req.insert_header((header::ACCEPT, "text/html"));
    }
    if let Some(cookie) = cookie {
        req = req.cookie(cookie.clone());
    }
    req.to_request()
}

#[actix_web::test]
async fn nested_rule_truth_table() {
    let cases = [
        ("admin", true),
        ("admin,suspended", true),
        ("editor", true),
        ("editor,suspended", false),
        ("suspended", false),
        ("", false),
        ("viewer", false),
    ];
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app_with!(c, Require::rule(nested()), hits);
    for (roles, allowed) in cases {
        let cookie = login!(app, format!("id=u&roles={roles}"));
        let res = test::call_service(&app, post_json(Some(&cookie), "{}", false)).await;
        let want = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(res.status(), want, "roles {roles:?}");
        if !allowed {
            let body: serde_json::Value = test::read_body_json(res).await;
            assert_eq!(body, serde_json::json!({"error": "forbidden"}));
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[actix_web::test]
async fn denied_request_never_reads_the_body_nor_runs_the_handler() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app_with!(c, Require::authenticated(), hits);
    let res = test::call_service(&app, post_json(None, "{not json", false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "deny, not 400");
    let res = test::call_service(&app, post_json(None, "{not json", true)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/login?next=/guarded/json"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let cookie = login!(app, "id=a");
    let res = test::call_service(&app, post_json(Some(&cookie), "{not json", false)).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "allowed: the body is read"
    );
}

#[actix_web::test]
async fn wrong_role_html_gets_a_403_page() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app_with!(c, Require::role("admin"), hits);
    let cookie = login!(app, "id=a&roles=editor");
    let res = test::call_service(&app, post_json(Some(&cookie), "{}", true)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res
        .headers()
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[actix_web::test]
async fn check_fn_decides() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app_with!(c, Require::rule(Rule::check(is_alice)), hits);
    for (id, want) in [("alice", StatusCode::OK), ("bob", StatusCode::FORBIDDEN)] {
        let cookie = login!(app, format!("id={id}"));
        let res = test::call_service(&app, post_json(Some(&cookie), "{}", false)).await;
        assert_eq!(res.status(), want, "{id}");
    }
}

#[actix_web::test]
async fn fresh_outside_the_window_asks_to_reauthenticate() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let rule = Rule::all([Rule::role("admin"), Rule::fresh(300)]);
    let app = app_with!(c, Require::rule(rule), hits);
    let admin = login!(app, "id=a&roles=admin");
    let viewer = login!(app, "id=v&roles=viewer");
    c.advance(std::time::Duration::from_secs(300));
    let res = test::call_service(&app, post_json(Some(&admin), "{}", false)).await;
    assert_eq!(res.status(), StatusCode::OK, "at the window's edge");
    c.advance(std::time::Duration::from_secs(1));
    let res = test::call_service(&app, post_json(Some(&admin), "{}", false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body, serde_json::json!({"error": "reauthenticate"}));
    let res = test::call_service(&app, post_json(Some(&admin), "{}", true)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/login?next=/guarded/json&reason=reauthenticate"
    );
    let res = test::call_service(&app, post_json(Some(&viewer), "{}", false)).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a wrong role stays forbidden"
    );
}

#[actix_web::test]
async fn guard_overrides_status_and_redirect() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app_with!(
        c,
        Require::guard(Guard::require(Rule::role("admin")).status(404)),
        hits
    );
    let res = test::call_service(&app, post_json(None, "{}", false)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let app = app_with!(
        c,
        Require::guard(Guard::require(Rule::authenticated()).redirect("/signin")),
        hits
    );
    let res = test::call_service(&app, post_json(None, "{}", false)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/signin?next=/guarded/json"
    );
}

#[actix_web::test]
async fn hostile_request_path_is_not_echoed_into_next() {
    let c = clock();
    let app = test::init_service(
        App::new()
            .wrap(auth(&c))
            .default_service(web::to(HttpResponse::Ok).wrap(Require::authenticated())),
    )
    .await;
    let req = TestRequest::get()
        .uri("//evil.com/x")
        .insert_header((header::ACCEPT, "text/html"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/login");
}

#[test]
fn safe_next_refuses_open_redirects() {
    use session_core::safe_next;
    for bad in [
        "//evil.com",
        "/\\evil.com",
        "\\/evil.com",
        "https:evil.com",
        "%2F%2Fevil.com",
        "/\tx",
        "javascript:x",
    ] {
        assert_eq!(safe_next(bad), None, "{bad:?}");
    }
    for good in ["/", "/dashboard", "/a/b?x=1&y=%20"] {
        assert_eq!(safe_next(good), Some(good));
    }
}
