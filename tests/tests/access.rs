//! The access manifest and the route × principal table, through the public API
//! (`session_core::access`).

use actix_web::{get, post, route, web, Responder};
use session_core::{
    access::{self, Entry, Principal, Reach},
    prelude::*,
};

/// The entries of the handlers below (the test binary links other crates' too).
fn here() -> Vec<&'static Entry> {
    access::manifest()
        .into_iter()
        .filter(|entry| entry.module() == module_path!())
        .collect()
}

fn entry(handler: &str) -> &'static Entry {
    here()
        .into_iter()
        .find(|e| e.handler() == handler)
        .unwrap_or_else(|| panic!("{handler} is not listed"))
}

const DASHBOARD_LINE: u32 = line!() + 3;
#[login_required]
#[get("/dashboard")]
async fn dashboard(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[authorize(any(role = "admin", permission = "notes:edit"), fresh = 600)]
#[require_role("staff")]
#[post("/notes/{id}")]
async fn edit_note(path: web::Path<u32>) -> impl Responder {
    path.into_inner().to_string()
}

#[public]
#[route("/health", method = "GET", method = "HEAD")]
async fn health() -> impl Responder {
    "ok"
}

#[skip_if_authenticated]
#[get("/login")]
async fn login_form() -> impl Responder {
    "form"
}

#[require_permission("reports:read")]
async fn plain_report() -> impl Responder {
    "report"
}

// The route attribute above the guard: actix's macro expands first and hides the route.
#[get("/below")]
#[require_role("admin")]
async fn route_above_guard() -> impl Responder {
    "below"
}

#[test]
fn every_guarded_or_public_handler_is_listed_once() {
    let _registered_by_hand = web::get().to(plain_report);
    let mut names: Vec<&str> = here().iter().map(|e| e.handler()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "dashboard",
            "edit_note",
            "health",
            "login_form",
            "plain_report",
            "route_above_guard"
        ]
    );
}

#[test]
fn entries_carry_method_path_rule_and_location() {
    let listed = entry("dashboard");
    let routes: Vec<String> = listed.routes().iter().map(|r| r.to_string()).collect();
    assert_eq!(routes, ["GET /dashboard"]);
    assert_eq!(listed.rule(), "authenticated");
    assert_eq!(listed.file(), file!());
    assert_eq!(listed.line(), DASHBOARD_LINE);
    assert_eq!(listed.location(), format!("{}:{DASHBOARD_LINE}", file!()));
    assert!(!listed.is_public());

    let listed_health = entry("health");
    let routes: Vec<(&str, &str)> = listed_health
        .routes()
        .iter()
        .map(|r| (r.method(), r.path()))
        .collect();
    assert_eq!(routes, [("GET", "/health"), ("HEAD", "/health")]);
    assert_eq!(listed_health.rule(), "public");
    assert!(listed_health.is_public());

    assert_eq!(entry("login_form").rule(), "anonymous");
}

#[test]
fn stacked_guards_make_one_entry_with_every_rule_in_order() {
    let edit = entry("edit_note");
    assert_eq!(edit.routes()[0].to_string(), "POST /notes/{id}");
    assert_eq!(
        edit.rule(),
        "all(all(any(role=admin, permission=notes:edit), fresh=600), role=staff)"
    );
}

#[test]
fn handlers_without_a_route_attribute_below_are_listed_without_routes() {
    assert!(entry("plain_report").routes().is_empty());
    assert_eq!(entry("plain_report").rule(), "permission=reports:read");
    assert!(entry("route_above_guard").routes().is_empty());
    assert_eq!(entry("route_above_guard").rule(), "role=admin");
}

