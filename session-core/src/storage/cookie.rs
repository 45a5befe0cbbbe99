//! The default storage: the whole session in one signed (JWS) or sealed (JWE) cookie. See
//! `docs/cookie-format.md`.

use std::{ops::ControlFlow, sync::Arc};

use actix_web::{
    cookie::Cookie,
    dev::ServiceRequest,
    http::header::{self, HeaderMap},
    Error, HttpRequest,
};

use super::{
    cookie_for, in_time, put_cookie, session_cookies, text, Read, Sessions, Step, Storage,
    MAX_SESSION_COOKIES,
};
use crate::{
    cache::VerifiedCache,
    claims::Claims,
    codec::{Rejection, MAX_COOKIE_LEN},
    events::SecurityEvent,
    settings::Configuration,
    state::{Outgoing, RequestState},
};

/// Sessions in the cookie itself: no server state.
pub(crate) struct CookieStorage;

/// A session cookie value of a request: one the verified memo holds (its claims at hand), or
/// text to verify.
enum Candidate<'a> {
    Known(&'a [u8], Arc<Claims>, bool),
    Text(&'a str),
}

impl<'a> Candidate<'a> {
    fn bytes(&self) -> &'a [u8] {
        match self {
            Candidate::Known(value, ..) => value,
            Candidate::Text(value) => value.as_bytes(),
        }
    }
}

impl CookieStorage {
    fn read_now(
        &self,
        config: &Configuration,
        memo: &VerifiedCache,
        req: &ServiceRequest,
        now: i64,
    ) -> Sessions {
        // A value the memo holds is taken as it is: the memo only holds values that were UTF-8
        // text and verified, and equal bytes are that same text (no UTF-8 check again).
        let candidates = session_cookies(config, req, |value| match memo.get(value) {
            Some((claims, rotated)) => Some(Candidate::Known(value, claims, rotated)),
            None => text(value).map(Candidate::Text),
        });
        // The sessions, and beside them the value each came from (for the duplicate check):
        // filled in place, no second list to collect from.
        let mut sessions = Sessions::new();
        let mut values: [&[u8]; MAX_SESSION_COOKIES] = [&[]; MAX_SESSION_COOKIES];
        for candidate in candidates {
            // The same value twice (one cookie under two paths) is one session.
            if values[..sessions.len()].contains(&candidate.bytes()) {
                continue;
            }
            let verified = match candidate {
                Candidate::Known(value, claims, rotated) => {
                    in_time(config, &claims, now).map(|()| (value, claims, rotated))
                }
                Candidate::Text(value) => verify(config, value, now).map(|(claims, rotated)| {
                    let claims = Arc::new(claims);
                    memo.insert(value, Arc::clone(&claims), rotated);
                    (value.as_bytes(), claims, rotated)
                }),
            };
            match verified {
                // At most MAX_SESSION_COOKIES candidates (`session_cookies`), so `values` has room.
                Ok((value, claims, rotated)) => {
                    values[sessions.len()] = value;
                    sessions.push((claims, rotated));
                }
                Err(rejection) => {
                    tracing::debug!(detail = %rejection, "session cookie refused");
                    config.emit(SecurityEvent::SessionRefused {
                        reason: rejection.reason(),
                    });
                }
            }
        }
        sessions
    }

    fn write_now(
        &self,
        state: &RequestState,
        _: &HttpRequest,
        headers: &mut HeaderMap,
        outgoing: Outgoing,
    ) -> Result<(), Error> {
        let cookie = session_cookie(&state.config, state.now, outgoing);
        put_cookie(&state.config, headers, &cookie)
    }
}

