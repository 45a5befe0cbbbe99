//! Cookie hygiene, in every cookie format: sessions that would not fit a browser cookie are a
//! clear error, duplicate session cookies resolve deterministically (the first one, in header
//! order, that verifies), and every cookie the middleware sets for a session carries the same
//! attributes, the removal cookie of a logout included.

use std::{sync::Arc, time::Duration};

use actix_web::{
    cookie::{Cookie, SameSite},
    http::{header, StatusCode},
    test::{read_body, read_body_json},
    web, HttpResponse,
};
use session_core::{
    clock::ManualClock, AuthSession, AuthSessionBuilder, Login, Session, SessionError,
    MAX_COOKIE_LEN,
};
use tests::{
    call, get, key, login, post, routes, session_cookie, set_cookies, test_app, TestApp, COOKIE, T0,
};

use crate::formats::{Format, FORMATS};

fn builder(format: Format, clock: &Arc<ManualClock>) -> AuthSessionBuilder {
    builder_with(format, clock, 7)
}

fn builder_with(format: Format, clock: &Arc<ManualClock>, key_byte: u8) -> AuthSessionBuilder {
    format.configure(AuthSession::builder(key(key_byte)).clock(clock.clone()))
}

/// The value of the cookie a login as `id` gets from an app with `auth`.
async fn login_as(auth: AuthSession, id: &str) -> String {
    let app = test_app(auth, routes).await;
    let cookie = login(&app, &format!("/login?id={id}")).await;
    cookie.value().to_owned()
}

// ---------------------------------------------------------------- size

/// Logs in with a data value of `n` bytes: 200 if the session fits, else 500 (the error is
/// opaque to the client; its message is in the body only for this test).
async fn login_with_blob(session: Session, n: web::Path<usize>) -> HttpResponse {
    let before = session.get::<String>("csrf").unwrap();
    match session.login(Login::new("alice").data("blob", "x".repeat(*n))) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(err) => {
            assert!(
                matches!(err, SessionError::TooLarge { limit: 4096, .. }),
                "{err}"
            );
            assert_eq!(
                session.get::<String>("csrf").unwrap(),
                before,
                "nothing changed"
            );
            assert_eq!(session.get::<String>("blob").unwrap(), None);
            HttpResponse::InternalServerError().body(err.to_string())
        }
    }
}

/// The test routes and `POST /login-blob/{n}`.
async fn size_app(auth: AuthSession) -> TestApp {
    test_app(auth, |cfg| {
        routes(cfg);
        cfg.route("/login-blob/{n}", web::post().to(login_with_blob));
    })
    .await
}

#[actix_web::test]
async fn login_with_huge_data_is_a_clear_error_and_changes_nothing() {
    for &format in FORMATS {
        let app = size_app(builder(format, &tests::clock()).build().unwrap()).await;
        let res = call(&app, post("/data?k=csrf&v=t0k3n")).await;
        let anonymous = session_cookie(&res).unwrap();
        let res = call(&app, post("/login-blob/5000").cookie(anonymous)).await;
        assert_eq!(
            res.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{format:?}"
        );
        assert!(session_cookie(&res).is_none(), "{format:?}: no cookie set");
        let body = read_body(res).await;
        let message = std::str::from_utf8(&body).unwrap();
        assert!(message.contains("over the 4096-byte limit"), "{message}");
    }
}

