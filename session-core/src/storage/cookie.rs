//! The default storage: the whole session in one signed (JWS) or sealed (JWE) cookie. See
//! `docs/cookie-format.md`.

use std::sync::Arc;

use actix_web::{
    cookie::Cookie,
    dev::ServiceRequest,
    http::header::{self, HeaderMap, HeaderValue},
    Error, HttpRequest,
};

use super::{in_time, session_cookies, Step, Storage};
use crate::{
    cache::VerifiedCache,
    claims::Claims,
    codec::{Rejection, MAX_COOKIE_LEN},
    config::Configuration,
    events::SecurityEvent,
    session::{Outgoing, RequestState},
};

/// Sessions in the cookie itself: no server state.
pub(crate) struct CookieStorage;

impl CookieStorage {
    fn read_now(
        &self,
        config: &Configuration,
        memo: &VerifiedCache,
        req: &ServiceRequest,
        now: i64,
    ) -> Vec<(Arc<Claims>, bool)> {
        let mut sessions: Vec<(&str, Arc<Claims>, bool)> = Vec::new();
        for value in session_cookies(config, req) {
            // The same value twice (one cookie under two paths) is one session.
            if sessions.iter().any(|(seen, ..)| *seen == value) {
                continue;
            }
            let verified = match memo.get(value) {
                Some((claims, rotated)) => {
                    in_time(config, &claims, now).map(|()| (claims, rotated))
                }
                None => verify(config, value, now).map(|(claims, rotated)| {
                    let claims = Arc::new(claims);
                    memo.insert(value, Arc::clone(&claims), rotated);
                    (claims, rotated)
                }),
            };
            match verified {
                Ok((claims, rotated)) => sessions.push((value, claims, rotated)),
                Err(rejection) => {
                    tracing::debug!(detail = %rejection, "session cookie refused");
                    config.emit(SecurityEvent::SessionRefused {
                        reason: rejection.reason(),
                    });
                }
            }
        }
        sessions
            .into_iter()
            .map(|(_, claims, rotated)| (claims, rotated))
            .collect()
    }

    fn write_now(
        &self,
        state: &RequestState,
        _: &HttpRequest,
        headers: &mut HeaderMap,
        outgoing: Outgoing,
    ) -> Result<(), Error> {
        let cookie = session_cookie(&state.config, state.now, outgoing);
        let name = &state.config.cookie_name;
        // Never two session cookies on one response: drop any the handler set by hand.
        let others: Vec<HeaderValue> = headers
            .get_all(header::SET_COOKIE)
            .filter(|value| !sets_cookie(value, name))
            .cloned()
            .collect();
        headers.remove(header::SET_COOKIE);
        for value in others {
            headers.append(header::SET_COOKIE, value);
        }
        let value = HeaderValue::from_str(&cookie.encoded().to_string())
            .map_err(actix_web::error::ErrorInternalServerError)?;
        headers.append(header::SET_COOKIE, value);
        Ok(())
    }
}

impl Storage for CookieStorage {
    fn read<'a>(
        &'a self,
        config: &'a Configuration,
        memo: &'a VerifiedCache,
        req: &'a ServiceRequest,
        now: i64,
    ) -> Step<'a, Vec<(Arc<Claims>, bool)>> {
        Step::Ready(self.read_now(config, memo, req, now))
    }

    fn write<'a>(
        &'a self,
        state: &'a RequestState,
        req: &'a HttpRequest,
        headers: &'a mut HeaderMap,
        outgoing: Outgoing,
    ) -> Step<'a, Result<(), Error>> {
        Step::Ready(self.write_now(state, req, headers, outgoing))
    }

    fn size_limit(&self) -> Option<usize> {
        Some(MAX_COOKIE_LEN)
    }

    fn unused_settings(&self) -> &'static [&'static str] {
        &[]
    }

    fn unused_because(&self) -> &'static str {
        ""
    }
}

/// Whether a `Set-Cookie` value sets the cookie `name`.
fn sets_cookie(value: &HeaderValue, name: &str) -> bool {
    value
        .as_bytes()
        .strip_prefix(name.as_bytes())
        .is_some_and(|rest| rest.first() == Some(&b'='))
}

/// Verifies one cookie value: signature, then time. `(claims, rotated)`.
pub(crate) fn verify(
    config: &Configuration,
    value: &str,
    now: i64,
) -> Result<(Claims, bool), Rejection> {
    let verified = config.codec.decode(value)?;
    in_time(config, &verified.claims, now)?;
    Ok((verified.claims, verified.rotated))
}

/// The values of every cookie named `name` in the request's `Cookie` headers, in header order.
///
/// Read straight from the header, without actix's full cookie parse (which percent-decodes and
/// allocates every cookie of the request): this crate's values are base64url and ".", never
/// percent-encoded, and anything else simply fails verification. Each `name=value` pair is
/// decoded on its own, so a stray non-UTF-8 byte in another cookie costs only that cookie.
pub(super) fn cookie_values<'a>(
    req: &'a ServiceRequest,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    req.headers()
        .get_all(header::COOKIE)
        .flat_map(|header| header.as_bytes().split(|b| *b == b';'))
        .filter_map(move |pair| {
            let (n, value) = std::str::from_utf8(pair).ok()?.split_once('=')?;
            let value = value.trim_ascii();
            let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            (n.trim_ascii() == name).then_some(unquoted.unwrap_or(value))
        })
}

/// The `Set-Cookie` for `outgoing` at `now`: a removal with the same attributes, or the encoded
/// session with `Max-Age` up to its idle expiry (none for a browser-session cookie).
pub(crate) fn session_cookie(
    config: &Configuration,
    now: i64,
    outgoing: Outgoing,
) -> Cookie<'static> {
    match outgoing {
        Outgoing::Remove => {
            let mut cookie = config.cookie(String::new());
            cookie.make_removal();
            cookie
        }
        Outgoing::Issue(claims) => {
            let mut cookie = config.cookie(config.codec.encode(&claims));
            if !claims.transient {
                let left = claims.exp.saturating_sub(now).max(0);
                cookie.set_max_age(actix_web::cookie::time::Duration::seconds(left));
            }
            cookie
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_names_are_matched_exactly() {
        let cases = [
            ("session=abc; Path=/", true),
            ("session=", true),
            ("session_=abc", false),
            ("sessions=abc", false),
            ("other=session=abc", false),
            ("Session=abc", false),
        ];
        for (value, want) in cases {
            assert_eq!(
                sets_cookie(&HeaderValue::from_static(value), "session"),
                want,
                "{value}"
            );
        }
    }
}
