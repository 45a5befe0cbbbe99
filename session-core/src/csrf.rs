//! CSRF tokens bound to the session, for HTML form posts.
//!
//! [`token`] returns the session's token (creating a random 128-bit one under the reserved data
//! key [`SESSION_KEY`] the first time); put it in a hidden field of every form. [`verify`] checks
//! the submitted value against it in constant time; refuse the request (403, change nothing) when
//! it fails. Anonymous sessions work: the login form's token lives in an anonymous session, and
//! the login's POST verifies the token the form was rendered with before it calls
//! [`crate::Session::login`]. The login itself replaces the token with a new one (no [`rotate`]
//! needed), so a token seen before the login (for example one planted with an attacker's own
//! anonymous cookie) is worthless afterwards.
//!
//! `SameSite=Lax` cookies already keep most cross-site posts from carrying the session; the token
//! covers the rest (same-site subdomains, older browsers, `SameSite=None` deployments).
//!
//! ```no_run
//! use actix_web::{get, post, web, HttpResponse};
//! use serde::Deserialize;
//! use session_core::{csrf, Session, SessionError};
//!
//! #[get("/profile")]
//! async fn profile_form(session: Session) -> Result<HttpResponse, SessionError> {
//!     let token = csrf::token(&session)?;
//!     Ok(HttpResponse::Ok().content_type("text/html").body(format!(
//!         r#"<form method="post"><input type="hidden" name="{}" value="{token}">
//!            <input name="bio"><button>Save</button></form>"#,
//!         csrf::FIELD
//!     )))
//! }
//!
//! #[derive(Deserialize)]
//! struct Profile {
//!     csrf_token: String,
//!     bio: String,
//! }
//!
//! #[post("/profile")]
//! async fn save_profile(session: Session, form: web::Form<Profile>) -> HttpResponse {
//!     if !csrf::verify(&session, &form.csrf_token) {
//!         return HttpResponse::Forbidden().body("invalid form token; reload the page");
//!     }
//!     // ... save form.bio ...
//!     HttpResponse::SeeOther().insert_header(("Location", "/profile")).finish()
//! }
//! ```

use subtle::ConstantTimeEq as _;

use crate::{error::SessionError, events::SecurityEvent, random, session::Session};

// Defined beside the login that rotates the token, below this module (see the crate's layers).
pub use crate::session::CSRF_SESSION_KEY as SESSION_KEY;

/// The conventional name of the hidden form field that carries the token.
pub const FIELD: &str = "csrf_token";

/// The session's CSRF token: the stored one, or a new random 128-bit token (base64url, 22
/// characters) stored in the session, starting an anonymous session if there is none.
///
/// Fails only when the session cannot hold the token (the cookie would exceed its size limit), or
/// when something other than a token was stored under [`SESSION_KEY`].
///
/// ```no_run
/// # use session_core::{csrf, Session, SessionError};
/// # fn page(session: Session) -> Result<String, SessionError> {
/// let token = csrf::token(&session)?;
/// assert_eq!(token, csrf::token(&session)?); // stable for the whole session
/// # Ok(token) }
/// ```
pub fn token(session: &Session) -> Result<String, SessionError> {
    match session.get::<String>(SESSION_KEY)? {
        Some(token) => Ok(token),
        None => rotate(session),
    }
}

/// Replaces the session's token with a new random one and returns it: tokens rendered before are
/// refused from then on. [`crate::Session::login`] already does this; call it after other
/// privilege changes that keep the same session.
///
/// ```no_run
/// # use session_core::{csrf, Session, SessionError};
/// # fn granted(session: Session) -> Result<(), SessionError> {
/// let token = csrf::rotate(&session)?; // render new forms with `token`
/// # Ok(()) }
/// ```
pub fn rotate(session: &Session) -> Result<String, SessionError> {
    let token = random::new_token();
    session.insert(SESSION_KEY, &token)?;
    Ok(token)
}

/// Whether `submitted` equals the session's token. Compared in constant time; `false` when the
/// session has no token (nothing was rendered for it), or the submitted value is empty.
///
/// ```no_run
/// # use session_core::{csrf, Session};
/// # fn post(session: Session, submitted: &str) -> Result<(), &'static str> {
/// if !csrf::verify(&session, submitted) {
///     return Err("403: invalid form token");
/// }
/// # Ok(()) }
/// ```
pub fn verify(session: &Session, submitted: &str) -> bool {
    let valid = match session.get::<String>(SESSION_KEY) {
        Ok(Some(expected)) if !expected.is_empty() => {
            // Lengths are not secret (every token has 22 characters); the contents are.
            bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
        }
        _ => false,
    };
    if !valid {
        session.report(SecurityEvent::CsrfFailed { path: None });
    }
    valid
}

#[cfg(test)]
mod tests {
    use actix_web::{
        body::MessageBody,
        cookie::Cookie,
        dev::{ServiceFactory, ServiceRequest, ServiceResponse},
        http::{header, StatusCode},
        test, web, App, Error, HttpResponse,
    };

    use super::*;
    use crate::{AuthSession, Key, Login};