#[test]
fn the_table_evaluates_each_route_for_each_principal() {
    let authz = Authorization::builder()
        .role("staff")
        .role("admin")
        .includes(["staff"])
        .grants(["reports:read"])
        .build()
        .unwrap();
    let principals = [
        Principal::anonymous(),
        Principal::user("member"),
        Principal::user("staff editor")
            .roles(["staff"])
            .permissions(["notes:edit"]),
        Principal::user("admin").roles(["admin"]),
        Principal::user("admin, long ago").roles(["admin"]).stale(),
    ];
    let table = access::table(here(), &principals, Some(&authz));
    let want = "\
| route | handler | rule | anonymous | member | staff editor | admin | admin, long ago |
| --- | --- | --- | --- | --- | --- | --- | --- |
| GET /dashboard | dashboard | authenticated | no: sign in | yes | yes | yes | yes |
| GET /health | health | public | yes | yes | yes | yes | yes |
| HEAD /health | health | public | yes | yes | yes | yes | yes |
| GET /login | login_form | anonymous | yes | no: signed in | no: signed in | no: signed in | no: signed in |
| POST /notes/{id} | edit_note | all(all(any(role=admin, permission=notes:edit), fresh=600), role=staff) | no: sign in | no: forbidden | yes | yes | no: reauthenticate |
| (route not seen by the attribute) | plain_report | permission=reports:read | no: sign in | no: forbidden | no: forbidden | yes | yes |
| (route not seen by the attribute) | route_above_guard | role=admin | no: sign in | no: forbidden | no: forbidden | yes | yes |
";
    assert_eq!(table.markdown(), want);
    assert_eq!(
        table.reach("POST", "/notes/{id}", "admin, long ago"),
        Some(&Reach::Reauthenticate)
    );
    let json = table.json();
    assert_eq!(json["principals"][0], "anonymous");
    let first = &json["routes"][0];
    assert_eq!(first["path"], "/dashboard");
    assert_eq!(first["handler"], "dashboard");
    assert_eq!(first["reach"]["anonymous"], "no: sign in");
    assert_eq!(first["location"], format!("{}:{DASHBOARD_LINE}", file!()));
}

mod deny_unlisted {
    //! `Require::deny_unlisted()`: undeclared routes answer 401 / 403, over HTTP.

    use actix_web::{get, http::StatusCode, web, HttpResponse, Responder};
    use session_core::{access, prelude::*};
    use tests::{auth, call, clock, get, login, routes, test_app, TestApp};

    #[login_required]
    #[get("/dash")]
    async fn dash(user: AuthUser) -> impl Responder {
        user.id().to_owned()
    }

    #[public]
    #[get("/open")]
    async fn open() -> impl Responder {
        "open"
    }

    #[get("/below")]
    #[login_required]
    async fn guard_below_route(user: AuthUser) -> impl Responder {
        user.id().to_owned()
    }

    #[get("/bare")]
    async fn bare() -> impl Responder {
        "bare"
    }

    /// `/app/..` behind the fallback, the harness's `/login` outside it.
    async fn app() -> TestApp {
        test_app(auth(&clock()), |cfg| {
            routes(cfg);
            cfg.service(
                web::scope("/app")
                    .wrap(Require::deny_unlisted().allow("/app/robots.txt"))
                    .configure(access::guarded(|routes| {
                        routes.service(dash).service(open);
                    }))
                    .service(guard_below_route)
                    .service(bare)
                    .route("/robots.txt", web::get().to(HttpResponse::Ok))
                    .route("/closure", web::get().to(HttpResponse::Ok))
                    .route("/dash", web::post().to(HttpResponse::Ok)),
            );
        })
        .await
    }

    /// (method, path, status anonymous, status signed in)
    const CASES: [(&str, &str, u16, u16); 8] = [
        ("GET", "/app/dash", 401, 200), // declared by its guard, which answers itself
        ("GET", "/app/open", 200, 200), // #[public]
        ("GET", "/app/robots.txt", 200, 200), // allowed by pattern
        ("GET", "/app/closure", 401, 403), // a closure nobody declared
        ("GET", "/app/bare", 401, 403), // a bare #[get] handler
        ("GET", "/app/below", 401, 403), // guard below the route attribute: not listed
        ("POST", "/app/dash", 401, 403), // the guarded handler is GET only
        ("GET", "/app/nothing-here", 404, 404), // unmatched: the default service
    ];

    #[actix_web::test]
    async fn undeclared_routes_answer_401_anonymous_and_403_signed_in() {
        let app = app().await;
        let cookie = login(&app, "/login?id=alice").await;
        for (method, path, anonymous, signed_in) in CASES {
            let method = method.parse().unwrap();
            let req = || get(path).method(actix_web::http::Method::clone(&method));
            let res = call(&app, req().insert_header(("accept", "application/json"))).await;
            assert_eq!(
                res.status().as_u16(),
                anonymous,
                "anonymous {method} {path}"
            );
            let res = call(&app, req().cookie(cookie.clone())).await;
            assert_eq!(
                res.status().as_u16(),
                signed_in,
                "signed in {method} {path}"
            );
        }
    }

    #[actix_web::test]
    async fn browsers_are_sent_to_sign_in() {
        let app = app().await;
        let res = call(
            &app,
            get("/app/closure").insert_header(("accept", "text/html")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
}
