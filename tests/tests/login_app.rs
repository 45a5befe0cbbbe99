//! The login example (`examples::login_app`) through `test::init_service`: registration, login,
//! password re-hashing, CSRF refusal, the admin 403 page, account administration (roles,
//! deletion, the last admin), fresh re-login, POST-only logout and brute-force throttling.
//!
//! Each test runs the real app over its own temporary SQLite directory, with the session and
//! throttle clock on a `ManualClock`. The shared cookie-jar client (`tests::Client`) plays the
//! browser, sending `Accept: text/html` like a real one, from a client address of its own when
//! given one.

use std::{sync::Arc, time::Duration};

use actix_web::{
    http::{header, StatusCode},
    test,
};
use examples::{
    login_app::{
        app, auth_builder,
        db::{Db, Role, User},
        AppState, Throttles, FIRST_LOCK, REGISTRATIONS_PER_ADDRESS, SIGN_IN_FAILURES_PER_ACCOUNT,
    },
    password::{Params, Passwords},
};
use session_core::{clock::ManualClock, csrf, Key};
use tempfile::TempDir;
use tests::{
    call, get,
    login_site::{browser, cheap, Forms},
    serve, Client, Reply, TestApp, T0,
};

fn key() -> Key {
    Key::from_bytes(&[11; 32]).unwrap()
}

/// One app instance: its data directory, state and session clock.
struct Site {
    state: AppState,
    clock: Arc<ManualClock>,
    _dir: TempDir,
}

impl Site {
    fn new(passwords: Passwords) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let throttles = Throttles::new(&key(), clock.clone()).unwrap();
        let state = AppState::new(Db::open(dir.path()).unwrap(), passwords, throttles);
        Self {
            state,
            clock,
            _dir: dir,
        }
    }

    /// Password verifications so far (each a trip to the password check).
    fn verifications(&self) -> u64 {
        self.state.passwords().verifications()
    }

    async fn service(&self) -> TestApp {
        let auth = auth_builder(key(), false, &self.state)
            .clock(self.clock.clone())
            .build()
            .unwrap();
        serve(app(self.state.clone(), auth)).await
    }

    fn user_count(&self) -> usize {
        self.state.db().users().unwrap().len()
    }

    fn stored_hash(&self, username: &str) -> String {
        self.state.db().credentials(username).unwrap().unwrap().1
    }

    /// The database row of `username`, if the account exists.
    fn user(&self, username: &str) -> Option<User> {
        self.state
            .db()
            .credentials(username)
            .unwrap()
            .map(|(user, _)| user)
    }

    fn role(&self, username: &str) -> Role {
        self.user(username).expect("the account exists").role
    }

    fn uid(&self, username: &str) -> String {
        self.user(username).expect("the account exists").uid
    }
}

/// The admin page's role form for the account `uid` (`action=grant` or `revoke`).
fn role_url(uid: &str) -> String {
    format!("/admin/users/{uid}/admin")
}

/// The admin page's delete form for the account `uid`.
fn delete_url(uid: &str) -> String {
    format!("/admin/users/{uid}/delete")
}

#[actix_web::test]
async fn first_registered_user_is_admin_and_lands_on_the_dashboard() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    let page = ann.register("ann", "correct horse").await;
    assert!(page.redirects_to("/dashboard"), "{page:?}");
    let dashboard = ann.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(
        dashboard.body.contains("Welcome, ann"),
        "{}",
        dashboard.body
    );
    assert!(dashboard
        .body
        .contains(r#"<span class="badge admin">admin</span>"#));
    let admin = ann.get("/admin").await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.body.contains("Admin: all accounts"));
}

#[actix_web::test]
async fn later_users_are_members_and_get_the_403_page_on_admin() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app).register("ann", "correct horse").await;
    let mut bob = browser(&app);
    assert!(bob
        .register("bob", "battery staple")
        .await
        .redirects_to("/dashboard"));
    let page = bob.get("/admin").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains(r#"<p class="big">403</p>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("may not open this page"));
    assert!(
        page.body.contains("Sign out"),
        "the 403 page knows who is signed in"
    );
    assert!(!page.body.contains("Admin: all accounts"));

    let api = get("/admin")
        .insert_header((header::ACCEPT, "application/json"))
        .cookie(bob.cookie.clone().unwrap());
    let res = call(&app, api).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body, serde_json::json!({ "error": "forbidden" }));
}

#[actix_web::test]
async fn api_clients_get_json_denials() {
    let site = Site::new(cheap());
    let app = site.service().await;
    for uri in ["/dashboard", "/admin", "/settings"] {
        let req = get(uri).insert_header((header::ACCEPT, "application/json"));
        let res = call(&app, req).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{uri}");
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body, serde_json::json!({ "error": "unauthenticated" }));
    }
}

#[actix_web::test]
async fn taken_username_is_refused_in_any_letter_case() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app).register("ann", "correct horse").await;
    let mut other = browser(&app);
    let page = other.register("ANN", "another password").await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("That username is taken."));
    assert_eq!(site.user_count(), 1);
    assert!(other
        .get("/dashboard")
        .await
        .redirects_to("/login?next=/dashboard"));
}

#[actix_web::test]
async fn invalid_registration_says_why_and_creates_nothing() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut browser = browser(&app);
    let page = browser.register("ann", "short").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("at least 8 characters"), "{}", page.body);
    let page = browser.register("a b", "long enough").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = [
        ("username", "ann"),
        ("password", "long enough"),
        ("confirm_password", "long enuogh"),
    ];
    let page = browser.submit("/register", "/register", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("The two passwords differ."),
        "{}",
        page.body
    );
    assert_eq!(site.user_count(), 0);
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_are_refused_alike() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app).register("ann", "correct horse").await;
    let mut browser = browser(&app);
    let wrong = browser.login("ann", "wrong horse").await;
    let unknown = browser.login("nobody", "correct horse").await;
    for page in [&wrong, &unknown] {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("Wrong username or password."));
    }
    assert_eq!(
        browser.get("/dashboard").await.location.as_deref(),
        Some("/login?next=/dashboard")
    );
}