    /// `GET /token` → the token; `POST /rotate` → the new token; `POST /verify/{t}` → 200 or 403;
    /// `POST /login` signs in.
    fn app() -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = Error,
            InitError = (),
        >,
    > {
        let auth = AuthSession::builder(Key::from_bytes(&[3; 32]).unwrap())
            .build()
            .unwrap();
        let ok = |t: String| HttpResponse::Ok().body(t);
        App::new()
            .wrap(auth)
            .route(
                "/token",
                web::get().to(move |s: Session| async move { token(&s).map(ok) }),
            )
            .route(
                "/rotate",
                web::post().to(move |s: Session| async move { rotate(&s).map(ok) }),
            )
            .route(
                "/verify/{t}",
                web::post().to(|s: Session, t: web::Path<String>| async move {
                    match verify(&s, &t) {
                        true => HttpResponse::Ok().finish(),
                        false => HttpResponse::Forbidden().finish(),
                    }
                }),
            )
            .route(
                "/login",
                web::post().to(|s: Session| async move {
                    s.login(Login::new("7"))
                        .map(|()| HttpResponse::Ok().finish())
                }),
            )
    }

    /// (status, body, the session cookie the client holds afterwards).
    async fn outcome<B: MessageBody>(
        res: ServiceResponse<B>,
        cookie: &Option<Cookie<'static>>,
    ) -> (StatusCode, String, Option<Cookie<'static>>) {
        let status = res.status();
        let set = res
            .headers()
            .get_all(header::SET_COOKIE)
            .filter_map(|v| Cookie::parse_encoded(v.to_str().ok()?.to_owned()).ok())
            .find(|c| c.name() == "__Host-session");
        let body = test::read_body(res).await;
        let body = String::from_utf8(body.to_vec()).unwrap();
        (status, body, set.or_else(|| cookie.clone()))
    }

    macro_rules! call {
        ($app:expr, $req:expr, $cookie:expr) => {{
            let cookie: &Option<Cookie<'static>> = $cookie;
            let req: test::TestRequest = $req;
            let req = match cookie {
                Some(c) => req.cookie(c.clone()),
                None => req,
            };
            let res = test::call_service($app, req.to_request()).await;
            outcome(res, cookie).await
        }};
    }

    fn get(uri: &str) -> test::TestRequest {
        test::TestRequest::get().uri(uri)
    }

    fn post(uri: &str) -> test::TestRequest {
        test::TestRequest::post().uri(uri)
    }

    #[actix_web::test]
    async fn anonymous_request_gets_a_128_bit_token_in_a_new_session() {
        let app = test::init_service(app()).await;
        let (status, token, cookie) = call!(&app, get("/token"), &None);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(token.len(), 22, "{token}");
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(
            cookie.is_some(),
            "the token is stored in a new session cookie"
        );
    }

    #[actix_web::test]
    async fn token_is_reused_while_the_session_lasts() {
        let app = test::init_service(app()).await;
        let (_, first, cookie) = call!(&app, get("/token"), &None);
        let (_, second, _) = call!(&app, get("/token"), &cookie);
        assert_eq!(first, second);
        let (_, other_session, _) = call!(&app, get("/token"), &None);
        assert_ne!(first, other_session, "each session has its own token");
    }

    #[actix_web::test]
    async fn verify_accepts_only_the_sessions_token() {
        let app = test::init_service(app()).await;
        let (_, token, cookie) = call!(&app, get("/token"), &None);
        let ok = call!(&app, post(&format!("/verify/{token}")), &cookie).0;
        assert_eq!(ok, StatusCode::OK);
        let mut flipped = token.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [flipped.as_str(), &token[..21], "x"] {
            let status = call!(&app, post(&format!("/verify/{bad}")), &cookie).0;
            assert_eq!(status, StatusCode::FORBIDDEN, "{bad}");
        }
        // The right token, but not the session it belongs to.
        let status = call!(&app, post(&format!("/verify/{token}")), &None).0;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, _, other) = call!(&app, get("/token"), &None);
        let status = call!(&app, post(&format!("/verify/{token}")), &other).0;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[actix_web::test]
    async fn a_login_replaces_the_anonymous_token_and_rotate_replaces_it_again() {
        let app = test::init_service(app()).await;
        let (_, planted, cookie) = call!(&app, get("/token"), &None);
        let (status, _, cookie) = call!(&app, post("/login"), &cookie);
        assert_eq!(status, StatusCode::OK);
        let old = call!(&app, post(&format!("/verify/{planted}")), &cookie).0;
        assert_eq!(
            old,
            StatusCode::FORBIDDEN,
            "a token known before the login is refused"
        );
        let (_, token, cookie) = call!(&app, get("/token"), &cookie);
        assert_ne!(token, planted);
        let ok = call!(&app, post(&format!("/verify/{token}")), &cookie).0;
        assert_eq!(ok, StatusCode::OK);

        let (_, rotated, cookie) = call!(&app, post("/rotate"), &cookie);
        assert_ne!(rotated, token);
        let old = call!(&app, post(&format!("/verify/{token}")), &cookie).0;
        assert_eq!(old, StatusCode::FORBIDDEN, "the old token is refused");
        let new = call!(&app, post(&format!("/verify/{rotated}")), &cookie).0;
        assert_eq!(new, StatusCode::OK);
    }
}
