//! Deny responses: one [`AuthError`] type whose [`ResponseError`] impl gives the answers of the
//! README's "Deny responses" table.
//!
//! The decision (`decide`) is a pure function of the denial kind, the request's `Accept` header, the
//! configured [`Deny`] mode and the guard's overrides, so it is unit-tested without a server.

use std::{borrow::Cow, fmt};

use actix_web::{
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::redirect::safe_next;

/// How a denied request is answered when the guard names no override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Deny {
    /// Negotiate on `Accept`: requests that accept `text/html` are redirected (303) to the login
    /// URL, others get a JSON status (401 / 403). The default.
    #[default]
    Auto,
    /// Always redirect to the login URL when not signed in (403 page when signed in but refused).
    Redirect,
    /// Always answer with a JSON status (401 / 403), never a redirect: for pure APIs.
    Json,
}

/// Why a guard refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyKind {
    /// No valid session user.
    Unauthenticated,
    /// Signed in, but the rule refused.
    Forbidden,
    /// Signed in, but not recently enough (`fresh`).
    Reauthenticate,
    /// Signed in on a page only for anonymous users (`skip_if_authenticated`).
    AlreadyAuthenticated,
}

impl DenyKind {
    /// The `error` value of the JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::Reauthenticate => "reauthenticate",
            Self::AlreadyAuthenticated => "already_authenticated",
        }
    }
}

/// A guard's own answer, replacing the configured default (`redirect = ".."`, `status = N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Overrides {
    pub(crate) redirect: Option<Cow<'static, str>>,
    pub(crate) status: Option<u16>,
}

/// The denial response, decided before the error is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Redirect {
        status: StatusCode,
        location: String,
    },
    Json {
        status: StatusCode,
    },
    Html {
        status: StatusCode,
    },
    /// For htmx (`HX-Request: true`): a redirect it follows as a full-page navigation
    /// (`HX-Redirect`), with a denial status rather than a 3xx, which the browser would follow
    /// inside the request and htmx would swap into the fragment.
    HxRedirect {
        status: StatusCode,
        location: String,
    },
    /// For htmx: an HTML fragment without page chrome (the app's forbidden page is a document).
    Fragment {
        status: StatusCode,
    },
}

/// A request refused by a guard or by the [`crate::AuthUser`] extractor.
///
/// As a [`ResponseError`] it answers with the response the README's "Deny responses" table
/// gives for its kind.
#[derive(Debug, Clone)]
pub struct AuthError {
    kind: DenyKind,
    answer: Answer,
    /// The app's own page for an HTML 403 ([`crate::AuthSessionBuilder::forbidden_page`]).
    page: Option<String>,
}

/// Everything `decide` reads from the request and the configuration.
pub(crate) struct DenyContext<'a> {
    pub(crate) mode: Deny,
    pub(crate) login_url: &'a str,
    /// Where `fresh` failures go instead of `login_url`, if set.
    pub(crate) reauth_url: Option<&'a str>,
    pub(crate) home_url: &'a str,
    pub(crate) wants_html: bool,
    /// The request was sent by htmx (`HX-Request: true`).
    pub(crate) htmx: bool,
    /// The request's path and query.
    pub(crate) next: &'a str,
}

impl AuthError {
    /// Builds the denial for `req` from the app's configuration and the guard's overrides.
    pub(crate) fn new(kind: DenyKind, overrides: &Overrides, ctx: &DenyContext<'_>) -> Self {
        Self {
            kind,
            answer: decide(kind, overrides, ctx),
            page: None,
        }
    }

    /// Whether the answer is the HTML 403 page, which the app may draw itself.
    pub(crate) fn is_forbidden_page(&self) -> bool {
        self.answer
            == Answer::Html {
                status: StatusCode::FORBIDDEN,
            }
    }

    /// Answers with `page` (an HTML document) as the body.
    pub(crate) fn with_page(mut self, page: String) -> Self {
        self.page = Some(page);
        self
    }

    /// Why the request was refused.
    pub fn kind(&self) -> DenyKind {
        self.kind
    }
}

/// Whether htmx sent the request: `HX-Request: true`.
pub(crate) fn is_htmx(req: &HttpRequest) -> bool {
    req.headers()
        .get("hx-request")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
}

/// Whether the client asked for HTML (a browser navigation): one of its `Accept` headers lists
/// `text/html` with a weight above zero. `text/*` and `*/*` do not count: API clients send those.
pub(crate) fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(accepts_html)
}

/// Whether one `Accept` value lists `text/html` (any case) without `q=0` (RFC 9110 §12.4.2: a
/// weight of 0, written `0`, `0.0`, ... `0.000`, means "not acceptable").
fn accepts_html(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media_type = parts.next().unwrap_or_default();
        media_type.to_ascii_lowercase().contains("text/html") && !parts.any(is_zero_weight)
    })
}

