//! Time attacks, on a manual clock: an expired `exp`, an `iat` beyond the 60 s skew, an
//! `auth_time` past the absolute timeout, and re-issues near or past the absolute deadline are
//! refused or capped, in every cookie format. The boundaries of the default configuration (idle
//! expiry, the skew, rolling refresh) are in `session_core.rs`; these tables add the extremes,
//! configuration changes between issue and use, and every way a cookie gets re-issued.

use std::{sync::Arc, time::Duration};

use actix_web::{http::StatusCode, test::TestRequest};
use session_core::{clock::ManualClock, AuthSession, AuthSessionBuilder, Refresh};
use tests::{call, get, key, login, post, routes, session_cookie, session_value, test_app, T0};

use crate::formats::{Format, FORMATS};

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

fn builder(
    format: Format,
    clock: &Arc<ManualClock>,
    max_age: u64,
    absolute: u64,
) -> AuthSessionBuilder {
    let builder = AuthSession::builder(key(7))
        .clock(clock.clone())
        .lifetime(|l| {
            l.max_age(Duration::from_secs(max_age))
                .absolute_timeout(Duration::from_secs(absolute))
                .refresh(Refresh::EveryRequest)
        });
    format.configure(builder)
}

/// A cookie issued at [`T0`] under `(max_age, absolute)`, checked at `at` under another
/// configuration (same key): the operator changed the timeouts in between, or the clock is hostile.
struct Case {
    name: &'static str,
    issued_under: (u64, u64),
    checked_under: (u64, u64),
    at: i64,
    want: Result<(), &'static str>,
}

#[actix_web::test]
async fn cookie_times_are_checked_against_the_current_configuration() {
    let cases = [
        Case {
            name: "exp ten years ago",
            issued_under: (HOUR, DAY),
            checked_under: (HOUR, DAY),
            at: T0 + 10 * 365 * DAY as i64,
            want: Err("expired"),
        },
        Case {
            name: "clock at the end of time",
            issued_under: (HOUR, DAY),
            checked_under: (HOUR, DAY),
            at: i64::MAX,
            want: Err("expired"),
        },
        Case {
            name: "iat a year ahead",
            issued_under: (HOUR, DAY),
            checked_under: (HOUR, DAY),
            at: T0 - 365 * DAY as i64,
            want: Err("issued_in_future"),
        },
        Case {
            name: "clock at the epoch",
            issued_under: (HOUR, DAY),
            checked_under: (HOUR, DAY),
            at: 0,
            want: Err("issued_in_future"),
        },
        Case {
            name: "clock at the start of time",
            issued_under: (HOUR, DAY),
            checked_under: (HOUR, DAY),
            at: i64::MIN,
            want: Err("issued_in_future"),
        },
        Case {
            name: "absolute timeout shortened below exp: just before the new deadline",
            issued_under: (7 * DAY, 30 * DAY),
            checked_under: (HOUR, HOUR),
            at: T0 + HOUR as i64 - 1,
            want: Ok(()),
        },
        Case {
            name: "absolute timeout shortened below exp: at the new deadline",
            issued_under: (7 * DAY, 30 * DAY),
            checked_under: (HOUR, HOUR),
            at: T0 + HOUR as i64,
            want: Err("absolute_timeout"),
        },
        Case {
            name: "absolute timeout shortened below exp: a day later, exp six days ahead",
            issued_under: (7 * DAY, 30 * DAY),
            checked_under: (HOUR, HOUR),
            at: T0 + DAY as i64,
            want: Err("absolute_timeout"),
        },
        Case {
            name: "absolute timeout lengthened: the signed exp still ends the cookie",
            issued_under: (HOUR, HOUR),
            checked_under: (HOUR, 30 * DAY),
            at: T0 + HOUR as i64,
            want: Err("expired"),
        },
    ];
    for format in FORMATS {
        for case in &cases {
            let clock = Arc::new(ManualClock::new(T0));
            let (max_age, absolute) = case.issued_under;
            let issuer = test_app(
                builder(*format, &clock, max_age, absolute).build().unwrap(),
                routes,
            )
            .await;
            let cookie = login(&issuer, "/login?id=alice").await.value().to_owned();

            let (max_age, absolute) = case.checked_under;
            let checker = builder(*format, &clock, max_age, absolute).build().unwrap();
            let app = test_app(checker.clone(), routes).await;
            clock.set(case.at);
            let got = checker.inspect(&cookie).map(|_| ()).map_err(|r| r.reason());
            assert_eq!(got, case.want, "{format:?}: {}", case.name);
            let res = call(&app, get("/me").cookie(session_value(&cookie))).await;
            let status = if case.want.is_ok() {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(res.status(), status, "{format:?}: {}", case.name);
            if case.want.is_err() {
                assert!(
                    session_cookie(&res).is_none(),
                    "{format:?}: {}: refused, not refreshed",
                    case.name
                );
            }
        }
    }
}

/// Idle lifetime one hour, absolute two hours, refresh on every request.
const MAX_AGE: u64 = HOUR;
const ABSOLUTE: u64 = 2 * HOUR;
const DEADLINE: i64 = T0 + ABSOLUTE as i64;

/// What a request does to the session: each a way to get a new cookie.
const ACTIONS: &[(&str, &str)] = &[
    ("rolling refresh", "GET /public"),
    ("data change", "POST /data?k=theme&v=dark"),
    ("new session id", "POST /renew"),
    ("read the user", "GET /me"),
];

fn request(action: &str) -> TestRequest {
    let (method, uri) = action.split_once(' ').unwrap();
    match method {
        "GET" => get(uri),
        _ => post(uri),
    }
}

/// No request before the deadline gets a cookie that outlives it, and none at or after it
/// brings the user back: the deadline is `auth_time + absolute_timeout`, whatever is refreshed.
#[actix_web::test]
async fn no_reissue_outlives_the_absolute_deadline() {
    for format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let auth = builder(*format, &clock, MAX_AGE, ABSOLUTE).build().unwrap();
        let app = test_app(auth.clone(), routes).await;
        let mut cookie = login(&app, "/login?id=alice").await.value().to_owned();
        // Keep the session alive until its refreshes reach the cap.
        for at in [T0 + 3000, T0 + 6000] {
            clock.set(at);
            let res = call(&app, get("/public").cookie(session_value(&cookie))).await;
            cookie = session_cookie(&res).expect("refreshed").value().to_owned();
        }
        let capped = auth.inspect(&cookie).unwrap();
        assert_eq!(
            capped["exp"], DEADLINE,
            "{format:?}: refresh capped at the deadline"
        );

        for (name, action) in ACTIONS {
            for left in [600, 1] {
                let at = DEADLINE - left;
                clock.set(at);
                let res = call(&app, request(action).cookie(session_value(&cookie))).await;
                assert!(
                    res.status().is_success(),
                    "{format:?} {name} at deadline - {left}"
                );
                let Some(issued) = session_cookie(&res) else {
                    continue;
                };
                let claims = auth.inspect(issued.value()).unwrap();
                let what = format!("{format:?} {name} at deadline - {left}: {claims}");
                assert_eq!(claims["exp"], DEADLINE, "{what}");
                assert_eq!(claims["auth_time"], T0, "{what}");
                assert_eq!(claims["sub"], "alice", "{what}");
                let max_age = issued.max_age().expect("persistent").whole_seconds();
                assert_eq!(max_age, left, "{what}: Max-Age ends at the deadline");
            }
            for after in [0, 1, DAY as i64] {
                clock.set(DEADLINE + after);
                let what = format!("{format:?} {name} at deadline + {after}");
                let res = call(&app, request(action).cookie(session_value(&cookie))).await;
                match session_cookie(&res) {
                    None => {}
                    Some(issued) => {
                        let claims = auth.inspect(issued.value()).unwrap();
                        assert_eq!(
                            claims.get("sub"),
                            None,
                            "{what}: the user is gone: {claims}"
                        );
                        assert_eq!(
                            claims["auth_time"],
                            DEADLINE + after,
                            "{what}: a new session"
                        );
                    }
                }
                let res = call(&app, get("/me").cookie(session_value(&cookie))).await;
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
            }
        }
    }
}

