//! The README's sign-in recipe, verbatim (`readme_recipe_is_this_file` keeps them equal): the
//! form with its CSRF token and `next`, the POST that checks the token, the throttle and the
//! password, the wrong-password answer, logout, and re-authentication for `fresh` guards.
// README recipe start
use actix_web::{get, post, web, HttpRequest, HttpResponse, Responder};
use serde::Deserialize;
use session_core::{csrf, events::SecurityEvent, prelude::*, safe_next, throttle::Throttle};

/// The app's own credential check (argon2id in the login example): the user id, or `None`.
pub trait Passwords {
    /// The id of the user `name` if `password` is theirs.
    fn verify(&self, name: &str, password: &str) -> Option<String>;
}

/// `GET /login?next=..&reason=..`.
#[derive(Deserialize)]
pub struct FormQuery {
    next: Option<String>,
    reason: Option<String>,
}

/// The posted form.
#[derive(Deserialize)]
pub struct Credentials {
    csrf_token: String,
    next: String,
    username: String,
    password: String,
}

/// The sign-in form; also the re-authentication form: `#[skip_if_authenticated]` lets a
/// signed-in user through when a `fresh` guard sent them here (`reason=reauthenticate`).
#[get("/login")]
#[skip_if_authenticated]
pub async fn login_form(
    session: Session,
    q: web::Query<FormQuery>,
) -> actix_web::Result<HttpResponse> {
    let next = q.next.as_deref().and_then(safe_next).unwrap_or("/");
    let reauth = q.reason.as_deref() == Some("reauthenticate");
    Ok(page(
        &session,
        next,
        if reauth {
            "Confirm your password"
        } else {
            "Sign in"
        },
    )?)
}

/// Checks the CSRF token, then the throttle, then the password; signs in and follows `next`.
#[post("/login")]
pub async fn login(
    req: HttpRequest,
    session: Session,
    throttle: web::Data<Throttle>,
    passwords: web::Data<dyn Passwords>,
    form: web::Form<Credentials>,
) -> actix_web::Result<HttpResponse> {
    if !csrf::verify(&session, &form.csrf_token) {
        return Ok(HttpResponse::Forbidden().body("invalid form token; reload the page"));
    }
    let attempt = throttle.check(&req, &form.username).await?; // 429 past the limit
    let Some(user_id) = passwords.verify(&form.username, &form.password) else {
        attempt.failed();
        let address = req.peer_addr().map(|a| a.ip().to_string());
        session.report(SecurityEvent::sign_in_failed(&form.username, address));
        // The same answer for an unknown name and a wrong password.
        let mut res = page(
            &session,
            safe_next(&form.next).unwrap_or("/"),
            "Wrong name or password",
        )?;
        *res.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
        return Ok(res);
    };
    attempt.succeeded().await;
    // A new session id, a new `auth_time` (what `fresh` checks) and a new CSRF token.
    session.login(Login::new(user_id))?;
    Ok(see_other(safe_next(&form.next).unwrap_or("/")))
}

/// `POST /logout` (a form with the CSRF token, never a GET link).
#[post("/logout")]
pub async fn logout(session: Session, form: web::Form<Token>) -> HttpResponse {
    if !csrf::verify(&session, &form.csrf_token) {
        return HttpResponse::Forbidden().body("invalid form token; reload the page");
    }
    session.logout();
    see_other("/login")
}

/// The logout form's field.
#[derive(Deserialize)]
pub struct Token {
    csrf_token: String,
}

/// Needs a login less than 10 minutes old; older ones go back to the form above.
#[post("/account/delete")]
#[authorize(authenticated, fresh = 600)]
pub async fn delete_account(user: AuthUser) -> impl Responder {
    format!("deleting {}", user.id())
}

