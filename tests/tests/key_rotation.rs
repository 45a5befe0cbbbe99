//! Key rotation end to end, in every cookie format, beyond the single k1 → k2 step in
//! `session_core.rs`: several previous keys, a key that was never configured, and what a
//! re-issue keeps.

use std::sync::Arc;

use actix_web::http::StatusCode;
use serde_json::Value;
use session_core::{clock::ManualClock, AuthSession, Refresh};
use tests::{call, get, key, login, post, routes, session_cookie, session_value, test_app, T0};

use crate::formats::{Format, FORMATS};

/// An `AuthSession` signing with `current`, verifying `previous` too; no rolling refresh, so
/// every cookie a response sets comes from rotation (or from the handler).
fn auth(format: Format, clock: &Arc<ManualClock>, current: u8, previous: &[u8]) -> AuthSession {
    let builder = AuthSession::builder(key(current))
        .previous_keys(previous.iter().map(|&b| key(b)))
        .clock(clock.clone())
        .lifetime(|l| l.refresh(Refresh::Never));
    format.configure(builder).build().unwrap()
}

/// A session for `id` with a role and a data value, signed by `key_byte` alone.
async fn cookie_from(format: Format, clock: &Arc<ManualClock>, key_byte: u8, id: &str) -> String {
    let app = test_app(auth(format, clock, key_byte, &[]), routes).await;
    let cookie = login(&app, &format!("/login?id={id}&roles=editor")).await;
    let res = call(&app, post("/data?k=theme&v=dark").cookie(cookie)).await;
    session_cookie(&res).unwrap().value().to_owned()
}

/// The claims a re-issue must keep: everything but the issue time.
fn kept(claims: &Value) -> Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove("iat");
    claims
}

#[actix_web::test]
async fn every_previous_key_verifies_and_is_reissued_under_the_current_one() {
    for &format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let current = auth(format, &clock, 4, &[3, 2, 1]);
        let app = test_app(current.clone(), routes).await;
        let only_current = test_app(auth(format, &clock, 4, &[]), routes).await;
        for old_key in [1, 2, 3] {
            let old = cookie_from(format, &clock, old_key, "alice").await;
            let original = auth(format, &clock, old_key, &[]).inspect(&old).unwrap();
            clock.set(T0 + 60);
            let res = call(&app, get("/me").cookie(session_value(&old))).await;
            assert_eq!(res.status(), StatusCode::OK, "{format:?} k{old_key}");
            let reissued = session_cookie(&res).expect("re-issued");
            let claims = current.inspect(reissued.value()).unwrap();
            assert_eq!(
                kept(&claims),
                kept(&original),
                "{format:?} k{old_key}: claims kept"
            );
            assert_eq!(claims["iat"], T0 + 60);
            let res = call(
                &only_current,
                get("/me").cookie(session_value(reissued.value())),
            )
            .await;
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{format:?} k{old_key}: under k4"
            );
            assert_eq!(
                call(&only_current, get("/me").cookie(session_value(&old)))
                    .await
                    .status(),
                StatusCode::UNAUTHORIZED
            );
            clock.set(T0);
        }
        let fresh = cookie_from(format, &clock, 4, "bob").await;
        let res = call(&app, get("/me").cookie(session_value(&fresh))).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            session_cookie(&res).is_none(),
            "{format:?}: current key: no re-issue"
        );
    }
}

#[actix_web::test]
async fn the_order_of_previous_keys_does_not_matter() {
    for &format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let old = cookie_from(format, &clock, 2, "alice").await;
        for previous in [[1, 2, 3], [3, 2, 1], [2, 3, 1]] {
            let app = test_app(auth(format, &clock, 4, &previous), routes).await;
            let res = call(&app, get("/me").cookie(session_value(&old))).await;
            assert_eq!(res.status(), StatusCode::OK, "{format:?} {previous:?}");
            assert!(session_cookie(&res).is_some());
        }
    }
}

#[actix_web::test]
async fn a_cookie_from_an_unrelated_or_dropped_key_is_refused_and_not_reissued() {
    for &format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let checker = auth(format, &clock, 4, &[3, 2]);
        let app = test_app(checker.clone(), routes).await;
        for (what, key_byte) in [("never configured", 9), ("dropped", 1)] {
            let cookie = cookie_from(format, &clock, key_byte, "mallory").await;
            assert_eq!(
                checker.inspect(&cookie).unwrap_err().reason(),
                "unknown_kid",
                "{what}"
            );
            let res = call(&app, get("/me").cookie(session_value(&cookie))).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{format:?} {what}");
            assert!(session_cookie(&res).is_none(), "{format:?} {what}");
        }
    }
}

#[actix_web::test]
async fn a_previous_key_does_not_bypass_the_time_checks() {
    for &format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let old = cookie_from(format, &clock, 1, "alice").await;
        let checker = auth(format, &clock, 2, &[1]);
        let app = test_app(checker.clone(), routes).await;
        clock.advance(std::time::Duration::from_secs(7 * 24 * 3600));
        assert_eq!(checker.inspect(&old).unwrap_err().reason(), "expired");
        let res = call(&app, get("/me").cookie(session_value(&old))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{format:?}");
        assert!(session_cookie(&res).is_none(), "{format:?}: not re-issued");
    }
}

/// When the handler changes the session of a rotated cookie, the response still carries one
/// cookie, under the current key, with the change.
#[actix_web::test]
async fn a_change_and_a_rotation_make_one_cookie_under_the_current_key() {
    for &format in FORMATS {
        let clock = Arc::new(ManualClock::new(T0));
        let old = cookie_from(format, &clock, 1, "alice").await;
        let current = auth(format, &clock, 2, &[1]);
        let app = test_app(current.clone(), routes).await;
        let res = call(&app, post("/data?k=lang&v=fr").cookie(session_value(old))).await;
        let issued = session_cookie(&res).expect("one cookie");
        let claims = current.inspect(issued.value()).unwrap();
        assert_eq!(claims["data"]["lang"], "fr", "{format:?}");
        assert_eq!(claims["data"]["theme"], "dark", "{format:?}");
        assert_eq!(claims["sub"], "alice", "{format:?}");
    }
}