/// A cookie verified under a previous key is re-issued under the current one with its times
/// unchanged: rotation neither extends `exp` nor resets the absolute deadline.
#[actix_web::test]
async fn key_rotation_reissue_keeps_the_deadline() {
    for format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let old = test_app(
            builder(*format, &clock, MAX_AGE, ABSOLUTE)
                .lifetime(|l| l.refresh(Refresh::Never))
                .build()
                .unwrap(),
            routes,
        )
        .await;
        let cookie = login(&old, "/login?id=alice").await.value().to_owned();
        let rotated = format
            .configure(
                AuthSession::builder(key(8))
                    .previous_keys([key(7)])
                    .clock(clock.clone())
                    .lifetime(|l| {
                        l.max_age(Duration::from_secs(MAX_AGE))
                            .absolute_timeout(Duration::from_secs(ABSOLUTE))
                            .refresh(Refresh::Never)
                    }),
            )
            .build()
            .unwrap();
        let app = test_app(rotated.clone(), routes).await;
        let at = T0 + MAX_AGE as i64 - 1;
        clock.set(at);
        let res = call(&app, get("/me").cookie(session_value(&cookie))).await;
        assert_eq!(res.status(), StatusCode::OK, "{format:?}");
        let reissued = session_cookie(&res).expect("re-issued under the current key");
        let claims = rotated.inspect(reissued.value()).unwrap();
        assert_eq!(claims["exp"], T0 + MAX_AGE as i64, "{format:?}: exp kept");
        assert_eq!(claims["auth_time"], T0, "{format:?}");
        assert_eq!(claims["iat"], at, "{format:?}");
        assert_eq!(
            reissued.max_age().map(|d| d.whole_seconds()),
            Some(1),
            "{format:?}"
        );
        clock.set(T0 + MAX_AGE as i64);
        let res = call(&app, get("/me").cookie(session_value(reissued.value()))).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{format:?}: ends at the old exp"
        );
    }
}
