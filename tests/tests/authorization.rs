//! The role table: a hierarchy of roles and the permissions they grant, seen through
//! `AuthUser`, `Require::role`, `Require::permission` and `Rule::permission`; the record's own
//! permissions (`User::permissions`); a cycle or an unknown role refused by `build()`.

use std::{collections::HashMap, convert::Infallible, sync::Arc};

use actix_web::{dev::HttpServiceFactory, get, http::StatusCode, web, HttpResponse, Responder};
use session_core::{
    authorize, clock::ManualClock, require_permission, require_role, AuthSession, AuthUser,
    Authorization, AuthorizationBuilder, ConfigError, PermissionName, Require, Rule, User,
    UserStore,
};
use tests::{builder, call, clock, get, login, routes, test_app, TestApp};

fn roles() -> AuthorizationBuilder {
    Authorization::builder()
        .role("admin")
        .includes(["editor"])
        .grants(["notes:delete"])
        .role("editor")
        .includes(["viewer"])
        .grants(["notes:edit"])
        .role("viewer")
        .grants(["notes:read"])
}

fn with_roles(clock: &Arc<ManualClock>) -> AuthSession {
    builder(clock).authorization(roles()).build().unwrap()
}

/// The table built on its own first, as when it is shared by several session configurations.
#[actix_web::test]
async fn a_built_table_works_the_same() {
    let table = roles().build().unwrap();
    let app = app(builder(&clock()).authorization(table).build().unwrap()).await;
    assert_eq!(status(&app, "admin", "/viewer/x").await, StatusCode::OK);
    assert_eq!(
        status(&app, "editor", "/delete/x").await,
        StatusCode::FORBIDDEN
    );
}

/// `GET /scope/{name}/x` behind each `Require`, and `GET /whoami` answering the user's
/// permissions and a few `has_role` answers.
async fn app(auth: AuthSession) -> TestApp {
    test_app(auth, |cfg| {
        routes(cfg);
        let ok = || web::get().to(|| async { HttpResponse::Ok().body("in") });
        cfg.service(
            web::scope("/viewer")
                .wrap(Require::role("viewer"))
                .route("/x", ok()),
        )
        .service(
            web::scope("/edit")
                .wrap(Require::permission("notes:edit"))
                .route("/x", ok()),
        )
        .service(
            web::scope("/delete")
                .wrap(Require::permission("notes:delete"))
                .route("/x", ok()),
        )
        .service(
            // Editors who are not admins (an admin includes editor, so `not(role=editor)`
            // alone would never hold for one).
            web::scope("/editor-only")
                .wrap(Require::rule(Rule::all([
                    Rule::permission("notes:edit"),
                    Rule::not(Rule::permission("notes:delete")),
                ])))
                .route("/x", ok()),
        )
        .route(
            "/whoami",
            web::get().to(|user: AuthUser| async move {
                HttpResponse::Ok().json(serde_json::json!({
                    "permissions": user.permissions(),
                    "viewer": user.has_role("viewer"),
                    "editor": user.has_role("editor"),
                    "admin": user.has_role("admin"),
                    "edit": user.has_permission("notes:edit"),
                }))
            }),
        );
    })
    .await
}

enum Perm {
    NotesDelete,
}

impl PermissionName for Perm {
    fn permission_name(&self) -> &str {
        match self {
            Perm::NotesDelete => "notes:delete",
        }
    }
}

#[get("/m/viewer")]
#[require_role("viewer")]
async fn m_viewer() -> impl Responder {
    "in"
}

#[get("/m/edit")]
#[require_permission("notes:edit")]
async fn m_edit() -> impl Responder {
    "in"
}

#[get("/m/delete")]
#[require_permission(Perm::NotesDelete, status = 404)]
async fn m_delete() -> impl Responder {
    "in"
}

#[get("/m/editor-only")]
#[authorize(all(permission = "notes:edit", not(permission = Perm::NotesDelete)))]
async fn m_editor_only() -> impl Responder {
    "in"
}

#[get("/m/fresh-editor")]
#[authorize(any(role = "admin", permission = "notes:edit"), fresh = 600)]
async fn m_fresh_editor() -> impl Responder {
    "in"
}

async fn status(app: &TestApp, roles: &str, path: &str) -> StatusCode {
    let cookie = login(app, &format!("/login?id=u&roles={roles}")).await;
    call(app, get(path).cookie(cookie)).await.status()
}