#[actix_web::test]
async fn login_returns_to_a_safe_next_and_ignores_an_unsafe_one() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app).register("ann", "correct horse").await;
    let cases = [
        ("/admin?tab=2", "/admin?tab=2"),
        ("//evil.example/", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ];
    for (next, lands_on) in cases {
        let mut browser = browser(&app);
        let form = browser
            .get(&format!("/login?next={}", urlencode(next)))
            .await;
        let hidden = format!(r#"name="next" value="{}""#, next.replace('&', "&amp;"));
        assert_eq!(form.body.contains(&hidden), lands_on == next, "{next}");
        let fields = [
            (csrf::FIELD, form.csrf()),
            ("username", "ann".into()),
            ("password", "correct horse".into()),
            ("next", next.into()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = browser.post_form("/login", &fields).await;
        assert!(page.redirects_to(lands_on), "{next}: {page:?}");
    }
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[actix_web::test]
async fn signed_in_users_skip_the_login_and_register_forms() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    for form in ["/login", "/register", "/login?next=/admin"] {
        assert!(ann.get(form).await.redirects_to("/dashboard"), "{form}");
    }
}

#[actix_web::test]
async fn remember_me_decides_between_a_persistent_and_a_browser_session_cookie() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app).register("ann", "correct horse").await;
    for (remember, persistent) in [(true, true), (false, false)] {
        let mut browser = browser(&app);
        let mut fields = vec![("username", "ann"), ("password", "correct horse")];
        if remember {
            fields.push(("remember", "on"));
        }
        let page = browser.submit("/login", "/login", &fields).await;
        let cookie = page.set_cookie.expect("login sets the session cookie");
        assert_eq!(
            cookie.max_age().is_some(),
            persistent,
            "remember={remember}"
        );
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    }
}

#[actix_web::test]
async fn weak_password_hash_is_upgraded_at_login() {
    // The real default parameters (m = 19 MiB, t = 2, p = 1) as the current ones.
    let site = Site::new(Passwords::default());
    let weak = Passwords::new(Params::new(1024, 1, 1, None).unwrap());
    let db = site.state.db();
    db.create_user("old", &weak.hash("from 2019!"))
        .unwrap()
        .unwrap();
    let before = site.stored_hash("old");
    assert!(
        before.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
        "{before}"
    );
    let app = site.service().await;

    let mut browser = browser(&app);
    let failed = browser.login("old", "wrong").await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        site.stored_hash("old"),
        before,
        "a failed login re-hashes nothing"
    );

    assert!(browser
        .login("old", "from 2019!")
        .await
        .redirects_to("/dashboard"));
    let after = site.stored_hash("old");
    assert!(
        after.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{after}"
    );
    browser.logout().await;
    assert!(
        browser
            .login("old", "from 2019!")
            .await
            .redirects_to("/dashboard"),
        "the new hash verifies"
    );
    assert_eq!(site.stored_hash("old"), after, "a current hash is kept");
}

/// The forms of the app and what each would change (and the admin forms, per account).
const FORMS: [&str; 5] = ["/register", "/login", "/logout", "/settings", "/reauth"];

#[actix_web::test]
async fn form_posts_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    browser(&app).register("bob", "battery staple").await;
    let bob = site.uid("bob");
    let hash = site.stored_hash("ann");
    let own_token = ann.get("/dashboard").await.csrf();
    let mut stranger = browser(&app);
    let foreign_token = stranger.get("/login").await.csrf();
    let mut wrong = own_token.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();

    let admin_forms = [role_url(&bob), delete_url(&bob)];
    for action in FORMS
        .into_iter()
        .chain(admin_forms.iter().map(String::as_str))
    {
        for token in [
            None,
            Some(""),
            Some(wrong.as_str()),
            Some(foreign_token.as_str()),
        ] {
            let mut form = vec![
                ("username", "mallory"),
                ("password", "correct horse"),
                ("confirm_password", "hijacked password"),
                ("current_password", "correct horse"),
                ("new_password", "hijacked password"),
                ("next", "/admin"),
                ("action", "grant"),
            ];
            if let Some(token) = token {
                form.push((csrf::FIELD, token));
            }
            let page = ann.post_form(action, &form).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{action} {token:?}");
            assert!(page.body.contains("Form expired"), "{action}");
            assert!(
                page.set_cookie.is_none(),
                "{action} {token:?} touched the session"
            );
        }
    }
    assert_eq!(site.user_count(), 2, "no user was created or deleted");
    assert_eq!(site.role("bob"), Role::Member, "no role changed");
    assert_eq!(site.stored_hash("ann"), hash, "the password did not change");
    let dashboard = ann.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK, "still signed in");
    assert!(dashboard.body.contains("Welcome, ann"));
    // And the right token still works.
    assert!(ann
        .post_form("/logout", &[(csrf::FIELD, &own_token)])
        .await
        .redirects_to("/?signed_out=1"));
}

