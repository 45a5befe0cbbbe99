//! The login example (`examples::login_app`) as a browser meets it: cheap password hashing for
//! tests about the flows, a cookie-jar browser, and its forms (each with its CSRF token).

use examples::password::{Params, Passwords};
use session_core::csrf;

use crate::{Client, Reply, TestApp};

/// What a browser sends as `Accept`.
pub const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Argon2id parameters cheap enough for many logins per test (these tests are about the flows;
/// `examples::password` tests the hashing, and `weak_password_hash_is_upgraded_at_login` uses the
/// real defaults).
pub fn cheap() -> Passwords {
    Passwords::new(Params::new(4096, 1, 1, None).unwrap())
}

/// A browser in front of the login app: it keeps the app's `session` cookie and sends
/// `Accept: text/html` like a real one.
pub fn browser(app: &TestApp) -> Client<'_> {
    Client::new(app).cookie_name("session").accept(HTML)
}

/// The login app's forms, filled in by a browser.
// Test support on one thread: no caller needs the futures to be `Send`.
#[allow(async_fn_in_trait)]
pub trait Forms {
    /// Fills and posts the form of `form_page` (its CSRF token included).
    async fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Reply;
    /// Registers `username` with `password` (typed twice).
    async fn register(&mut self, username: &str, password: &str) -> Reply;
    /// Signs in with the login form.
    async fn login(&mut self, username: &str, password: &str) -> Reply;
    /// Signs out with the dashboard's sign-out form.
    async fn logout(&mut self) -> Reply;
}

impl Forms for Client<'_> {
    async fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.get(form_page).await.csrf();
        let mut form = vec![(csrf::FIELD, token.as_str())];
        form.extend_from_slice(fields);
        self.post_form(action, &form).await
    }

    async fn register(&mut self, username: &str, password: &str) -> Reply {
        let fields = [
            ("username", username),
            ("password", password),
            ("confirm_password", password),
        ];
        self.submit("/register", "/register", &fields).await
    }

    async fn login(&mut self, username: &str, password: &str) -> Reply {
        let fields = [("username", username), ("password", password)];
        self.submit("/login", "/login", &fields).await
    }

    async fn logout(&mut self) -> Reply {
        let token = self.get("/dashboard").await.csrf();
        self.post_form("/logout", &[(csrf::FIELD, &token)]).await
    }
}
