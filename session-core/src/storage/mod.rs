//! Where a session lives between requests: reading it from a request and writing it to a
//! response is one seam, [`Storage`], with one implementation per place: the signed/sealed
//! cookie ([`cookie`]) and an actix-session `SessionStore` ([`store`], feature `actix-session`). The middleware
//! holds it and knows only the trait (the per-request state only its size limit); what to write is decided before, by
//! [`crate::outgoing::decide`]. A third storage is one new file here and one line in the builder.

use std::{future::Future, ops::ControlFlow, pin::Pin, sync::Arc};

use actix_web::{
    cookie::Cookie,
    dev::ServiceRequest,
    http::header::{self, HeaderMap, HeaderValue},
    Error, HttpRequest,
};

use smallvec::SmallVec;

use crate::{
    cache::VerifiedCache,
    claims::{Claims, TimeFault},
    codec::Rejection,
    events::SecurityEvent,
    settings::Configuration,
    state::{Outgoing, RequestState},
};

pub(crate) mod cookie;
#[cfg(feature = "actix-session")]
pub(crate) mod store;

/// A storage answer: at once (the cookie), or after I/O (a server-side store).
pub(crate) enum Step<'a, T> {
    Ready(T),
    /// Only the session store (feature `actix-session`) waits.
    #[cfg_attr(not(feature = "actix-session"), allow(dead_code))]
    Pending(Pin<Box<dyn Future<Output = T> + 'a>>),
}

impl<T> Step<'_, T> {
    pub(crate) async fn get(self) -> T {
        match self {
            Step::Ready(value) => value,
            Step::Pending(future) => future.await,
        }
    }
}

/// What a storage read gives: every distinct session the request carries that is genuine and in
/// time, each with whether it was verified under a previous key; or [`StoreDown`].
pub(crate) type Read = Result<Sessions, StoreDown>;

/// The sessions of one request, each with whether it was verified under a previous key: at most
/// [`MAX_SESSION_COOKIES`], kept inline (no allocation per request).
pub(crate) type Sessions = SmallVec<[(Arc<Claims>, bool); MAX_SESSION_COOKIES]>;

/// The session cookie values of one request as `accept` took them: at most
/// [`MAX_SESSION_COOKIES`] + 1 (the one that tells there are too many), kept inline.
pub(crate) type CookieValues<T> = SmallVec<[T; MAX_SESSION_COOKIES + 1]>;

/// The session store could not answer a read (failed, or took longer than its timeout); the
/// failure is logged where it happened, and the request is answered 503.
#[derive(Debug)]
pub(crate) struct StoreDown;

/// One place sessions are kept.
pub(crate) trait Storage: Send + Sync + 'static {
    /// Every distinct session `req` carries that is genuine and in time, in the order the
    /// request presents them (one, but for a tossed cookie), each with whether it was verified
    /// under a previous key. Refusals are announced as security events.
    fn read<'a>(
        &'a self,
        config: &'a Configuration,
        memo: &'a VerifiedCache,
        req: &'a ServiceRequest,
        now: i64,
    ) -> Step<'a, Read>;

    /// Writes `outgoing` for `req` into the response's `headers` (or the server-side state).
    fn write<'a>(
        &'a self,
        state: &'a RequestState,
        req: &'a HttpRequest,
        headers: &'a mut HeaderMap,
        outgoing: Outgoing,
    ) -> Step<'a, Result<(), Error>>;

    /// The most bytes one session may take here (name and value of a cookie), if limited.
    fn size_limit(&self) -> Option<usize>;

    /// Whether [`Storage::read`] always answers [`Step::Ready`] (no I/O): the middleware then
    /// takes its synchronous path when nothing else needs I/O either.
    fn reads_at_once(&self) -> bool {
        false
    }

    /// The builder settings this storage does not use; setting one is a `ConfigError`.
    fn unused_settings(&self) -> &'static [&'static str];

    /// Why those settings do not apply, for the error message.
    fn unused_because(&self) -> &'static str;
}