#[actix_web::test]
async fn the_login_forms_token_is_replaced_at_login() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app).register("ann", "correct horse").await;
    let mut browser = browser(&app);
    let before = browser.get("/login").await.csrf();
    let page = browser
        .post_form(
            "/login",
            &[
                (csrf::FIELD, &before),
                ("username", "ann"),
                ("password", "correct horse"),
            ],
        )
        .await;
    assert!(
        page.redirects_to("/dashboard"),
        "the anonymous session's token verified"
    );
    let refused = browser
        .post_form("/logout", &[(csrf::FIELD, &before)])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "the pre-login token is dead"
    );
    let after = browser.get("/dashboard").await.csrf();
    assert_ne!(after, before);
    assert!(browser
        .post_form("/logout", &[(csrf::FIELD, &after)])
        .await
        .redirects_to("/?signed_out=1"));
}

#[actix_web::test]
async fn sensitive_settings_ask_for_the_password_again_after_five_minutes() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    assert_eq!(ann.get("/settings").await.status, StatusCode::OK);

    site.clock.advance(Duration::from_secs(301));
    let page = ann.get("/settings").await;
    assert!(
        page.redirects_to("/reauth?next=/settings&reason=reauthenticate"),
        "{page:?}"
    );
    let hash = site.stored_hash("ann");
    let stale_post = ann
        .submit(
            "/dashboard",
            "/settings",
            &change("correct horse", "new password 1"),
        )
        .await;
    assert!(stale_post.redirects_to("/reauth?next=/settings&reason=reauthenticate"));
    assert_eq!(
        site.stored_hash("ann"),
        hash,
        "a stale session changes no password"
    );

    let wrong = ann
        .submit(
            "/reauth?next=/settings",
            "/reauth",
            &[("password", "nope"), ("next", "/settings")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong password."));
    let right = ann
        .submit(
            "/reauth?next=/settings",
            "/reauth",
            &[("password", "correct horse"), ("next", "/settings")],
        )
        .await;
    assert!(right.redirects_to("/settings"), "{right:?}");
    assert_eq!(ann.get("/settings").await.status, StatusCode::OK);
    assert_eq!(ann.get("/admin").await.status, StatusCode::OK, "roles kept");
}

#[actix_web::test]
async fn anonymous_visitors_of_settings_are_sent_to_sign_in() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let page = browser(&app).get("/settings").await;
    assert!(page.redirects_to("/login?next=/settings"), "{page:?}");
}

#[actix_web::test]
async fn password_change_takes_effect_and_renews_the_session() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    let old_cookie = ann.cookie.clone().unwrap();
    let page = ann
        .submit(
            "/settings",
            "/settings",
            &change("correct horse", "battery staple"),
        )
        .await;
    assert!(page.redirects_to("/settings?changed=1"), "{page:?}");
    assert_ne!(ann.cookie.as_ref().unwrap().value(), old_cookie.value());
    assert!(ann
        .get("/settings?changed=1")
        .await
        .body
        .contains("Your password was changed."));
    ann.logout().await;
    assert_eq!(
        ann.login("ann", "correct horse").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(ann
        .login("ann", "battery staple")
        .await
        .redirects_to("/dashboard"));
}

/// The fields of the password form: the current password and the new one, typed twice.
fn change<'a>(current: &'a str, new: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("current_password", current),
        ("new_password", new),
        ("confirm_password", new),
    ]
}

#[actix_web::test]
async fn password_change_needs_the_current_password_and_the_new_one_twice() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    let hash = site.stored_hash("ann");
    let mismatch = [
        ("current_password", "correct horse"),
        ("new_password", "battery staple"),
        ("confirm_password", "battery stapel"),
    ];
    let cases = [
        (
            &change("wrong horse", "battery staple")[..],
            StatusCode::UNAUTHORIZED,
            "Your current password is not right.",
        ),
        (
            &mismatch,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords differ.",
        ),
        (
            &change("correct horse", "short"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least 8 characters",
        ),
    ];
    for (fields, status, message) in cases {
        let page = ann.submit("/settings", "/settings", fields).await;
        assert_eq!(page.status, status, "{fields:?}");
        assert!(page.body.contains(message), "{fields:?}: {}", page.body);
        assert!(page.set_cookie.is_none(), "{fields:?} renewed the session");
    }
    assert_eq!(site.stored_hash("ann"), hash, "the password did not change");
}

#[actix_web::test]
async fn logout_is_post_only_and_ends_the_session() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    let get = ann.get("/logout").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(get.set_cookie.is_none());
    assert_eq!(
        ann.get("/dashboard").await.status,
        StatusCode::OK,
        "GET changed nothing"
    );

    let page = ann.logout().await;
    assert!(page.redirects_to("/?signed_out=1"));
    let removal = page.set_cookie.expect("logout removes the cookie");
    assert_eq!(removal.value(), "");
    assert!(ann
        .get("/?signed_out=1")
        .await
        .body
        .contains("You have been signed out."));
    assert!(ann
        .get("/dashboard")
        .await
        .redirects_to("/login?next=/dashboard"));
}

#[actix_web::test]
async fn a_cookie_from_another_database_signs_nobody_in() {
    // Same secret, database reset: the old cookie's user id must not match the new row 1.
    let first = Site::new(cheap());
    let app = first.service().await;
    let mut ann = browser(&app);
    ann.register("ann", "correct horse").await;
    let cookie = ann.cookie.clone();

    let second = Site::new(cheap());
    let app2 = second.service().await;
    browser(&app2).register("zed", "correct horse").await;
    let mut replay = browser(&app2);
    replay.cookie = cookie;
    let page = replay.get("/dashboard").await;
    assert!(page.redirects_to("/login?next=/dashboard"), "{page:?}");
    assert!(!page.body.contains("zed"));
    assert_eq!(
        page.set_cookie.map(|c| c.value().to_owned()),
        Some(String::new())
    );
}