/// The largest session that is issued fits a browser cookie together with its name (browsers
/// drop a cookie whose name and value exceed 4096 bytes); one byte more is refused.
#[actix_web::test]
async fn the_largest_issued_cookie_fits_with_its_name() {
    for &format in FORMATS {
        for name in [COOKIE, "a-much-longer-session-cookie-name-of-the-app"] {
            let clock = tests::clock();
            let auth = builder(format, &clock)
                .cookie(|c| c.name(name))
                .build()
                .unwrap();
            let app = size_app(auth.clone()).await;
            let fits = |n: usize| call(&app, post(&format!("/login-blob/{n}")));
            let (mut lo, mut hi) = (0, MAX_COOKIE_LEN); // lo fits, hi does not
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if fits(mid).await.status().is_success() {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let res = fits(lo).await;
            let cookie = set_cookies(&res, name).pop().expect("issued");
            let len = cookie.name().len() + cookie.value().len();
            assert!(len <= MAX_COOKIE_LEN, "{format:?} {name}: {len} bytes");
            assert!(
                len > MAX_COOKIE_LEN - 8,
                "{format:?} {name}: the limit is used: {len}"
            );
            assert!(auth.inspect(cookie.value()).is_ok(), "{format:?} {name}");
            assert_eq!(
                fits(lo + 1).await.status(),
                StatusCode::INTERNAL_SERVER_ERROR
            );
        }
    }
}

// ---------------------------------------------------------------- duplicates

/// One row: the `Cookie` headers sent (tokens in braces, `{N}` the session cookie's name), the
/// user the request must be signed in as, and whether the chosen cookie is re-issued (it verified
/// under a previous key). Two *different* valid sessions make the request anonymous (one of them
/// was tossed in); dead cookies (expired, forged, unknown key, garbage) never hide a valid one.
struct Duplicates {
    headers: &'static [&'static str],
    user: Option<&'static str>,
    reissued: bool,
}

const DUPLICATES: &[Duplicates] = &[
    Duplicates {
        headers: &["{N}={A}; {N}={B}"],
        user: None,
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={B}", "{N}={A}"],
        user: None,
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={A}; {N}={A}"],
        user: Some("alice"),
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={F}; {N}={A}"],
        user: Some("alice"),
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={E}; {N}={B}"],
        user: Some("bob"),
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={K}; {N}={X}; {N}={F}; {N}={E}"],
        user: None,
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={X}; {N}={P}"],
        user: Some("carol"),
        reissued: true,
    },
    Duplicates {
        headers: &["{N}={P}; {N}={A}"],
        user: None,
        reissued: false,
    },
    Duplicates {
        headers: &["{N}={F}", "{N}={B}; {N}={K}"],
        user: Some("bob"),
        reissued: false,
    },
    Duplicates {
        headers: &["other={A}; {N}={B}"],
        user: Some("bob"),
        reissued: false,
    },
    Duplicates {
        headers: &["SESSION={A}; session_={A}; {N}_={A}"],
        user: None,
        reissued: false,
    },
    Duplicates {
        headers: &["{N}=; {N}={B}"],
        user: Some("bob"),
        reissued: false,
    },
];

#[actix_web::test]
async fn duplicate_cookies_one_valid_session_wins_two_make_the_request_anonymous() {
    for &format in FORMATS {
        let clock = tests::clock();
        let auth = builder(format, &clock)
            .previous_keys([key(8)])
            .build()
            .unwrap();
        let app = test_app(auth.clone(), routes).await;
        let alice = login_as(auth.clone(), "alice").await;
        let bob = login_as(auth.clone(), "bob").await;
        let carol = login_as(builder_with(format, &clock, 8).build().unwrap(), "carol").await;
        let mallory = login_as(builder_with(format, &clock, 9).build().unwrap(), "mallory").await;
        clock.set(T0 - 8 * 24 * 3600);
        let expired = login_as(auth.clone(), "eve").await;
        clock.set(T0);
        let mut forged = alice.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        let tokens = [
            ("{A}", alice.as_str()),
            ("{B}", bob.as_str()),
            ("{P}", carol.as_str()),
            ("{K}", mallory.as_str()),
            ("{E}", expired.as_str()),
            ("{F}", forged.as_str()),
            ("{X}", "x"),
            ("{N}", COOKIE),
        ];
        for row in DUPLICATES {
            let mut req = get("/maybe");
            for header_value in row.headers {
                let value = tokens
                    .iter()
                    .fold(header_value.to_string(), |v, (token, cookie)| {
                        v.replace(token, cookie)
                    });
                req = req.append_header((header::COOKIE, value));
            }
            let res = call(&app, req).await;
            let what = format!("{format:?} {:?}", row.headers);
            let issued = session_cookie(&res);
            assert_eq!(issued.is_some(), row.reissued, "{what}: re-issue");
            if let Some(issued) = issued {
                let claims = auth.inspect(issued.value()).unwrap();
                assert_eq!(
                    claims["sub"].as_str(),
                    row.user,
                    "{what}: re-issued for the winner"
                );
            }
            let user: Option<String> = read_body_json(res).await;
            assert_eq!(user.as_deref(), row.user, "{what}");
        }
    }
}

