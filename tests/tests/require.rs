//! `Require` scope middleware and the shared rule evaluator: truth tables and deny responses.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use actix_web::{
    cookie::Cookie,
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, HttpResponse,
};
use session_core::{clock::ManualClock, AuthUser, Guard, GuardBuilder, GuardError, Require, Rule};
use tests::{auth, call, clock, get, login, post, routes, test_app, TestApp};

fn is_alice(user: &AuthUser) -> bool {
    user.id() == "alice"
}

/// The README's nested rule: `any(role = "admin", all(role = "editor", not(role = "suspended")))`.
fn nested() -> Rule {
    Rule::any([
        Rule::role("admin"),
        Rule::all([Rule::role("editor"), Rule::not(Rule::role("suspended"))]),
    ])
}

/// The test routes, and `POST /guarded/json` behind `require`, echoing its JSON body and
/// counting its runs in `hits`.
async fn app_with(clock: &Arc<ManualClock>, require: Require, hits: &Arc<AtomicUsize>) -> TestApp {
    let hits = hits.clone();
    test_app(auth(clock), |cfg| {
        routes(cfg);
        cfg.service(web::scope("/guarded").wrap(require).route(
            "/json",
            web::post().to(move |body: web::Json<serde_json::Value>| {
                hits.fetch_add(1, Ordering::SeqCst);
                async move { HttpResponse::Ok().json(body.into_inner()) }
            }),
        ));
    })
    .await
}

fn post_json(cookie: Option<&Cookie<'static>>, body: &'static str, html: bool) -> TestRequest {
    let mut req = post("/guarded/json")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body);
    if html {
        req = req.insert_header((header::ACCEPT, "text/html"));
    }
    if let Some(cookie) = cookie {
        req = req.cookie(cookie.clone());
    }
    req
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
    let app = app_with(&c, Require::rule(nested()), &hits).await;
    for (roles, allowed) in cases {
        let cookie = login(&app, &format!("/login?id=u&roles={roles}")).await;
        let res = call(&app, post_json(Some(&cookie), "{}", false)).await;
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
    let app = app_with(&c, Require::authenticated(), &hits).await;
    let res = call(&app, post_json(None, "{not json", false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "deny, not 400");
    let res = call(&app, post_json(None, "{not json", true)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/login?next=/guarded/json"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let cookie = login(&app, "/login?id=a").await;
    let res = call(&app, post_json(Some(&cookie), "{not json", false)).await;
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
    let app = app_with(&c, Require::role("admin"), &hits).await;
    let cookie = login(&app, "/login?id=a&roles=editor").await;
    let res = call(&app, post_json(Some(&cookie), "{}", true)).await;
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
    let app = app_with(&c, Require::rule(Rule::check(is_alice)), &hits).await;
    for (id, want) in [("alice", StatusCode::OK), ("bob", StatusCode::FORBIDDEN)] {
        let cookie = login(&app, &format!("/login?id={id}")).await;
        let res = call(&app, post_json(Some(&cookie), "{}", false)).await;
        assert_eq!(res.status(), want, "{id}");
    }
}

#[actix_web::test]
async fn fresh_outside_the_window_asks_to_reauthenticate() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let rule = Rule::all([Rule::role("admin"), Rule::fresh(300)]);
    let app = app_with(&c, Require::rule(rule), &hits).await;
    let admin = login(&app, "/login?id=a&roles=admin").await;
    let viewer = login(&app, "/login?id=v&roles=viewer").await;
    c.advance(std::time::Duration::from_secs(300));
    let res = call(&app, post_json(Some(&admin), "{}", false)).await;
    assert_eq!(res.status(), StatusCode::OK, "at the window's edge");
    c.advance(std::time::Duration::from_secs(1));
    let res = call(&app, post_json(Some(&admin), "{}", false)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body, serde_json::json!({"error": "reauthenticate"}));
    let res = call(&app, post_json(Some(&admin), "{}", true)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/login?next=/guarded/json&reason=reauthenticate"
    );
    let res = call(&app, post_json(Some(&viewer), "{}", false)).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a wrong role stays forbidden"
    );
}