fn page(session: &Session, next: &str, heading: &str) -> Result<HttpResponse, SessionError> {
    let token = csrf::token(session)?;
    let next = escape(next);
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<h1>{heading}</h1><form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{token}"><input type="hidden" name="next" value="{next}">
<input name="username" autocomplete="username"> <input name="password" type="password">
<button>Sign in</button></form>"#
    )))
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
// README recipe end

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use actix_web::{
        cookie::Cookie,
        http::{header, StatusCode},
        test::{self, TestRequest},
        web, App,
    };
    use session_core::{clock::ManualClock, prelude::*, throttle::Throttle};

    use super::*;

    struct OnePassword;

    impl Passwords for OnePassword {
        fn verify(&self, name: &str, password: &str) -> Option<String> {
            (name == "ann" && password == "right").then(|| "7".to_owned())
        }
    }

    fn cookie_of<B>(res: &actix_web::dev::ServiceResponse<B>) -> Option<Cookie<'static>> {
        res.response().cookies().next().map(|c| c.into_owned())
    }

    /// The CSRF token of a form page.
    fn token_of(html: &str) -> String {
        let field = r#"name="csrf_token" value=""#;
        let at = html.find(field).unwrap() + field.len();
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    }

    #[actix_web::test]
    async fn the_recipe_signs_in_refuses_wrong_passwords_and_reauthenticates() {
        let key = Key::generate();
        let clock = Arc::new(ManualClock::new(1_800_000_000));
        let auth = AuthSession::builder(key.clone())
            .clock(clock.clone())
            .cookie(|c| c.secure(false))
            .build()
            .unwrap();
        let throttle = web::Data::new(Throttle::builder(&key).build().unwrap());
        let passwords: web::Data<dyn Passwords> =
            web::Data::from(Arc::new(OnePassword) as Arc<dyn Passwords>);
        let app = test::init_service(
            App::new()
                .wrap(auth)
                .app_data(throttle)
                .app_data(passwords)
                .service(login_form)
                .service(login)
                .service(logout)
                .service(delete_account),
        )
        .await;
        let html = |req: TestRequest| req.insert_header((header::ACCEPT, "text/html"));
        let form = |cookie: Option<Cookie<'static>>, q: &str| {
            let req = html(TestRequest::get().uri(&format!("/login{q}")));
            match cookie {
                Some(c) => req.cookie(c),
                None => req,
            }
            .to_request()
        };
        let post = |cookie: Cookie<'static>, token: &str, password: &str| {
            html(TestRequest::post().uri("/login"))
                .cookie(cookie)
                .set_form([
                    ("csrf_token", token),
                    ("next", "/account/delete"),
                    ("username", "ann"),
                    ("password", password),
                ])
                .to_request()
        };

        let res = test::call_service(&app, form(None, "?next=/account/delete")).await;
        let anon = cookie_of(&res).unwrap();
        let token = token_of(std::str::from_utf8(&test::read_body(res).await).unwrap());
        let res = test::call_service(&app, post(anon.clone(), &token, "wrong")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = test::call_service(&app, post(anon.clone(), "forged", "right")).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = test::call_service(&app, post(anon, &token, "right")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers().get(header::LOCATION).unwrap(),
            "/account/delete"
        );
        let signed_in = cookie_of(&res).unwrap();

        clock.advance(Duration::from_secs(601));
        let delete = || {
            html(TestRequest::post().uri("/account/delete"))
                .cookie(signed_in.clone())
                .to_request()
        };
        let res = test::call_service(&app, delete()).await;
        assert_eq!(
            res.headers().get(header::LOCATION).unwrap(),
            "/login?next=/account/delete&reason=reauthenticate"
        );
        let res = test::call_service(
            &app,
            form(
                Some(signed_in.clone()),
                "?next=/account/delete&reason=reauthenticate",
            ),
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "the signed-in user reaches the form"
        );
        let body = test::read_body(res).await;
        let page = std::str::from_utf8(&body).unwrap();
        assert!(page.contains("Confirm your password"));
        let res = test::call_service(&app, post(signed_in, &token_of(page), "right")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let fresh = cookie_of(&res).unwrap();
        let res = test::call_service(
            &app,
            html(TestRequest::post().uri("/account/delete"))
                .cookie(fresh)
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    /// The text between the recipe markers of `text`.
    fn recipe(text: &str) -> &str {
        let start = text.find("// README recipe start\n").expect("start marker") + 23;
        let end = text.find("// README recipe end").expect("end marker");
        &text[start..end]
    }

    #[test]
    fn readme_recipe_is_this_file() {
        let readme = include_str!("../../README.md");
        let block = readme
            .split("```rust\n")
            .find(|block| block.starts_with("// Sign-in recipe"))
            .expect("README has the sign-in recipe block");
        let block = &block[..block.find("```").expect("block end")];
        let block = block
            .strip_prefix("// Sign-in recipe (examples/src/signin.rs)\n")
            .unwrap();
        assert_eq!(block, recipe(include_str!("signin.rs")));
    }
}