#[actix_web::test]
async fn pages_carry_security_headers_and_are_not_cached() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let res = call(&app, get("/login")).await;
    let h = res.headers();
    assert_eq!(h.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"));
    let missing = call(&app, get("/nope")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

// ---- account administration ------------------------------------------------------------------

/// Registers ann (the first account, so an admin) and bob (a member), each in their own browser.
async fn ann_and_bob(app: &TestApp) -> (Client<'_>, Client<'_>) {
    let mut ann = browser(app);
    assert!(ann
        .register("ann", "correct horse")
        .await
        .redirects_to("/dashboard"));
    let mut bob = browser(app);
    assert!(bob
        .register("bob", "battery staple")
        .await
        .redirects_to("/dashboard"));
    (ann, bob)
}

#[actix_web::test]
async fn admin_page_lists_every_account_with_its_action_forms() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, _bob) = ann_and_bob(&app).await;
    let page = ann.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    let (ann_uid, bob_uid) = (site.uid("ann"), site.uid("bob"));
    for form in [
        format!(r#"action="{}""#, role_url(&ann_uid)),
        format!(r#"action="{}""#, delete_url(&ann_uid)),
        format!(r#"action="{}""#, role_url(&bob_uid)),
        format!(r#"action="{}""#, delete_url(&bob_uid)),
        format!(r#"id="revoke-{ann_uid}">Remove admin"#),
        format!(r#"id="grant-{bob_uid}">Make admin"#),
    ] {
        assert!(
            page.body.contains(&form),
            "{form} missing from {}",
            page.body
        );
    }
    let token_fields = format!(r#"name="{}" value="{}""#, csrf::FIELD, page.csrf());
    // The sign-out form, and three forms per account (admin, editor, delete).
    assert_eq!(page.body.matches(&token_fields).count(), 7);
}

#[actix_web::test]
async fn admin_makes_a_member_admin_and_back() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, _bob) = ann_and_bob(&app).await;
    let bob = site.uid("bob");

    let page = ann
        .submit("/admin", &role_url(&bob), &[("action", "grant")])
        .await;
    assert!(page.redirects_to("/admin?done=granted"), "{page:?}");
    assert_eq!(site.role("bob"), Role::Admin);
    let admin = ann.get("/admin?done=granted").await;
    assert!(admin.body.contains("The account is now an admin."));
    assert!(admin.body.contains(&format!(r#"id="revoke-{bob}""#)));

    let page = ann
        .submit("/admin", &role_url(&bob), &[("action", "revoke")])
        .await;
    assert!(page.redirects_to("/admin?done=revoked"), "{page:?}");
    assert_eq!(site.role("bob"), Role::Member);

    let page = ann
        .submit("/admin", &role_url(&bob), &[("action", "promote")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Unknown action."));
    assert_eq!(site.role("bob"), Role::Member);
}

#[actix_web::test]
async fn the_last_admin_can_neither_lose_the_role_nor_be_deleted() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, _bob) = ann_and_bob(&app).await;
    let me = site.uid("ann");
    let revoke = ann
        .submit("/admin", &role_url(&me), &[("action", "revoke")])
        .await;
    let delete = ann.submit("/admin", &delete_url(&me), &[]).await;
    for page in [&revoke, &delete] {
        assert_eq!(page.status, StatusCode::CONFLICT);
        assert!(
            page.body.contains("this is the last admin"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("Admin: all accounts"),
            "the admin page, with the reason"
        );
        assert!(page.set_cookie.is_none(), "the session is untouched");
    }
    assert_eq!(site.role("ann"), Role::Admin);
    assert_eq!(site.user_count(), 2);
    assert_eq!(
        ann.get("/admin").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[actix_web::test]
async fn admin_deletes_an_account_and_its_session_ends() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, mut bob) = ann_and_bob(&app).await;
    let page = ann
        .submit("/admin", &delete_url(&site.uid("bob")), &[])
        .await;
    assert!(page.redirects_to("/admin?done=deleted"), "{page:?}");
    assert!(site.user("bob").is_none());
    assert_eq!(site.user_count(), 1);
    assert!(ann
        .get("/admin?done=deleted")
        .await
        .body
        .contains("The account was deleted."));
    // Bob's cookie still verifies, but his account is gone: his session ends on the next request
    // (the store finds no such user), whatever page he opens.
    let page = bob.get("/dashboard").await;
    assert!(page.redirects_to("/login?next=/dashboard"), "{page:?}");
    assert_eq!(
        page.set_cookie.map(|c| c.value().to_owned()),
        Some(String::new())
    );
    assert_eq!(
        bob.login("bob", "battery staple").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn an_admin_may_delete_their_own_account_while_another_admin_remains() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, _bob) = ann_and_bob(&app).await;
    ann.submit(
        "/admin",
        &role_url(&site.uid("bob")),
        &[("action", "grant")],
    )
    .await;
    let page = ann
        .submit("/admin", &delete_url(&site.uid("ann")), &[])
        .await;
    assert!(page.redirects_to("/?signed_out=1"), "{page:?}");
    let removal = page.set_cookie.expect("the session cookie is removed");
    assert_eq!(removal.value(), "");
    assert!(site.user("ann").is_none());
    assert_eq!(site.role("bob"), Role::Admin);
    assert!(ann
        .get("/dashboard")
        .await
        .redirects_to("/login?next=/dashboard"));
}

#[actix_web::test]
async fn actions_on_an_unknown_account_say_so() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, _bob) = ann_and_bob(&app).await;
    for (url, fields) in [
        (role_url("0123456789abcdef"), &[("action", "grant")][..]),
        (delete_url("0123456789abcdef"), &[]),
    ] {
        let page = ann.submit("/admin", &url, fields).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{url}");
        assert!(page.body.contains("There is no such account"), "{url}");
    }
    assert_eq!(site.user_count(), 2);
}

#[actix_web::test]
async fn members_get_403_from_the_admin_actions_even_with_a_valid_token() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (_ann, mut bob) = ann_and_bob(&app).await;
    let (ann_uid, bob_uid) = (site.uid("ann"), site.uid("bob"));
    let token = bob.get("/dashboard").await.csrf();
    for (url, action) in [
        (role_url(&bob_uid), "grant"),
        (role_url(&ann_uid), "revoke"),
        (delete_url(&ann_uid), ""),
    ] {
        let page = bob
            .post_form(&url, &[(csrf::FIELD, &token), ("action", action)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{url}");
        assert!(page.body.contains("may not open this page"), "{url}");
    }
    assert_eq!(
        (site.role("ann"), site.role("bob")),
        (Role::Admin, Role::Member)
    );
    assert_eq!(site.user_count(), 2);
}

// ---- live users: the database decides on every request ---------------------------------------

#[actix_web::test]
async fn a_demoted_admin_gets_403_on_the_next_request() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, mut bob) = ann_and_bob(&app).await;
    let bob_uid = site.uid("bob");
    ann.submit("/admin", &role_url(&bob_uid), &[("action", "grant")])
        .await;
    assert_eq!(bob.get("/admin").await.status, StatusCode::OK, "promoted");
    ann.submit("/admin", &role_url(&bob_uid), &[("action", "revoke")])
        .await;
    let page = bob.get("/admin").await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "demoted: the very next request"
    );
    assert!(
        page.body.contains("your account may not open this page"),
        "the app's 403 page"
    );
    assert!(page.body.contains("bob"), "with bob's navigation bar");
}

#[actix_web::test]
async fn a_promoted_member_gets_in_without_signing_in_again() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, mut bob) = ann_and_bob(&app).await;
    assert_eq!(bob.get("/admin").await.status, StatusCode::FORBIDDEN);
    let cookie_before = bob.cookie.clone();
    ann.submit(
        "/admin",
        &role_url(&site.uid("bob")),
        &[("action", "grant")],
    )
    .await;
    let page = bob.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert_eq!(bob.cookie, cookie_before, "same session, no new login");
    assert!(
        bob.get("/dashboard")
            .await
            .body
            .contains(r#"href="/admin""#),
        "nav shows admin"
    );
}

#[actix_web::test]
async fn a_password_change_signs_out_the_other_browser_and_keeps_this_one() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut laptop = browser(&app);
    laptop.register("ann", "correct horse").await;
    let mut phone = browser(&app);
    assert!(phone
        .login("ann", "correct horse")
        .await
        .redirects_to("/dashboard"));
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::OK);

    let page = laptop
        .submit(
            "/settings",
            "/settings",
            &change("correct horse", "battery staple"),
        )
        .await;
    assert!(page.redirects_to("/settings?changed=1"), "{page:?}");
    assert_eq!(
        laptop.get("/dashboard").await.status,
        StatusCode::OK,
        "this browser stays"
    );
    let page = phone.get("/dashboard").await;
    assert!(page.redirects_to("/login?next=/dashboard"), "{page:?}");
    assert!(
        phone.cookie.is_none(),
        "the other browser's cookie is removed"
    );
}

#[actix_web::test]
async fn a_deleted_accounts_cookie_is_anonymous() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, mut bob) = ann_and_bob(&app).await;
    let bob_cookie = bob.cookie.clone();
    ann.submit("/admin", &delete_url(&site.uid("bob")), &[])
        .await;
    let home = bob.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.body.contains("bob"), "anonymous: {}", home.body);
    let mut replay = browser(&app);
    replay.cookie = bob_cookie;
    assert!(replay
        .get("/dashboard")
        .await
        .redirects_to("/login?next=/dashboard"));
}