/// The most session cookies one request may carry (every cookie with the session cookie's
/// name, repeated values included). A browser sends one, or two or three when an old cookie
/// under another path or domain lingers beside the current one.
///
/// Invariant: a request costs at most this many cookie verifications (or session store loads)
/// and revocation lookups, and at most this many security events, however many cookies its
/// headers carry; above it, nothing is verified or loaded and one event (`too_many_cookies`)
/// is emitted.
pub const MAX_SESSION_COOKIES: usize = 4;

/// The session cookie values `req` carries, in header order, as `accept` takes them, when there
/// are at most [`MAX_SESSION_COOKIES`]; above that, none (the request is anonymous), after one
/// `too_many_cookies` event. Counting stops at the first cookie over the limit.
///
/// `accept` sees each value's bytes and returns `None` for one to skip without counting it (one
/// that is not UTF-8: this crate's values never are); it runs on at most
/// [`MAX_SESSION_COOKIES`] + 1 values, so a request with many cookies costs a bounded amount.
pub(crate) fn session_cookies<'a, T>(
    config: &'a Configuration,
    req: &'a ServiceRequest,
    mut accept: impl FnMut(&'a [u8]) -> Option<T>,
) -> CookieValues<T> {
    let mut values = CookieValues::new();
    cookie::cookie_values(req, &config.cookie_name, |value| {
        if let Some(taken) = accept(value) {
            values.push(taken);
        }
        match values.len() > MAX_SESSION_COOKIES {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    });
    if values.len() > MAX_SESSION_COOKIES {
        tracing::debug!(
            limit = MAX_SESSION_COOKIES,
            "request carries too many session cookies; it is anonymous"
        );
        config.emit(SecurityEvent::SessionRefused {
            reason: "too_many_cookies",
        });
        values.clear();
    }
    values
}

/// The UTF-8 text of a cookie value, or `None` (the value is skipped).
pub(crate) fn text(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok()
}

/// The session cookie carrying `value` for `claims` (`None`: the removal), for every storage: the
/// configured name and attributes, `Max-Age` up to the idle expiry (none for a browser-session
/// cookie). With [`put_cookie`], the one place the session cookie is written.
pub(crate) fn cookie_for(
    config: &Configuration,
    now: i64,
    value: Option<(String, &Claims)>,
) -> Cookie<'static> {
    match value {
        None => {
            let mut cookie = config.cookie(String::new());
            cookie.make_removal();
            cookie
        }
        Some((value, claims)) => {
            let mut cookie = config.cookie(value);
            if !claims.transient {
                let left = claims.exp.saturating_sub(now).max(0);
                cookie.set_max_age(actix_web::cookie::time::Duration::seconds(left));
            }
            cookie
        }
    }
}

/// Puts the session cookie on the response. Never two session cookies on one response: any the
/// handler set by hand is dropped first.
pub(crate) fn put_cookie(
    config: &Configuration,
    headers: &mut HeaderMap,
    cookie: &Cookie<'_>,
) -> Result<(), Error> {
    let name = &config.cookie_name;
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

/// Whether a `Set-Cookie` value sets the cookie `name`.
fn sets_cookie(value: &HeaderValue, name: &str) -> bool {
    value
        .as_bytes()
        .strip_prefix(name.as_bytes())
        .is_some_and(|rest| rest.first() == Some(&b'='))
}

/// The time checks (idle, issue time, absolute deadline) as a [`Rejection`]: the same for
/// every storage.
pub(crate) fn in_time(config: &Configuration, claims: &Claims, now: i64) -> Result<(), Rejection> {
    claims
        .check_time(now, config.absolute_timeout)
        .map_err(|fault| match fault {
            TimeFault::Expired { at } => Rejection::Expired { at },
            TimeFault::IssuedInFuture { at } => Rejection::IssuedInFuture { at },
            TimeFault::AbsoluteTimeout { at } => Rejection::AbsoluteTimeout { at },
        })
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
