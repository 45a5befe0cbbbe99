//! `cargo run -p examples --bin inspect-cookie -- <cookie>`: verifies a session cookie exactly as
//! the middleware would, now, with the secret in `SESSION_SECRET`, and prints its claims or the
//! exact reason it is refused (bad MAC, expired at T, unknown kid, oversize, malformed, ...).
//!
//! For "why does my session keep disappearing?". The cookie can forge nothing by being printed,
//! but it is a bearer credential: paste it only into your own terminal.

use session_core::{AuthSession, Rejection};
use time::format_description::well_known::Rfc3339;

/// The cookie value in `input`: the value itself, `name=value`, `name=value; Path=/; ...`, or a
/// `Cookie:` / `Set-Cookie:` header line holding `name=value` among others.
pub fn cookie_value<'a>(input: &'a str, name: &str) -> &'a str {
    let input = input.trim();
    let line = ["cookie:", "set-cookie:"]
        .iter()
        .find_map(|prefix| {
            let head = input.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix)
                .then(|| &input[prefix.len()..])
        })
        .unwrap_or(input);
    let mut parts = line.split(';').map(str::trim);
    let named = parts
        .clone()
        .find_map(|part| part.strip_prefix(name)?.strip_prefix('='));
    // A bare value holds no '=' (base64url has none), unlike any `name=value` pair.
    named.unwrap_or_else(|| parts.next().unwrap_or_default())
}

/// Unix seconds as RFC 3339 (`2026-11-02T14:03:00Z`).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{unix} (Unix time)"))
}

/// The report for `value`: `Ok(text)` when `auth` accepts the cookie now, `Err(text)` with the
/// reason when it refuses it.
pub fn report(auth: &AuthSession, value: &str) -> Result<String, String> {
    match auth.inspect(value) {
        Ok(claims) => {
            let mut out = String::from("valid session cookie\n");
            out.push_str(&serde_json::to_string_pretty(&claims).unwrap_or_default());
            for (key, meaning) in [
                ("iat", "issued"),
                ("exp", "expires if unused"),
                ("auth_time", "signed in"),
            ] {
                if let Some(t) = claims.get(key).and_then(serde_json::Value::as_i64) {
                    let label = format!("{meaning} ({key}):");
                    out.push_str(&format!("\n{label:<25}{}", rfc3339(t)));
                }
            }
            Ok(out)
        }
        Err(rejection) => Err(refusal(&rejection)),
    }
}

fn refusal(rejection: &Rejection) -> String {
    let when = match rejection {
        Rejection::Expired { at }
        | Rejection::IssuedInFuture { at }
        | Rejection::AbsoluteTimeout { at } => format!(" [{}]", rfc3339(*at)),
        _ => String::new(),
    };
    format!(
        "refused: {reason}: {rejection}{when}",
        reason = rejection.reason()
    )
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use actix_web::{cookie::Cookie, http::header, test as actix_test, web, App, HttpResponse};
    use session_core::{clock::ManualClock, Key, Login, Session};

    use super::*;

    const T0: i64 = 1_700_000_000;

    fn key(byte: u8) -> Key {
        Key::from_bytes(&[byte; 32]).unwrap()
    }

    /// An `AuthSession` on a manual clock, and a cookie it issued for user "42".
    async fn issued() -> (AuthSession, Arc<ManualClock>, String) {
        let clock = Arc::new(ManualClock::new(T0));
        let auth = AuthSession::builder(key(1))
            .clock(clock.clone())
            .lifetime(|l| l.max_age(Duration::from_secs(3600)))
            .build()
            .unwrap();
        let app = actix_test::init_service(App::new().wrap(auth.clone()).route(
            "/login",
            web::post().to(|s: Session| async move {
                s.login(Login::new("42").roles(["admin"]))?;
                Ok::<_, actix_web::Error>(HttpResponse::Ok().finish())
            }),
        ))
        .await;
        let res = actix_test::call_service(
            &app,
            actix_test::TestRequest::post().uri("/login").to_request(),
        )
        .await;
        let set = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let value = Cookie::parse(set.to_owned()).unwrap().value().to_owned();
        (auth, clock, value)
    }

    #[test]
    fn cookie_value_accepts_values_pairs_and_header_lines() {
        for input in [
            "abc.def.ghi",
            "  abc.def.ghi\n",
            "session=abc.def.ghi",
            "session=abc.def.ghi; HttpOnly; SameSite=Lax; Path=/",
            "Set-Cookie: session=abc.def.ghi; Path=/",
            "cookie: theme=dark; session=abc.def.ghi; lang=en",
        ] {
            assert_eq!(cookie_value(input, "session"), "abc.def.ghi", "{input:?}");
        }
        assert_eq!(cookie_value("sid=x.y.z; a=b", "sid"), "x.y.z");
    }

    #[actix_web::test]
    async fn valid_cookie_prints_its_claims_and_times() {
        let (auth, _, value) = issued().await;
        let out = report(&auth, &value).unwrap();
        assert!(out.starts_with("valid session cookie"), "{out}");
        assert!(out.contains(r#""sub": "42""#), "{out}");
        assert!(out.contains(r#""admin""#), "{out}");
        let times = [
            "\nissued (iat):            2023-11-14T22:13:20Z",
            "\nexpires if unused (exp): 2023-11-14T23:13:20Z",
            "\nsigned in (auth_time):   2023-11-14T22:13:20Z",
        ];
        for line in times {
            assert!(out.contains(line), "{line:?} in {out}");
        }
    }

    #[actix_web::test]
    async fn each_refusal_names_its_reason() {
        let (auth, clock, value) = issued().await;
        let (header, rest) = value.split_once('.').unwrap();
        let mut tampered = value.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let other_key = AuthSession::builder(key(2)).build().unwrap();
        let cases = [
            (&auth, tampered, "refused: bad_mac: "),
            (&auth, "x".repeat(5000), "refused: oversize: "),
            (&auth, "not-a-cookie".to_owned(), "refused: malformed: "),
            (&other_key, value.clone(), "refused: unknown_kid: "),
            (&auth, format!("{header}x.{rest}"), "refused: unknown_kid: "),
        ];
        for (auth, input, want) in cases {
            let err = report(auth, &input).unwrap_err();
            assert!(err.starts_with(want), "{err} (wanted {want})");
        }
        clock.advance(Duration::from_secs(3601));
        let err = report(&auth, &value).unwrap_err();
        assert!(
            err.starts_with("refused: expired: ") && err.ends_with("[2023-11-14T23:13:20Z]"),
            "{err}"
        );
    }
}