/// However many session cookies a request carries, it costs at most `MAX_SESSION_COOKIES`
/// verifications and security events: at the limit every cookie is judged as above; over it
/// none is verified (a valid one included), the request is anonymous, and one
/// `too_many_cookies` event is all it emits.
#[actix_web::test]
async fn too_many_session_cookies_make_the_request_anonymous_with_one_event() {
    use std::sync::Mutex;

    use session_core::{events::SecurityEvent, MAX_SESSION_COOKIES};

    for &format in FORMATS {
        let clock = tests::clock();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let auth = builder(format, &clock)
            .on_security_event(move |e: &SecurityEvent| sink.lock().unwrap().push(e.clone()))
            .build()
            .unwrap();
        let app = test_app(auth.clone(), routes).await;
        let alice = login_as(auth.clone(), "alice").await;
        // Distinct forgeries: alice's cookie with its MAC cut short by one more byte each.
        let forged: Vec<String> = (1..=90)
            .map(|n| alice[..alice.len() - n].to_owned())
            .collect();
        let refused = |reason: &'static str| SecurityEvent::SessionRefused { reason };
        let take = || std::mem::take(&mut *events.lock().unwrap());
        assert_eq!(take().len(), 1, "the sign-in");

        let mut at_limit = vec![alice.as_str()];
        at_limit.extend(
            forged
                .iter()
                .take(MAX_SESSION_COOKIES - 1)
                .map(String::as_str),
        );
        let mut over_limit = vec![alice.as_str()];
        over_limit.extend(forged.iter().take(MAX_SESSION_COOKIES).map(String::as_str));
        let all: Vec<&str> = forged.iter().map(String::as_str).collect();
        let table: [(&str, &[&str], bool, usize); 3] = [
            ("at the limit", &at_limit, true, MAX_SESSION_COOKIES - 1),
            ("one over", &over_limit, false, 1),
            ("90 forged", &all, false, 1),
        ];
        for (what, values, signed_in, events_seen) in table {
            for split in [false, true] {
                let pairs: Vec<String> = values.iter().map(|v| format!("{COOKIE}={v}")).collect();
                let mut req = get("/maybe");
                if split {
                    for pair in &pairs {
                        req = req.append_header((header::COOKIE, pair.as_str()));
                    }
                } else {
                    req = req.insert_header((header::COOKIE, pairs.join("; ")));
                }
                let user: Option<String> = read_body_json(call(&app, req).await).await;
                let what = format!("{format:?} {what} (split: {split})");
                assert_eq!(user.is_some(), signed_in, "{what}");
                let seen = take();
                assert_eq!(seen.len(), events_seen, "{what}: {seen:?}");
                if !signed_in {
                    assert_eq!(seen, [refused("too_many_cookies")], "{what}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------- attributes

/// A cookie configuration to check: its label, the settings, and the attributes they give.
type AttributeConfig = (
    &'static str,
    fn(AuthSessionBuilder) -> AuthSessionBuilder,
    Attributes,
);

fn expect(
    name: &str,
    path: &str,
    domain: Option<&str>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
) -> Attributes {
    Attributes {
        name: name.to_owned(),
        path: Some(path.to_owned()),
        domain: domain.map(str::to_owned),
        // A cookie parsed back from `Set-Cookie` shows an absent flag as `None`.
        secure: secure.then_some(true),
        http_only: http_only.then_some(true),
        same_site: Some(same_site),
    }
}

/// Cookie settings to check; every one is applied on top of the defaults.
fn attribute_configs() -> Vec<AttributeConfig> {
    vec![
        (
            "defaults",
            |b| b,
            expect("__Host-session", "/", None, true, true, SameSite::Lax),
        ),
        (
            "plain http keeps the plain name",
            |b| b.cookie(|c| c.secure(false)),
            expect("session", "/", None, false, true, SameSite::Lax),
        ),
        (
            "everything changed",
            |b| {
                b.cookie(|c| {
                    c.name("sid")
                        .path("/app")
                        .domain("example.com")
                        .same_site(SameSite::Strict)
                        .secure(false)
                        .http_only(false)
                })
            },
            expect(
                "sid",
                "/app",
                Some("example.com"),
                false,
                false,
                SameSite::Strict,
            ),
        ),
        (
            "cross-site",
            |b| {
                b.cookie(|c| {
                    c.same_site(SameSite::None)
                        .secure(true)
                        .domain("auth.example.org")
                        .path("/a/b")
                })
            },
            expect(
                "session",
                "/a/b",
                Some("auth.example.org"),
                true,
                true,
                SameSite::None,
            ),
        ),
        (
            "lax over http",
            |b| b.cookie(|c| c.secure(false).name("__app_session")),
            expect("__app_session", "/", None, false, true, SameSite::Lax),
        ),
    ]
}

/// The attributes that must match between every cookie of a session and its removal.
#[derive(Debug, PartialEq)]
struct Attributes {
    name: String,
    path: Option<String>,
    domain: Option<String>,
    secure: Option<bool>,
    http_only: Option<bool>,
    same_site: Option<SameSite>,
}

fn attributes(cookie: &Cookie<'_>) -> Attributes {
    Attributes {
        name: cookie.name().to_owned(),
        path: cookie.path().map(str::to_owned),
        domain: cookie.domain().map(str::to_owned),
        secure: cookie.secure(),
        http_only: cookie.http_only(),
        same_site: cookie.same_site(),
    }
}

#[actix_web::test]
async fn every_cookie_of_a_session_and_its_removal_share_all_attributes() {
    for &format in FORMATS {
        for (name, configure, expected) in attribute_configs() {
            let cookie_name = expected.name.as_str();
            let clock = tests::clock();
            let auth = configure(builder(format, &clock)).build().unwrap();
            let app = test_app(auth, routes).await;
            let rotated = configure(builder_with(format, &clock, 8).previous_keys([key(7)]))
                .build()
                .unwrap();
            let rotating_app = test_app(rotated, routes).await;
            let what = format!("{format:?} {name}");
            let issued = |app_ref, req| async move {
                let res = call(app_ref, req).await;
                let mut cookies = set_cookies(&res, cookie_name);
                assert_eq!(cookies.len(), 1, "one session cookie");
                cookies.pop().unwrap()
            };
            let login = issued(&app, post("/login?id=alice")).await;
            let browser_session = issued(&app, post("/login?id=alice&remember=false")).await;
            let reissued = issued(&rotating_app, get("/me").cookie(login.clone())).await;
            clock.advance(Duration::from_secs(6 * 24 * 3600));
            let refreshed = issued(&app, get("/me").cookie(login.clone())).await;
            let removal = issued(&app, post("/logout").cookie(refreshed.clone())).await;

            for (kind, cookie) in [
                ("login", &login),
                ("remember(false) login", &browser_session),
                ("rotation re-issue", &reissued),
                ("rolling refresh", &refreshed),
                ("logout removal", &removal),
            ] {
                assert_eq!(attributes(cookie), expected, "{what}: {kind}");
            }
            assert_eq!(removal.value(), "", "{what}");
            assert_eq!(
                removal.max_age(),
                Some(actix_web::cookie::time::Duration::ZERO),
                "{what}"
            );
            assert_eq!(browser_session.max_age(), None, "{what}");
            assert!(login.max_age().is_some(), "{what}");
        }
    }
}