// ---- brute force: the throttles -------------------------------------------------------------

const MALLORY: &str = "203.0.113.66";
const ANN_HOME: &str = "198.51.100.10";
const BOB_HOME: &str = "192.0.2.20";

/// `attempts` wrong passwords for `username` from one browser (one CSRF token, one address):
/// how many got the 401 of a checked password and how many the 429 of the throttle.
async fn guess(browser: &mut Client<'_>, username: &str, attempts: usize) -> (usize, usize) {
    let token = browser.get("/login").await.csrf();
    let (mut checked, mut throttled) = (0, 0);
    for i in 0..attempts {
        let password = format!("guess number {i}");
        let fields = [
            (csrf::FIELD, token.as_str()),
            ("username", username),
            ("password", password.as_str()),
        ];
        let page = browser.post_form("/login", &fields).await;
        match page.status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("guess {i}: {other}: {}", page.body),
        }
    }
    (checked, throttled)
}

#[actix_web::test]
async fn a_thousand_wrong_passwords_reach_the_password_check_five_times() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app)
        .from_ip(ANN_HOME)
        .register("ann", "correct horse")
        .await;
    let before = site.verifications();
    let mut mallory = browser(&app).from_ip(MALLORY);
    let (checked, throttled) = guess(&mut mallory, "ann", 1000).await;
    let limit = usize::try_from(SIGN_IN_FAILURES_PER_ACCOUNT).unwrap();
    assert_eq!((checked, throttled), (limit, 1000 - limit));
    assert_eq!(
        site.verifications() - before,
        u64::from(SIGN_IN_FAILURES_PER_ACCOUNT),
        "only the attempts let through were checked"
    );
}