#[actix_web::test]
async fn hierarchy_and_permissions_truth_table() {
    let app = app(with_roles(&clock())).await;
    // (roles, viewer scope, edit scope, delete scope, editor-only scope)
    let cases: [(&str, [bool; 4]); 6] = [
        ("admin", [true, true, true, false]),
        ("editor", [true, true, false, true]),
        ("viewer", [true, false, false, false]),
        ("other", [false, false, false, false]),
        ("", [false, false, false, false]),
        ("viewer,other", [true, false, false, false]),
    ];
    for (roles, want) in cases {
        for (path, allowed) in ["/viewer/x", "/edit/x", "/delete/x", "/editor-only/x"]
            .into_iter()
            .zip(want)
        {
            let want = match allowed {
                true => StatusCode::OK,
                false => StatusCode::FORBIDDEN,
            };
            assert_eq!(status(&app, roles, path).await, want, "{roles:?} on {path}");
        }
    }
    let anonymous = call(&app, get("/edit/x")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// The macro atoms over the same table: `#[require_role]` follows the hierarchy,
/// `#[require_permission]` (string and typed, with `status = 404`), `permission = ..` inside
/// `#[authorize]` with `not` and `fresh`.
#[actix_web::test]
async fn macro_atoms_truth_table() {
    let c = clock();
    let app = test_app(with_roles(&c), |cfg| {
        routes(cfg);
        cfg.service(m_viewer)
            .service(m_edit)
            .service(m_delete)
            .service(m_editor_only)
            .service(m_fresh_editor);
    })
    .await;
    let (ok, no, hidden) = (StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND);
    let paths = [
        "/m/viewer",
        "/m/edit",
        "/m/delete",
        "/m/editor-only",
        "/m/fresh-editor",
    ];
    let cases = [
        ("admin", [ok, ok, ok, no, ok]),
        ("editor", [ok, ok, hidden, ok, ok]),
        ("viewer", [ok, no, hidden, no, no]),
        ("other", [no, no, hidden, no, no]),
    ];
    for (roles, want) in cases {
        for (path, want) in paths.into_iter().zip(want) {
            assert_eq!(status(&app, roles, path).await, want, "{roles:?} on {path}");
        }
    }
    // `fresh` still decides with a permission: 11 minutes after login the editor must sign in
    // again (401 for an API client), the viewer is still refused outright.
    let editor = login(&app, "/login?id=u&roles=editor").await;
    let viewer = login(&app, "/login?id=u&roles=viewer").await;
    c.advance(std::time::Duration::from_secs(660));
    let res = call(&app, get("/m/fresh-editor").cookie(editor)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = call(&app, get("/m/fresh-editor").cookie(viewer)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn auth_user_answers_through_the_hierarchy() {
    let app = app(with_roles(&clock())).await;
    let cookie = login(&app, "/login?id=u&roles=editor").await;
    let body: serde_json::Value =
        actix_web::test::read_body_json(call(&app, get("/whoami").cookie(cookie)).await).await;
    assert_eq!(
        body,
        serde_json::json!({
            "permissions": ["notes:edit", "notes:read"],
            "viewer": true, "editor": true, "admin": false, "edit": true,
        })
    );
}

#[actix_web::test]
async fn without_a_table_roles_stand_for_themselves() {
    let c = clock();
    let app = app(builder(&c).build().unwrap()).await;
    assert_eq!(
        status(&app, "admin", "/viewer/x").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(&app, "viewer", "/viewer/x").await, StatusCode::OK);
    assert_eq!(
        status(&app, "admin", "/edit/x").await,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn build_refuses_cycles_and_unknown_roles_naming_them() {
    let c = clock();
    let cycle = Authorization::builder()
        .role("admin")
        .includes(["editor"])
        .role("editor")
        .includes(["viewer"])
        .role("viewer")
        .includes(["admin"]);
    // Checked on its own, or by the session builder.
    let own = cycle.clone().build().unwrap_err();
    let err = builder(&c).authorization(cycle).build().unwrap_err();
    assert_eq!(own, err);
    assert_eq!(
        err,
        ConfigError::RoleCycle {
            roles: ["admin", "editor", "viewer", "admin"]
                .map(String::from)
                .to_vec()
        }
    );
    assert_eq!(
        err.to_string(),
        "role hierarchy has a cycle: admin -> editor -> viewer -> admin"
    );
    let unknown = Authorization::builder().role("admin").includes(["editr"]);
    let err = builder(&c).authorization(unknown).build().unwrap_err();
    assert_eq!(
        err,
        ConfigError::UnknownRole {
            role: "editr".into(),
            included_by: "admin".into()
        }
    );
}

#[derive(Clone)]
struct Account {
    id: String,
    roles: Vec<String>,
    permissions: Vec<String>,
}

impl User for Account {
    fn id(&self) -> &str {
        &self.id
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
    fn permissions(&self) -> &[String] {
        &self.permissions
    }
}

struct Accounts(HashMap<String, Account>);

impl UserStore for Accounts {
    type User = Account;
    type Error = Infallible;
    async fn load(&self, id: &str) -> Result<Option<Account>, Infallible> {
        Ok(self.0.get(id).cloned())
    }
}

/// A live record's own permissions count beside those of its (live) roles; the roles given at
/// login do not.
#[actix_web::test]
async fn live_record_permissions_and_roles_count() {
    let account = |id: &str, roles: &[&str], permissions: &[&str]| Account {
        id: id.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
    };
    let store = Accounts(HashMap::from([
        ("own".to_owned(), account("own", &[], &["notes:delete"])),
        ("ed".to_owned(), account("ed", &["editor"], &[])),
        ("none".to_owned(), account("none", &[], &[])),
    ]));
    let c = clock();
    let app = app(builder(&c)
        .authorization(roles())
        .users(store)
        .build()
        .unwrap())
    .await;
    let status = |id: &'static str, path: &'static str| {
        let app = &app;
        async move {
            // Roles claimed at login are ignored: the record's roles count.
            let cookie = login(app, &format!("/login?id={id}&roles=admin")).await;
            call(app, get(path).cookie(cookie)).await.status()
        }
    };
    assert_eq!(status("own", "/delete/x").await, StatusCode::OK);
    assert_eq!(status("own", "/edit/x").await, StatusCode::FORBIDDEN);
    assert_eq!(status("ed", "/edit/x").await, StatusCode::OK);
    assert_eq!(status("ed", "/viewer/x").await, StatusCode::OK);
    assert_eq!(status("ed", "/delete/x").await, StatusCode::FORBIDDEN);
    assert_eq!(status("none", "/viewer/x").await, StatusCode::FORBIDDEN);
}

#[get("/m/never")]
#[authorize(all(role = "admin", not(role = "editor")))]
async fn m_never() -> impl Responder {
    "unreachable under the table"
}

/// A rule the macro cannot refuse (it does not see the table) but that the hierarchy makes
/// impossible answers an opaque 500 at its first evaluation, for everyone, instead of silently
/// refusing everyone; the same rule without a table works. The scope twin does the same.
#[actix_web::test]
async fn rule_impossible_under_the_table_is_an_error_not_a_silent_deny() {
    let impossible = || Rule::all([Rule::role("admin"), Rule::not(Rule::role("editor"))]);
    let configure = |cfg: &mut web::ServiceConfig| {
        routes(cfg);
        cfg.service(m_never).service(
            web::scope("/scope")
                .wrap(Require::rule(impossible()))
                .route("/x", web::get().to(|| async { "in" })),
        );
    };
    let c = clock();
    let app = test_app(with_roles(&c), configure).await;
    for roles in ["admin", "editor", "other"] {
        for path in ["/m/never", "/scope/x"] {
            let cookie = login(&app, &format!("/login?id=u&roles={roles}")).await;
            let res = call(&app, get(path).cookie(cookie)).await;
            assert_eq!(
                res.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{roles} {path}"
            );
            let body = actix_web::test::read_body(res).await;
            assert!(body.is_empty(), "the client sees no detail: {body:?}");
        }
    }
    let res = call(&app, get("/m/never")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let plain = test_app(builder(&c).build().unwrap(), configure).await;
    assert_eq!(status(&plain, "admin", "/m/never").await, StatusCode::OK);
    assert_eq!(
        status(&plain, "admin,editor", "/scope/x").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(&plain, "admin", "/scope/x").await, StatusCode::OK);
}

#[test]
fn the_error_names_the_rule() {
    let err = session_core::SessionError::RuleUnderRoleTable {
        rule: Rule::all([Rule::role("admin"), Rule::not(Rule::role("editor"))]).to_string(),
        problem: "can never be met under the role table",
    };
    assert_eq!(
        err.to_string(),
        "guard rule `all(role=admin, not(role=editor))` can never be met under the role table \
         (a role includes the roles it lists, and grants their permissions); fix the rule or the \
         role table"
    );
}

/// A denial's security event names the atom that decided; the client's answer is unchanged.
#[actix_web::test]
async fn denial_events_name_the_deciding_atom() {
    use session_core::events::SecurityEvent;
    use std::sync::Mutex;

    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let c = clock();
    let auth = builder(&c)
        .authorization(roles())
        .on_security_event(move |event| {
            if let SecurityEvent::Denied { decided_by, .. } = event {
                sink.lock().unwrap().push(decided_by.clone());
            }
        })
        .build()
        .unwrap();
    let app = test_app(auth, |cfg| {
        routes(cfg);
        cfg.service(m_edit)
            .service(m_editor_only)
            .service(m_fresh_editor);
    })
    .await;
    let cases = [
        ("viewer", "/m/edit", "permission=notes:edit"),
        ("admin", "/m/editor-only", "not(permission=notes:delete)"),
        (
            "viewer",
            "/m/fresh-editor",
            "any(role=admin, permission=notes:edit)",
        ),
    ];
    for (roles, path, want) in cases {
        let cookie = login(&app, &format!("/login?id=u&roles={roles}")).await;
        let res = call(&app, get(path).cookie(cookie)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let body = actix_web::test::read_body(res).await;
        assert_eq!(body, r#"{"error":"forbidden"}"#, "no more than before");
        assert_eq!(events.lock().unwrap().pop(), Some(Some(want.to_owned())));
    }
    let editor = login(&app, "/login?id=u&roles=editor").await;
    c.advance(std::time::Duration::from_secs(660));
    call(&app, get("/m/fresh-editor").cookie(editor)).await;
    assert_eq!(events.lock().unwrap().pop(), Some(Some("fresh".to_owned())));
    call(&app, get("/m/edit")).await;
    assert_eq!(
        events.lock().unwrap().pop(),
        Some(Some("authenticated".to_owned()))
    );
}

/// htmx (`HX-Request: true`, `Accept: */*`): sign-in answers carry `HX-Redirect` to the login URL
/// with `next` and a 401 (no 3xx for the browser to follow inside the request); a 403 is a bare
/// fragment, not the app's forbidden page.
#[actix_web::test]
async fn htmx_requests_get_hx_redirect_and_fragments() {
    use actix_web::http::header;

    let c = clock();
    let auth = builder(&c)
        .authorization(roles())
        .forbidden_page(|_| "<!doctype html><nav>chrome</nav><h1>No</h1>".to_owned())
        .build()
        .unwrap();
    let app = test_app(auth, |cfg| {
        routes(cfg);
        cfg.service(m_edit);
    })
    .await;
    let hx = |req: actix_web::test::TestRequest| {
        req.insert_header(("HX-Request", "true"))
            .insert_header((header::ACCEPT, "*/*"))
    };
    let res = call(&app, hx(get("/m/edit?tab=2"))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers().get("hx-redirect").unwrap(),
        "/login?next=/m/edit%3Ftab%3D2"
    );
    assert!(res.headers().get(header::LOCATION).is_none());

    let viewer = login(&app, "/login?id=u&roles=viewer").await;
    let res = call(&app, hx(get("/m/edit").cookie(viewer.clone()))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = actix_web::test::read_body(res).await;
    assert_eq!(body, r#"<p class="denied">403 Forbidden</p>"#);

    // Without the header, the same requests answer as before.
    let res = call(&app, get("/m/edit").cookie(viewer)).await;
    assert_eq!(
        actix_web::test::read_body(res).await,
        r#"{"error":"forbidden"}"#
    );
    let res = call(
        &app,
        get("/m/edit").insert_header((header::ACCEPT, "text/html")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers().get("hx-redirect").is_none());
}

/// Notes by id and their owners, for the resource-policy tests; `down` makes the policy fail,
/// `runs` counts its runs.
#[derive(Default)]
struct Notes {
    owners: HashMap<u32, String>,
    down: std::sync::atomic::AtomicBool,
    runs: std::sync::atomic::AtomicUsize,
}

#[derive(Debug)]
struct DbDown;

impl std::fmt::Display for DbDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection refused to db-secret-host")
    }
}

/// The owner of the note at `/{id}` may edit it.
#[session_core::policy]
async fn can_edit_note(
    user: AuthUser,
    id: web::Path<u32>,
    notes: web::Data<Notes>,
) -> Result<bool, DbDown> {
    use std::sync::atomic::Ordering;
    notes.runs.fetch_add(1, Ordering::SeqCst);
    if notes.down.load(Ordering::SeqCst) {
        return Err(DbDown);
    }
    Ok(notes
        .owners
        .get(&id)
        .is_some_and(|owner| owner == user.id()))
}

/// Takes the JSON body: a denied request with a broken body gets the denial, not a 400.
#[actix_web::post("/p/notes/{id}")]
#[authorize(policy = can_edit_note)]
async fn p_edit(id: web::Path<u32>, body: web::Json<serde_json::Value>) -> impl Responder {
    format!("{id}: {body}")
}

#[get("/p/hidden/{id}")]
#[authorize(policy = can_edit_note, status = 404)]
async fn p_hidden(id: web::Path<u32>) -> impl Responder {
    format!("note {id}")
}

#[get("/p/any/{id}")]
#[authorize(any(permission = "notes:edit", policy = can_edit_note))]
async fn p_any(id: web::Path<u32>) -> impl Responder {
    format!("note {id}")
}

#[get("/p/all/{id}")]
#[authorize(all(permission = "notes:read", policy = can_edit_note))]
async fn p_all(id: web::Path<u32>) -> impl Responder {
    format!("note {id}")
}

/// The notes these tests read: Alice owns note 1.
fn alices_notes() -> web::Data<Notes> {
    web::Data::new(Notes {
        owners: HashMap::from([(1, "alice".to_owned())]),
        ..Notes::default()
    })
}

/// Alice owns note 1; the routes above, and `GET /s/notes/{id}` behind `Require::policy`.
async fn policy_app(auth: AuthSession) -> (TestApp, web::Data<Notes>) {
    let notes = alices_notes();
    let data = notes.clone();
    let app = test_app(auth, move |cfg| {
        routes(cfg);
        cfg.app_data(data)
            .service(p_edit)
            .service(p_hidden)
            .service(p_any)
            .service(p_all)
            .service(
                web::scope("/s/notes/{id}")
                    .wrap(Require::policy(can_edit_note))
                    .route(
                        "",
                        web::get().to(|| async { HttpResponse::Ok().body("in") }),
                    ),
            );
    })
    .await;
    (app, notes)
}

fn runs(notes: &Notes) -> usize {
    notes.runs.load(std::sync::atomic::Ordering::SeqCst)
}

/// `Ok(false)` answers 403, `status = 404` makes it the answer for a missing id, a scope
/// guarded by `Require::policy` answers the same; anonymous requests never run the policy.
#[actix_web::test]
async fn policies_decide_on_the_path_parameter() {
    let (app, notes) = policy_app(with_roles(&clock())).await;
    let alice = login(&app, "/login?id=alice").await;
    let bob = login(&app, "/login?id=bob").await;
    let cases = [
        (&alice, "/p/hidden/1", StatusCode::OK),
        (&bob, "/p/hidden/1", StatusCode::NOT_FOUND),
        (&bob, "/p/hidden/2", StatusCode::NOT_FOUND),
        (&alice, "/p/hidden/2", StatusCode::NOT_FOUND),
        (&alice, "/s/notes/1", StatusCode::OK),
        (&bob, "/s/notes/1", StatusCode::FORBIDDEN),
        (&alice, "/s/notes/2", StatusCode::FORBIDDEN),
    ];
    for (cookie, path, want) in cases {
        let res = call(&app, get(path).cookie(cookie.clone())).await;
        assert_eq!(res.status(), want, "{} on {path}", cookie.value());
    }
    // A hidden note is the same answer as a missing one, body included.
    let body = |path| {
        let bob = bob.clone();
        let app = &app;
        async move {
            let res = call(app, get(path).cookie(bob)).await;
            actix_web::test::read_body(res).await
        }
    };
    assert_eq!(body("/p/hidden/1").await, body("/p/hidden/2").await);
    let before = runs(&notes);
    // `status = 404` is the answer to every denial, anonymous ones included.
    assert_eq!(
        call(&app, get("/p/hidden/1")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, get("/s/notes/1")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(runs(&notes), before, "anonymous: no policy runs");
}

/// A policy's extractor failure is the extractor's own answer: a path segment that is not a
/// number is a 404 (from `web::Path`), before any policy logic runs.
#[actix_web::test]
async fn a_policy_extractor_failure_answers_as_the_extractor() {
    let (app, notes) = policy_app(with_roles(&clock())).await;
    let alice = login(&app, "/login?id=alice").await;
    for path in ["/p/hidden/abc", "/s/notes/abc", "/p/any/abc"] {
        let res = call(&app, get(path).cookie(alice.clone())).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(runs(&notes), 0);
}

/// The guard answers before the body is read: a denied request with a broken JSON body gets
/// 403, an allowed one the JSON extractor's 400, and a good body reaches the handler.
#[actix_web::test]
async fn a_denied_request_never_has_its_body_read() {
    use actix_web::http::header;
    let (app, _) = policy_app(with_roles(&clock())).await;
    let alice = login(&app, "/login?id=alice").await;
    let bob = login(&app, "/login?id=bob").await;
    let send = |cookie: &actix_web::cookie::Cookie<'static>, body: &'static str| {
        tests::post("/p/notes/1")
            .cookie(cookie.clone())
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body)
    };
    assert_eq!(
        call(&app, send(&bob, "{broken")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, send(&alice, "{broken")).await.status(),
        StatusCode::BAD_REQUEST
    );
    let res = call(&app, send(&alice, r#"{"title":"t"}"#)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(actix_web::test::read_body(res).await, r#"1: {"title":"t"}"#);
}

/// `Err` from a policy is a 503 with `Retry-After`, negotiated like the store errors, and never
/// shows the error; a browser gets a page.
#[actix_web::test]
async fn a_policy_error_is_a_503_with_retry_after_and_no_detail() {
    use actix_web::http::header;
    let (app, notes) = policy_app(with_roles(&clock())).await;
    notes.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let alice = login(&app, "/login?id=alice").await;
    for path in ["/p/hidden/1", "/s/notes/1"] {
        let res = call(&app, get(path).cookie(alice.clone())).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let body = actix_web::test::read_body(res).await;
        assert_eq!(body, r#"{"error":"policy_unavailable"}"#);
    }
    let res = call(
        &app,
        get("/p/hidden/1")
            .cookie(alice)
            .insert_header((header::ACCEPT, "text/html")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = String::from_utf8(actix_web::test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("503"), "{body}");
    assert!(!body.contains("db-secret-host"), "{body}");
}

/// `any(permission, policy)`: the permission decides without running the policy; the policy
/// decides for the others. `all(permission, policy)`: a missing permission denies without it.
#[actix_web::test]
async fn permissions_and_policies_combine() {
    let (app, notes) = policy_app(with_roles(&clock())).await;
    // (user, roles, path, status, whether the policy ran)
    let cases = [
        ("carol", "editor", "/p/any/1", StatusCode::OK, false),
        ("alice", "", "/p/any/1", StatusCode::OK, true),
        ("bob", "", "/p/any/1", StatusCode::FORBIDDEN, true),
        ("alice", "viewer", "/p/all/1", StatusCode::OK, true),
        ("alice", "", "/p/all/1", StatusCode::FORBIDDEN, false),
        ("bob", "viewer", "/p/all/1", StatusCode::FORBIDDEN, true),
        ("carol", "admin", "/p/all/1", StatusCode::FORBIDDEN, true),
    ];
    for (id, roles, path, want, ran) in cases {
        let cookie = login(&app, &format!("/login?id={id}&roles={roles}")).await;
        let before = runs(&notes);
        let res = call(&app, get(path).cookie(cookie)).await;
        assert_eq!(res.status(), want, "{id} ({roles}) on {path}");
        assert_eq!(runs(&notes) > before, ran, "{id} ({roles}) on {path}: ran");
    }
}

/// The denial event of a policy names it: `policy=can_edit_note`.
#[actix_web::test]
async fn policy_denials_name_the_policy() {
    use session_core::events::SecurityEvent;
    use std::sync::Mutex;

    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let auth = builder(&clock())
        .authorization(roles())
        .on_security_event(move |event| {
            if let SecurityEvent::Denied { decided_by, .. } = event {
                sink.lock().unwrap().push(decided_by.clone());
            }
        })
        .build()
        .unwrap();
    let (app, _) = policy_app(auth).await;
    let bob = login(&app, "/login?id=bob&roles=viewer").await;
    let cases = [
        ("/p/hidden/1", "policy=can_edit_note"),
        ("/s/notes/1", "policy=can_edit_note"),
        ("/p/all/1", "policy=can_edit_note"),
        (
            "/p/any/1",
            "any(permission=notes:edit, policy=can_edit_note)",
        ),
    ];
    for (path, want) in cases {
        call(&app, get(path).cookie(bob.clone())).await;
        assert_eq!(
            events.lock().unwrap().pop(),
            Some(Some(want.to_owned())),
            "{path}"
        );
    }
    assert_eq!(
        Rule::all([Rule::role("viewer"), Rule::policy(can_edit_note)]).to_string(),
        "all(role=viewer, policy=can_edit_note)"
    );
}

/// Like `can_edit_note`, but waits once first, as a policy asking a database does: actix polls a
/// handler's other extractors while one is pending.
async fn slow_can_edit_note(
    user: AuthUser,
    id: web::Path<u32>,
    notes: web::Data<Notes>,
) -> Result<bool, DbDown> {
    actix_web::rt::task::yield_now().await;
    can_edit_note(user, id, notes).await
}

#[actix_web::post("/slow/notes/{id}")]
#[authorize(policy = slow_can_edit_note, status = 404)]
#[authorize(role = "admin")]
async fn slow_edit(id: web::Path<u32>, body: web::Json<serde_json::Value>) -> impl Responder {
    format!("{id}: {body}")
}

/// The routes, Alice's notes and `service`, a handler whose policy waits.
async fn slow_app(service: impl HttpServiceFactory + 'static) -> (TestApp, web::Data<Notes>) {
    let notes = alices_notes();
    let data = notes.clone();
    let app = test_app(with_roles(&clock()), move |cfg| {
        routes(cfg);
        cfg.app_data(data).service(service);
    })
    .await;
    (app, notes)
}

/// While a policy is pending, the body waits behind it (a broken body is not read, so the
/// denial is the answer, not the JSON extractor's 400) and a later stacked guard waits too (the
/// first guard's 404 is the answer, not the second's 403).
#[actix_web::test]
async fn a_pending_policy_holds_back_the_body_and_later_guards() {
    use actix_web::http::header;
    let (app, notes) = slow_app(slow_edit).await;
    let send = |cookie: &actix_web::cookie::Cookie<'static>, body: &'static str| {
        tests::post("/slow/notes/1")
            .cookie(cookie.clone())
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body)
    };
    let cases = [
        ("bob", "", "{broken", StatusCode::NOT_FOUND),
        ("bob", "admin", "{broken", StatusCode::NOT_FOUND),
        ("alice", "", "{broken", StatusCode::FORBIDDEN),
        ("alice", "admin", "{broken", StatusCode::BAD_REQUEST),
        ("alice", "admin", r#"{"a":1}"#, StatusCode::OK),
    ];
    for (id, roles, body, want) in cases {
        let cookie = login(&app, &format!("/login?id={id}&roles={roles}")).await;
        let res = call(&app, send(&cookie, body)).await;
        assert_eq!(res.status(), want, "{id} ({roles}) with {body}");
    }
    assert_eq!(runs(&notes), 5);
}

/// A guard that waits for its policy hands its user over once the policy lets the request
/// through (and the guard below still answers after it): the handler's `AuthUser` is folded
/// into the upper guard.
#[actix_web::post("/slow/whoami/{id}")]
#[authorize(policy = slow_can_edit_note, status = 404)]
#[authorize(role = "admin")]
async fn slow_whoami(mut user: AuthUser, id: web::Path<u32>) -> impl Responder {
    let user = &mut user;
    format!("{id}: {}", user.id())
}

#[actix_web::test]
async fn a_pending_policy_hands_over_the_user_it_let_through() {
    let (app, notes) = slow_app(slow_whoami).await;
    let cases = [
        ("bob", "admin", StatusCode::NOT_FOUND, ""),
        (
            "alice",
            "",
            StatusCode::FORBIDDEN,
            r#"{"error":"forbidden"}"#,
        ),
        ("alice", "admin", StatusCode::OK, "1: alice"),
    ];
    for (id, roles, want, body) in cases {
        let cookie = login(&app, &format!("/login?id={id}&roles={roles}")).await;
        let res = call(&app, tests::post("/slow/whoami/1").cookie(cookie)).await;
        assert_eq!(res.status(), want, "{id} ({roles})");
        if !body.is_empty() {
            let got = actix_web::test::read_body(res).await;
            assert_eq!(got, body.as_bytes(), "{id} ({roles})");
        }
    }
    assert_eq!(runs(&notes), 3);
}