/// `q=0` as a media-range parameter, spacing around it and around `=` ignored: `0`, `0.`, `0.0`,
/// `0.000`, ... (RFC 9110's `qvalue` allows up to three decimals; more zeros are still zero).
fn is_zero_weight(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    if !name.trim().eq_ignore_ascii_case("q") {
        return false;
    }
    match value.trim().strip_prefix('0') {
        Some(rest) => {
            rest.is_empty()
                || rest
                    .strip_prefix('.')
                    .is_some_and(|decimals| decimals.bytes().all(|b| b == b'0'))
        }
        None => false,
    }
}

/// The answer for `kind`; for htmx (unless the app chose JSON denials) a redirect becomes an
/// `HX-Redirect` with 401 (sign in) or 403, and an error page a bare fragment.
fn decide(kind: DenyKind, overrides: &Overrides, ctx: &DenyContext<'_>) -> Answer {
    if !ctx.htmx || ctx.mode == Deny::Json {
        return decide_plain(kind, overrides, ctx);
    }
    // htmx sends `Accept: */*`: answer as to a browser, then adapt.
    let answer = decide_plain(
        kind,
        overrides,
        &DenyContext {
            wants_html: true,
            ..*ctx
        },
    );
    match answer {
        Answer::Redirect { location, .. } => Answer::HxRedirect {
            status: match kind {
                DenyKind::Unauthenticated | DenyKind::Reauthenticate => StatusCode::UNAUTHORIZED,
                DenyKind::Forbidden | DenyKind::AlreadyAuthenticated => StatusCode::FORBIDDEN,
            },
            location,
        },
        Answer::Html { status } | Answer::Json { status } => Answer::Fragment { status },
        other => other,
    }
}

fn decide_plain(kind: DenyKind, overrides: &Overrides, ctx: &DenyContext<'_>) -> Answer {
    let redirect_status = || {
        overrides
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .filter(StatusCode::is_redirection)
            .unwrap_or(StatusCode::SEE_OTHER)
    };
    let with_next = |base: &str| {
        let reason = (kind == DenyKind::Reauthenticate).then_some("reauthenticate");
        login_location(base, ctx.next, reason)
    };
    let negotiated = |status| match ctx.wants_html {
        true => Answer::Html { status },
        false => Answer::Json { status },
    };
    if let Some(to) = &overrides.redirect {
        let location = match kind {
            DenyKind::Unauthenticated | DenyKind::Reauthenticate => with_next(to),
            DenyKind::Forbidden | DenyKind::AlreadyAuthenticated => to.to_string(),
        };
        return Answer::Redirect {
            status: redirect_status(),
            location,
        };
    }
    if let Some(status) = overrides.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        if !status.is_redirection() {
            return negotiated(status);
        }
    }
    match kind {
        DenyKind::AlreadyAuthenticated => Answer::Redirect {
            status: redirect_status(),
            location: ctx.home_url.to_owned(),
        },
        DenyKind::Forbidden => negotiated(StatusCode::FORBIDDEN),
        DenyKind::Unauthenticated | DenyKind::Reauthenticate => {
            let redirect = match ctx.mode {
                Deny::Auto => ctx.wants_html,
                Deny::Redirect => true,
                Deny::Json => false,
            };
            if redirect {
                let base = match (kind, ctx.reauth_url) {
                    (DenyKind::Reauthenticate, Some(reauth_url)) => reauth_url,
                    _ => ctx.login_url,
                };
                Answer::Redirect {
                    status: redirect_status(),
                    location: with_next(base),
                }
            } else {
                Answer::Json {
                    status: StatusCode::UNAUTHORIZED,
                }
            }
        }
    }
}

/// Characters left as they are in the `next` parameter: unreserved ones and `/`, so a path reads
/// naturally (`/login?next=/dashboard`); `?`, `&`, `=`, `#` and the rest are escaped.
const NEXT_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `base?next=<next>[&reason=..]`; `next` is left out when it is not a safe same-origin path.
pub(crate) fn login_location(base: &str, next: &str, reason: Option<&str>) -> String {
    let mut location = base.to_owned();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    if let Some(next) = safe_next(next) {
        location.push(sep);
        location.push_str("next=");
        location.extend(utf8_percent_encode(next, NEXT_KEEP));
        sep = '&';
    }
    if let Some(reason) = reason {
        location.push(sep);
        location.push_str("reason=");
        location.push_str(reason);
    }
    location
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request denied: {}", self.kind.as_str())
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match &self.answer {
            Answer::Redirect { status, .. }
            | Answer::HxRedirect { status, .. }
            | Answer::Json { status }
            | Answer::Html { status }
            | Answer::Fragment { status } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match &self.answer {
            Answer::Redirect { location, .. } => res
                .insert_header((header::LOCATION, location.as_str()))
                .finish(),
            Answer::HxRedirect { location, .. } => res
                .insert_header(("HX-Redirect", location.as_str()))
                .finish(),
            Answer::Fragment { status } => {
                res.content_type("text/html; charset=utf-8").body(format!(
                    "<p class=\"denied\">{code} {reason}</p>",
                    code = status.as_u16(),
                    reason = status.canonical_reason().unwrap_or("")
                ))
            }
            Answer::Json { .. } => res.json(serde_json::json!({ "error": self.kind.as_str() })),
            Answer::Html { status } => {
                let page = self.page.clone().unwrap_or_else(|| {
                    format!(
                        "<!doctype html><title>{code}</title><h1>{code} {reason}</h1>",
                        code = status.as_u16(),
                        reason = status.canonical_reason().unwrap_or("")
                    )
                });
                res.content_type("text/html; charset=utf-8").body(page)
            }
        }
    }
}