#[actix_web::test]
async fn a_throttled_sign_in_says_how_long_to_wait_alike_for_unknown_names() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app)
        .from_ip(ANN_HOME)
        .register("ann", "correct horse")
        .await;
    let mut pages = Vec::new();
    for name in ["ann", "nobody"] {
        let mut mallory = browser(&app).from_ip(MALLORY);
        guess(&mut mallory, name, 5).await;
        let token = mallory.get("/login").await.csrf();
        let page = mallory
            .post_form(
                "/login",
                &[
                    (csrf::FIELD, &token),
                    ("username", name),
                    ("password", "correct horse"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert_eq!(page.retry_after.as_deref(), Some("60"), "{name}");
        assert!(
            page.body
                .contains("Too many attempts. Please wait 1 minute and try again."),
            "{name}: {}",
            page.body
        );
        assert!(page.set_cookie.is_none(), "{name}: nobody signed in");
        pages.push(page.body.replace(name, "NAME").replace(&token, "TOKEN"));
    }
    assert_eq!(pages[0], pages[1], "known and unknown names look the same");
}

#[actix_web::test]
async fn the_right_password_is_accepted_again_after_the_wait() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app).from_ip(ANN_HOME);
    ann.register("ann", "correct horse").await;
    ann.logout().await;
    guess(&mut browser(&app).from_ip(MALLORY), "ann", 100).await;
    // The account is locked for everyone, ann included: the price of a per-account limit.
    let page = ann.login("ann", "correct horse").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    site.clock.advance(FIRST_LOCK);
    let page = ann.login("ann", "correct horse").await;
    assert!(page.redirects_to("/dashboard"), "{page:?}");
}

#[actix_web::test]
async fn another_account_from_another_address_is_not_affected() {
    let site = Site::new(cheap());
    let app = site.service().await;
    browser(&app)
        .from_ip(ANN_HOME)
        .register("ann", "correct horse")
        .await;
    let mut bob = browser(&app).from_ip(BOB_HOME);
    bob.register("bob", "battery staple").await;
    bob.logout().await;
    guess(&mut browser(&app).from_ip(MALLORY), "ann", 100).await;
    let page = bob.login("bob", "battery staple").await;
    assert!(page.redirects_to("/dashboard"), "{page:?}");
    let (checked, _) = guess(&mut browser(&app).from_ip(BOB_HOME), "bob", 3).await;
    assert_eq!(checked, 3, "bob's own wrong passwords are still checked");
}

#[actix_web::test]
async fn password_confirmation_counts_against_the_same_account() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app).from_ip(ANN_HOME);
    ann.register("ann", "correct horse").await;
    site.clock.advance(Duration::from_secs(301));
    let limit = usize::try_from(SIGN_IN_FAILURES_PER_ACCOUNT).unwrap();
    let confirm = |password| [("password", password), ("next", "/settings")];
    for _ in 0..limit {
        let page = ann
            .submit("/reauth", "/reauth", &confirm("wrong horse"))
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let page = ann
        .submit("/reauth", "/reauth", &confirm("correct horse"))
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Please wait 1 minute"), "{}", page.body);
    // The sign-in form shares the counter: no form gives more guesses than another.
    let (checked, _) = guess(&mut browser(&app).from_ip(MALLORY), "ANN", 1).await;
    assert_eq!(checked, 0);
}

#[actix_web::test]
async fn wrong_current_passwords_in_a_password_change_count_against_the_account() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let mut ann = browser(&app).from_ip(ANN_HOME);
    ann.register("ann", "correct horse").await;
    let hash = site.stored_hash("ann");
    for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT {
        let page = ann
            .submit(
                "/settings",
                "/settings",
                &change("wrong horse", "new password 1"),
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    // A policy refusal tries no password and counts for nothing; it still says what is wrong.
    let page = ann
        .submit("/settings", "/settings", &change("correct horse", "short"))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = ann
        .submit(
            "/settings",
            "/settings",
            &change("correct horse", "new password 1"),
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.retry_after.as_deref(), Some("60"));
    assert!(page.body.contains("Please wait 1 minute"), "{}", page.body);
    assert_eq!(site.stored_hash("ann"), hash, "the password did not change");
}

#[actix_web::test]
async fn registrations_are_limited_per_address() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let limit = usize::try_from(REGISTRATIONS_PER_ADDRESS).unwrap();
    for i in 0..limit {
        let mut browser = browser(&app).from_ip(MALLORY);
        let page = browser.register(&format!("bot{i}"), "correct horse").await;
        assert!(page.redirects_to("/dashboard"), "{i}: {page:?}");
    }
    let page = browser(&app)
        .from_ip(MALLORY)
        .register("one-more", "correct horse")
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Too many attempts"), "{}", page.body);
    assert_eq!(site.user_count(), limit, "nothing created");
    let page = browser(&app)
        .from_ip(ANN_HOME)
        .register("ann", "correct horse")
        .await;
    assert!(page.redirects_to("/dashboard"), "another address: {page:?}");
}

// ---- My sessions ------------------------------------------------------------------------------

/// Three browsers of one person: a laptop, a phone and a tablet, each with its own User-Agent and
/// address. The laptop registers `ann`, the others sign in.
async fn ann_on_three_browsers(app: &TestApp) -> [Client<'_>; 3] {
    let laptop = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Mobile Safari/537.36";
    let tablet = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
                  like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    let mut browsers = [
        browser(app).user_agent(laptop).from_ip("192.0.2.10"),
        browser(app).user_agent(phone).from_ip("198.51.100.20"),
        browser(app).user_agent(tablet).from_ip("203.0.113.30"),
    ];
    let [first, rest @ ..] = &mut browsers;
    assert!(first
        .register("ann", "correct horse")
        .await
        .redirects_to("/dashboard"));
    for other in rest {
        let page = other.login("ann", "correct horse").await;
        assert!(page.redirects_to("/dashboard"), "{page:?}");
    }
    browsers
}