/// Every accepted answer is the one denials get.
#[actix_web::test]
async fn guard_overrides_status_and_redirect() {
    let c = clock();
    let hits = Arc::new(AtomicUsize::new(0));
    let hidden = Guard::require(Rule::role("admin")).status(404).build();
    let app = app_with(
        &c,
        Require::guard(hidden.expect("404 is an error status")),
        &hits,
    )
    .await;
    let res = call(&app, post_json(None, "{}", false)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for (status, want) in [
        (None, StatusCode::SEE_OTHER),
        (Some(307), StatusCode::TEMPORARY_REDIRECT),
    ] {
        let mut guard = Guard::require(Rule::authenticated()).redirect("/signin");
        if let Some(status) = status {
            guard = guard.status(status);
        }
        let app = app_with(&c, Require::guard(guard.build().expect("accepted")), &hits).await;
        let res = call(&app, post_json(None, "{}", false)).await;
        assert_eq!(res.status(), want);
        assert_eq!(
            res.headers().get(header::LOCATION).unwrap(),
            "/signin?next=/guarded/json"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// `GuardBuilder::build` refuses what the macros refuse at compile time: a status that does not
/// deny (1xx, 2xx), a 3xx without a redirect, a non-redirect status with one, a redirect that
/// leaves the site. A `Require` takes only a built `Guard` (`tests/ui/require-unbuilt-guard.rs`),
/// so none of these ever guards a scope.
#[test]
fn guard_answers_are_checked_when_built() {
    const NOT_A_PATH: &str = "must be a same-origin path starting with `/`";
    const OTHER_HOST: &str = "must not start with `//` or `/\\` (another host); use a path";
    let require = || Guard::require(Rule::role("admin"));
    let skip = Guard::skip_if_authenticated;
    let status = |status, with_redirect| {
        Err(GuardError::Status {
            status,
            with_redirect,
        })
    };
    let redirect = |to: &str, problem| {
        Err(GuardError::Redirect {
            to: to.to_owned(),
            problem,
        })
    };
    let cases: Vec<(GuardBuilder, Result<(), GuardError>)> = vec![
        // Without a redirect: an error status only.
        (require().status(400), Ok(())),
        (require().status(401), Ok(())),
        (require().status(404), Ok(())),
        (require().status(599), Ok(())),
        (skip().status(404), Ok(())),
        (require().status(0), status(0, false)),
        (require().status(100), status(100, false)),
        (require().status(101), status(101, false)),
        (require().status(200), status(200, false)),
        (require().status(204), status(204, false)),
        (require().status(299), status(299, false)),
        (require().status(301), status(301, false)),
        (require().status(303), status(303, false)),
        (require().status(399), status(399, false)),
        (require().status(600), status(600, false)),
        (require().status(u16::MAX), status(u16::MAX, false)),
        (skip().status(200), status(200, false)),
        (skip().status(303), status(303, false)),
        // With a redirect: a redirect status only, whichever is set first.
        (require().redirect("/signin"), Ok(())),
        (require().redirect("/signin").status(301), Ok(())),
        (require().redirect("/signin").status(302), Ok(())),
        (require().redirect("/signin").status(303), Ok(())),
        (require().redirect("/signin").status(307), Ok(())),
        (require().status(308).redirect("/signin"), Ok(())),
        (skip().redirect("/home"), Ok(())),
        (require().redirect("/signin").status(200), status(200, true)),
        (require().redirect("/signin").status(300), status(300, true)),
        (require().redirect("/signin").status(304), status(304, true)),
        (require().status(404).redirect("/signin"), status(404, true)),
        // The redirect target: a same-origin path (the rule of `safe_next`).
        (
            require().redirect("https://evil.example"),
            redirect("https://evil.example", NOT_A_PATH),
        ),
        (require().redirect("signin"), redirect("signin", NOT_A_PATH)),
        (
            skip().redirect("javascript:alert(1)"),
            redirect("javascript:alert(1)", NOT_A_PATH),
        ),
        (
            require().redirect("//evil.example"),
            redirect("//evil.example", OTHER_HOST),
        ),
        (
            require().redirect("/\\evil.example"),
            redirect("/\\evil.example", OTHER_HOST),
        ),
        (
            require().redirect("/%2F/evil.example"),
            redirect(
                "/%2F/evil.example",
                "must stay a same-origin path after percent-decoding",
            ),
        ),
        (
            require().redirect(""),
            redirect("", "must not be empty; use a path"),
        ),
        // A bad target is reported before the status.
        (
            require().redirect("//evil.example").status(200),
            redirect("//evil.example", OTHER_HOST),
        ),
    ];
    for (builder, want) in cases {
        let what = format!("{builder:?}");
        assert_eq!(builder.build().map(drop), want, "{what}");
    }
}

#[test]
fn guard_errors_say_what_is_wrong() {
    let cases = [
        (
            Guard::require(Rule::authenticated()).status(200),
            "invalid guard: status 200 must be an error status in 400..=599 (or, with a redirect, \
             a redirect status)",
        ),
        (
            Guard::require(Rule::authenticated())
                .redirect("/in")
                .status(404),
            "invalid guard: status 404 with a redirect must be a redirect status: 301, 302, 303, \
             307 or 308",
        ),
        (
            Guard::skip_if_authenticated().redirect("//evil.example"),
            "invalid guard: redirect target \"//evil.example\" must not start with `//` or `/\\` \
             (another host); use a path",
        ),
    ];
    for (builder, want) in cases {
        assert_eq!(builder.build().unwrap_err().to_string(), want);
    }
}

/// `TryFrom` is `build`.
#[test]
fn guard_try_from_builds() {
    let refused = Guard::try_from(Guard::require(Rule::authenticated()).status(204));
    assert!(refused.is_err());
    let accepted = Guard::try_from(Guard::require(Rule::authenticated()).status(403));
    assert!(accepted.is_ok());
}

#[actix_web::test]
async fn hostile_request_path_is_not_echoed_into_next() {
    let c = clock();
    let app = test_app(auth(&c), |cfg| {
        cfg.default_service(web::to(HttpResponse::Ok).wrap(Require::authenticated()));
    })
    .await;
    let req = get("//evil.com/x").insert_header((header::ACCEPT, "text/html"));
    let res = call(&app, req).await;
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