impl Storage for CookieStorage {
    fn read<'a>(
        &'a self,
        config: &'a Configuration,
        memo: &'a VerifiedCache,
        req: &'a ServiceRequest,
        now: i64,
    ) -> Step<'a, Read> {
        Step::Ready(Ok(self.read_now(config, memo, req, now)))
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

    fn reads_at_once(&self) -> bool {
        true
    }

    fn unused_settings(&self) -> &'static [&'static str] {
        &[]
    }

    fn unused_because(&self) -> &'static str {
        ""
    }
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
/// percent-encoded, and anything else simply fails verification. Names are compared as bytes
/// at each pair's start and pairs end at the next `;` (found with `memchr`, a vectorized
/// search); values are bytes, checked for
/// UTF-8 only by the caller and only when needed (see [`super::session_cookies`]), so a stray
/// non-UTF-8 byte elsewhere costs nothing and one in such a value costs only that cookie.
pub(super) fn cookie_values<'a>(
    req: &'a ServiceRequest,
    name: &str,
    mut each: impl FnMut(&'a [u8]) -> ControlFlow<()>,
) {
    // A plain loop rather than iterator adapters: this runs on every request.
    for header in req.headers().get_all(header::COOKIE) {
        let mut rest = header.as_bytes();
        loop {
            // The name is read at the pair's start; the pair's end is then looked for after
            // the `=` (a cookie name holds neither `;` nor `=`, so it is the same end).
            let value_at = value_start(rest, name.as_bytes());
            let from = value_at.unwrap_or(0);
            let (pair_end, next) = match memchr::memchr(b';', &rest[from..]) {
                Some(at) => (from + at, Some(&rest[from + at + 1..])),
                None => (rest.len(), None),
            };
            if let Some(at) = value_at {
                if each(unquoted(rest[at..pair_end].trim_ascii())).is_break() {
                    return;
                }
            }
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
    }
}

/// Where the value of the `name=value` pair at the start of `pair` begins (just after its
/// `=`), when its name is `name`: spaces before and after the name are skipped. `name` is a
/// cookie name (a token: no spaces, `;` or `=`, as the builder checks).
fn value_start(pair: &[u8], name: &[u8]) -> Option<usize> {
    let lead = pair.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let after_name = pair[lead..].strip_prefix(name)?;
    let gap = after_name
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    match after_name.get(gap) {
        Some(b'=') => Some(lead + name.len() + gap + 1),
        _ => None,
    }
}

/// A cookie value without one pair of double quotes around it.
fn unquoted(value: &[u8]) -> &[u8] {
    value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(value)
}

/// The `Set-Cookie` for `outgoing` at `now`: a removal with the same attributes, or the encoded
/// session with `Max-Age` up to its idle expiry (none for a browser-session cookie).
pub(crate) fn session_cookie(
    config: &Configuration,
    now: i64,
    outgoing: Outgoing,
) -> Cookie<'static> {
    match outgoing {
        Outgoing::Remove => cookie_for(config, now, None),
        Outgoing::Issue(claims) => {
            cookie_for(config, now, Some((config.codec.encode(&claims), &claims)))
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    /// The values `cookie_values` reads for the name `session` from these `Cookie` headers.
    fn values(headers: &[&str]) -> Vec<String> {
        let mut req = TestRequest::default();
        for header in headers {
            req = req.append_header((header::COOKIE, *header));
        }
        let req = req.to_srv_request();
        let mut found = Vec::new();
        cookie_values(&req, "session", |value| {
            found.push(String::from_utf8_lossy(value).into_owned());
            ControlFlow::Continue(())
        });
        found
    }

    #[test]
    fn values_are_read_by_exact_name_in_header_order() {
        assert_eq!(values(&["session=a"]), ["a"]);
        assert_eq!(values(&["x=1; session=a; y=2"]), ["a"]);
        assert_eq!(
            values(&["session=a; session=b", "session=c"]),
            ["a", "b", "c"]
        );
        // Other names, including ones that start or end like it, are not it.
        let others = "sessions=1; session_=2; xsession=3; Session=4; sessio=5; session";
        assert!(values(&[others]).is_empty());
        // A value holding `=` is read whole; an empty value is a value.
        assert_eq!(values(&["session=a=b; session="]), ["a=b", ""]);
    }

    #[test]
    fn spaces_and_one_pair_of_quotes_are_not_part_of_the_value() {
        assert_eq!(values(&["  session = a ;session=b;"]), ["a", "b"]);
        assert_eq!(values(&["\tsession\t=\t\"a\"\t"]), ["a"]);
        assert_eq!(values(&["session=\"\"a\"\""]), ["\"a\""]);
        assert_eq!(values(&["session=\"a"]), ["\"a"]);
    }

    #[test]
    fn the_callback_stops_the_scan() {
        let req = TestRequest::default()
            .append_header((header::COOKIE, "session=a; session=b"))
            .to_srv_request();
        let mut seen = 0;
        cookie_values(&req, "session", |_| {
            seen += 1;
            ControlFlow::Break(())
        });
        assert_eq!(seen, 1);
    }
}