/// The session ids of the settings page's End forms, in page order.
fn end_buttons(page: &Reply) -> Vec<String> {
    let marker = r#"name="session" value=""#;
    page.body
        .match_indices(marker)
        .map(|(at, _)| {
            let start = at + marker.len();
            let len = page.body[start..].find('"').unwrap();
            page.body[start..start + len].to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn settings_list_every_browser_of_the_account_and_mark_this_one() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let [mut laptop, ..] = ann_on_three_browsers(&app).await;
    let page = laptop.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "<td>Firefox on Linux</td><td>192.0.2.10</td>",
        "<td>Chrome on Android</td><td>198.51.100.20</td>",
        "<td>Safari on iPad</td><td>203.0.113.30</td>",
        "<td>2023-11-14 22:13 UTC</td>",
    ] {
        assert!(
            page.body.contains(shown),
            "{shown} missing from {}",
            page.body
        );
    }
    assert_eq!(page.body.matches(r#"id="this-device""#).count(), 1);
    let this_row = page.body.find("Firefox on Linux").unwrap();
    let marker = page.body.find(r#"id="this-device""#).unwrap();
    let next_row = page.body[this_row..].find("</tr>").unwrap() + this_row;
    assert!(
        (this_row..next_row).contains(&marker),
        "the laptop's own row"
    );
    assert_eq!(
        end_buttons(&page).len(),
        2,
        "an End button for each other browser"
    );
    // Another account sees only its own.
    let mut bob = browser(&app);
    bob.register("bob", "battery staple").await;
    let page = bob.get("/settings").await;
    assert_eq!(end_buttons(&page).len(), 0);
    assert_eq!(page.body.matches("<tr><td>").count(), 1);
}

#[actix_web::test]
async fn ending_a_session_on_the_settings_page_signs_that_browser_out_at_once() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let [mut laptop, mut phone, mut tablet] = ann_on_three_browsers(&app).await;
    let page = laptop.get("/settings").await;
    let phone_row = page.body.find("Chrome on Android").unwrap();
    let phone_sid = end_buttons(&Reply {
        body: page.body[phone_row..].to_owned(),
        ..page
    })[0]
        .clone();
    let token = laptop.get("/settings").await.csrf();
    let fields = [
        (csrf::FIELD, token.as_str()),
        ("session", phone_sid.as_str()),
    ];
    let done = laptop.post_form("/settings/sessions/end", &fields).await;
    assert!(done.redirects_to("/settings?ended=1"), "{done:?}");
    let page = phone.get("/dashboard").await;
    assert!(
        page.redirects_to("/login?next=/dashboard"),
        "signed out: {page:?}"
    );
    let page = laptop.get("/settings?ended=1").await;
    assert!(page.body.contains("that browser is signed out"));
    assert!(
        !page.body.contains("Chrome on Android"),
        "gone from the list"
    );
    assert_eq!(end_buttons(&page).len(), 1);
    assert_eq!(tablet.get("/dashboard").await.status, StatusCode::OK);
    // Ending it again: already ended.
    let fields = [
        (csrf::FIELD, token.as_str()),
        ("session", phone_sid.as_str()),
    ];
    let again = laptop.post_form("/settings/sessions/end", &fields).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("already ended"));
}

#[actix_web::test]
async fn ending_a_session_needs_the_csrf_token_and_an_own_session() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let [mut laptop, mut phone, _] = ann_on_three_browsers(&app).await;
    let page = laptop.get("/settings").await;
    let target = end_buttons(&page)[0].clone();
    for token in ["", "forged-token"] {
        let fields = [(csrf::FIELD, token), ("session", target.as_str())];
        let refused = laptop.post_form("/settings/sessions/end", &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    let unchanged = laptop.get("/settings").await;
    assert_eq!(end_buttons(&unchanged), end_buttons(&page), "nothing ended");
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::OK);
    // Another account cannot end ann's sessions, even with its own valid token.
    let mut bob = browser(&app);
    bob.register("bob", "battery staple").await;
    let token = bob.get("/settings").await.csrf();
    let fields = [(csrf::FIELD, token.as_str()), ("session", target.as_str())];
    let refused = bob.post_form("/settings/sessions/end", &fields).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(
        end_buttons(&laptop.get("/settings").await),
        end_buttons(&page)
    );
}

#[actix_web::test]
async fn ending_this_browsers_own_session_signs_it_out() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let [mut laptop, mut phone, _] = ann_on_three_browsers(&app).await;
    let copy = laptop.clone();
    let sid = site_sid(&mut laptop).await;
    let token = laptop.get("/settings").await.csrf();
    let fields = [(csrf::FIELD, token.as_str()), ("session", sid.as_str())];
    let done = laptop.post_form("/settings/sessions/end", &fields).await;
    assert!(done.redirects_to("/?signed_out=1"), "{done:?}");
    assert!(laptop.cookie.is_none());
    let mut copy = copy;
    let page = copy.get("/dashboard").await;
    assert!(
        page.redirects_to("/login?next=/dashboard"),
        "a copy is refused too"
    );
    assert_eq!(end_buttons(&phone.get("/settings").await).len(), 1);
}

/// The full session id of `browser`'s session, read from its cookie (the pages show 8 characters).
async fn site_sid(browser: &mut Client<'_>) -> String {
    let value = browser.cookie.as_ref().unwrap().value().to_owned();
    let payload = value.split('.').nth(1).unwrap();
    let json =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&json).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn after_a_password_change_only_this_browser_is_listed() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let [mut laptop, ..] = ann_on_three_browsers(&app).await;
    let page = laptop
        .submit(
            "/settings",
            "/settings",
            &change("correct horse", "battery staple"),
        )
        .await;
    assert!(page.redirects_to("/settings?changed=1"), "{page:?}");
    let page = laptop.get("/settings").await;
    assert_eq!(page.body.matches("<tr><td>").count(), 1, "{}", page.body);
    assert_eq!(page.body.matches(r#"id="this-device""#).count(), 1);
}

// ---- notes: owner, editor, admin ---------------------------------------------------------------

/// The admin page's editor form for the account `uid` (`action=grant` or `revoke`).
fn editor_url(uid: &str) -> String {
    format!("/admin/users/{uid}/editor")
}

/// Writes a note with the form on `/notes`; returns its address (`/notes/{id}`).
async fn write_note(browser: &mut Client<'_>, title: &str, body: &str) -> String {
    let reply = browser
        .submit("/notes", "/notes", &[("title", title), ("body", body)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    let location = reply.location.expect("a note's address");
    assert!(location.starts_with("/notes/"), "{location}");
    location
}

/// The owner writes and edits; another member gets 404 for every verb, the same as for a
/// missing note, and never sees the title; an editor reads and edits but may not delete (403);
/// the admin deletes.
#[actix_web::test]
async fn notes_belong_to_their_owner_editors_edit_and_admins_delete() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (mut ann, mut bob) = ann_and_bob(&app).await;
    let mut carol = browser(&app);
    carol.register("carol", "purple monkey dishwasher").await;

    let note = write_note(&mut bob, "Bob's plan", "step one").await;
    let page = bob.get(&note).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Bob&#39;s plan") || page.body.contains("Bob's plan"));
    let edit = format!("{note}/edit");
    let delete = format!("{note}/delete");
    let reply = bob
        .submit(
            &note,
            &edit,
            &[("title", "Bob's new plan"), ("body", "step two")],
        )
        .await;
    assert!(reply.redirects_to(&note), "{reply:?}");
    assert!(bob.get(&note).await.body.contains("step two"));
    assert!(bob.get("/notes").await.body.contains("new plan"));

    // Carol, a member: 404 for every verb, like a note that does not exist.
    let missing = "/notes/999999";
    for path in [note.as_str(), missing] {
        let page = carol.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.body.contains("plan") && !page.body.contains("step two"));
    }
    for (action, fields) in [
        (edit.as_str(), &[("title", "mine now"), ("body", "x")][..]),
        (delete.as_str(), &[][..]),
        ("/notes/999999/edit", &[("title", "t"), ("body", "x")][..]),
        ("/notes/999999/delete", &[][..]),
    ] {
        let reply = carol.submit("/notes", action, fields).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{action}: {}",
            reply.body
        );
    }
    assert!(!carol.get("/notes").await.body.contains("plan"));
    assert!(
        bob.get(&note).await.body.contains("Bob&#39;s new plan")
            || bob.get(&note).await.body.contains("Bob's new plan")
    );

    // The admin makes carol an editor: she reads and edits, but may not delete.
    let uid = site.uid("carol");
    let reply = ann
        .submit("/admin", &editor_url(&uid), &[("action", "grant")])
        .await;
    assert!(
        reply.redirects_to("/admin?done=editor-granted"),
        "{reply:?}"
    );
    assert!(site.user("carol").unwrap().editor);
    assert_eq!(carol.get(&note).await.status, StatusCode::OK);
    let reply = carol
        .submit(
            &note,
            &edit,
            &[("title", "Edited by carol"), ("body", "step three")],
        )
        .await;
    assert!(reply.redirects_to(&note), "{reply:?}");
    assert!(bob.get(&note).await.body.contains("Edited by carol"));
    let reply = carol.submit(&note, &delete, &[]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(bob.get(&note).await.status, StatusCode::OK, "still there");
    // An editor's missing note is a 404 too.
    assert_eq!(carol.get(missing).await.status, StatusCode::NOT_FOUND);

    // Revoked: back to 404.
    let reply = ann
        .submit("/admin", &editor_url(&uid), &[("action", "revoke")])
        .await;
    assert!(
        reply.redirects_to("/admin?done=editor-revoked"),
        "{reply:?}"
    );
    assert_eq!(carol.get(&note).await.status, StatusCode::NOT_FOUND);

    // The admin (who includes editor) deletes.
    let reply = ann.submit(&note, &delete, &[]).await;
    assert!(reply.redirects_to("/notes"), "{reply:?}");
    assert_eq!(bob.get(&note).await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn notes_need_a_signed_in_user_and_a_valid_token() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (_ann, mut bob) = ann_and_bob(&app).await;
    let note = write_note(&mut bob, "t", "b").await;
    let mut anonymous = browser(&app);
    for path in ["/notes", note.as_str()] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(page.location.unwrap().starts_with("/login?next="), "{path}");
    }
    let reply = bob
        .post_form(&format!("{note}/delete"), &[(csrf::FIELD, "forged")])
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(bob.get(&note).await.status, StatusCode::OK, "not deleted");
    let reply = bob
        .post_form(
            "/notes",
            &[(csrf::FIELD, "forged"), ("title", "x"), ("body", "y")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = bob.get("/notes/abc").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// Titles and bodies are text: markup in them is shown, never run (the templates escape).
#[actix_web::test]
async fn markup_in_a_note_is_escaped() {
    let site = Site::new(cheap());
    let app = site.service().await;
    let (_ann, mut bob) = ann_and_bob(&app).await;
    let title = "<script>alert(1)</script>";
    let body = "\"><img src=x onerror=alert(2)>";
    let note = write_note(&mut bob, title, body).await;
    for page in [bob.get(&note).await, bob.get("/notes").await] {
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        assert!(!page.body.contains("<img src=x"), "{}", page.body);
        assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
    assert!(bob.get(&note).await.body.contains("&lt;img src=x"));
}