/// The 503 when a store the session depends on cannot answer (revocation or users): the
/// session is kept, the client is asked to retry. JSON `{"error": code}`, or a page for browsers.
pub(crate) fn unavailable(req: &HttpRequest, code: &'static str) -> HttpResponse {
    let mut res = HttpResponse::ServiceUnavailable();
    res.insert_header((header::RETRY_AFTER, "1"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if wants_html(req) {
        res.content_type("text/html; charset=utf-8").body(
            "<!doctype html><title>503</title><h1>503 Service Unavailable</h1>\
             <p>Sign-in is briefly unavailable. Please try again in a moment.</p>",
        )
    } else {
        res.json(serde_json::json!({ "error": code }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(mode: Deny, wants_html: bool) -> DenyContext<'static> {
        DenyContext {
            mode,
            login_url: "/login",
            reauth_url: None,
            home_url: "/home",
            wants_html,
            htmx: false,
            next: "/dash?a=1&b=2",
        }
    }

    fn redirect(status: u16, location: &str) -> Answer {
        Answer::Redirect {
            status: StatusCode::from_u16(status).unwrap(),
            location: location.into(),
        }
    }

    fn json(status: u16) -> Answer {
        Answer::Json {
            status: StatusCode::from_u16(status).unwrap(),
        }
    }

    #[test]
    fn decision_table() {
        use DenyKind::*;
        let none = Overrides::default();
        let to = |r: &'static str, s: Option<u16>| Overrides {
            redirect: Some(r.into()),
            status: s,
        };
        let status = |s| Overrides {
            redirect: None,
            status: Some(s),
        };
        let login = "/login?next=/dash%3Fa%3D1%26b%3D2";
        let cases = [
            (
                Unauthenticated,
                &none,
                ctx(Deny::Auto, true),
                redirect(303, login),
            ),
            (Unauthenticated, &none, ctx(Deny::Auto, false), json(401)),
            (
                Unauthenticated,
                &none,
                ctx(Deny::Redirect, false),
                redirect(303, login),
            ),
            (Unauthenticated, &none, ctx(Deny::Json, true), json(401)),
            (
                Reauthenticate,
                &none,
                ctx(Deny::Auto, true),
                redirect(303, &format!("{login}&reason=reauthenticate")),
            ),
            (Reauthenticate, &none, ctx(Deny::Auto, false), json(401)),
            (Forbidden, &none, ctx(Deny::Auto, false), json(403)),
            (
                Forbidden,
                &none,
                ctx(Deny::Auto, true),
                Answer::Html {
                    status: StatusCode::FORBIDDEN,
                },
            ),
            (
                AlreadyAuthenticated,
                &none,
                ctx(Deny::Auto, false),
                redirect(303, "/home"),
            ),
            (
                AlreadyAuthenticated,
                &to("/dash", None),
                ctx(Deny::Auto, false),
                redirect(303, "/dash"),
            ),
            (
                Unauthenticated,
                &to("/signin", Some(302)),
                ctx(Deny::Auto, false),
                redirect(302, "/signin?next=/dash%3Fa%3D1%26b%3D2"),
            ),
            (
                Forbidden,
                &to("/nope", None),
                ctx(Deny::Auto, true),
                redirect(303, "/nope"),
            ),
            (
                Unauthenticated,
                &status(401),
                ctx(Deny::Auto, false),
                json(401),
            ),
            (Forbidden, &status(404), ctx(Deny::Auto, false), json(404)),
        ];
        for (kind, overrides, ctx, want) in cases {
            assert_eq!(
                decide(kind, overrides, &ctx),
                want,
                "{kind:?} {overrides:?}"
            );
        }
    }

    #[test]
    fn reauth_url_takes_fresh_failures_only() {
        let with_reauth = DenyContext {
            reauth_url: Some("/confirm"),
            ..ctx(Deny::Auto, true)
        };
        let none = Overrides::default();
        let cases = [
            (
                DenyKind::Reauthenticate,
                redirect(
                    303,
                    "/confirm?next=/dash%3Fa%3D1%26b%3D2&reason=reauthenticate",
                ),
            ),
            (
                DenyKind::Unauthenticated,
                redirect(303, "/login?next=/dash%3Fa%3D1%26b%3D2"),
            ),
            (
                DenyKind::Forbidden,
                Answer::Html {
                    status: StatusCode::FORBIDDEN,
                },
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(decide(kind, &none, &with_reauth), want, "{kind:?}");
        }
    }

    /// htmx beside the Accept negotiation: a redirect becomes `HX-Redirect` with a denial
    /// status, a page a fragment; JSON-only apps keep JSON.
    #[test]
    fn htmx_table() {
        use DenyKind::*;
        let none = Overrides::default();
        let hx = |status: u16, location: &str| Answer::HxRedirect {
            status: StatusCode::from_u16(status).unwrap(),
            location: location.into(),
        };
        let fragment = |status: u16| Answer::Fragment {
            status: StatusCode::from_u16(status).unwrap(),
        };
        let to_x = Overrides {
            redirect: Some("/x".into()),
            status: None,
        };
        let hidden = Overrides {
            redirect: None,
            status: Some(404),
        };
        let login = "/login?next=/dash%3Fa%3D1%26b%3D2";
        let cases = [
            // (mode, Accept html?, kind, overrides, answer)
            (Deny::Auto, false, Unauthenticated, &none, hx(401, login)),
            (Deny::Auto, true, Unauthenticated, &none, hx(401, login)),
            (
                Deny::Auto,
                true,
                Reauthenticate,
                &none,
                hx(401, &format!("{login}&reason=reauthenticate")),
            ),
            (
                Deny::Redirect,
                false,
                Unauthenticated,
                &none,
                hx(401, login),
            ),
            (Deny::Auto, true, Forbidden, &none, fragment(403)),
            (Deny::Auto, false, Forbidden, &none, fragment(403)),
            (Deny::Auto, true, Forbidden, &hidden, fragment(404)),
            (Deny::Auto, true, Forbidden, &to_x, hx(403, "/x")),
            (
                Deny::Auto,
                true,
                AlreadyAuthenticated,
                &none,
                hx(403, "/home"),
            ),
            (Deny::Json, true, Unauthenticated, &none, json(401)),
            // JSON-only apps answer as without htmx (a 403 follows Accept there).
            (Deny::Json, false, Forbidden, &none, json(403)),
        ];
        for (i, (mode, html, kind, overrides, want)) in cases.into_iter().enumerate() {
            let ctx = DenyContext {
                htmx: true,
                ..ctx(mode, html)
            };
            assert_eq!(decide(kind, overrides, &ctx), want, "case {i}");
        }
        let req = actix_web::test::TestRequest::default()
            .insert_header(("HX-Request", "true"))
            .to_http_request();
        assert!(is_htmx(&req));
        let req = actix_web::test::TestRequest::default()
            .insert_header(("HX-Request", "false"))
            .to_http_request();
        assert!(!is_htmx(&req));
    }

    #[test]
    fn accept_negotiation_table() {
        let cases = [
            ("text/html", true),
            ("TEXT/HTML", true),
            (
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                true,
            ),
            ("application/json, text/html;q=0.1", true),
            ("text/html;q=1", true),
            ("text/html;q=0.001", true),
            ("text/html;level=1", true),
            ("text/html;q=0", false),
            ("text/html; q=0", false),
            ("text/html ; Q = 0 ", false),
            ("TEXT/HTML;q=0.0", false),
            ("text/html;q=0.", false),
            ("text/html;q=0.000", false),
            ("text/html;level=1;q=0", false),
            ("application/json, text/html;q=0", false),
            ("text/*", false),
            ("*/*", false),
            ("application/json", false),
            ("", false),
        ];
        for (accept, want) in cases {
            assert_eq!(accepts_html(accept), want, "{accept:?}");
        }
    }

    #[test]
    fn wants_html_reads_every_accept_header() {
        let req = actix_web::test::TestRequest::default()
            .append_header((header::ACCEPT, "application/json"))
            .append_header((header::ACCEPT, "text/html"))
            .to_http_request();
        assert!(wants_html(&req));
        let req = actix_web::test::TestRequest::default()
            .append_header((header::ACCEPT, "text/html;q=0"))
            .to_http_request();
        assert!(!wants_html(&req));
    }

    #[test]
    fn unsafe_next_is_dropped_from_login_location() {
        assert_eq!(login_location("/login", "//evil.com", None), "/login");
        assert_eq!(
            login_location("/login?x=1", "/a", Some("reauthenticate")),
            "/login?x=1&next=/a&reason=reauthenticate"
        );
    }
}
