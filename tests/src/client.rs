//! The one cookie-jar client: holds the session cookie like a browser, sends an `Accept` header
//! if told to, follows nothing, and answers with what the response said.

use actix_web::{
    body::BoxBody,
    cookie::Cookie,
    dev::ServiceResponse,
    http::{header, StatusCode},
    test::{self, TestRequest},
    HttpMessage as _,
};
use session_core::csrf;

use crate::{harness::TestApp, set_cookies, COOKIE};

/// A browser with one cookie, in front of a [`TestApp`]. Clone it to get a copy of the cookie
/// that lives on by itself (as an attacker holding a stolen copy would).
#[derive(Clone)]
pub struct Client<'a> {
    app: &'a TestApp,
    name: String,
    accept: Option<String>,
    /// The client address requests come from (none: like a test that does not care).
    peer: Option<std::net::SocketAddr>,
    /// The `User-Agent` header sent with every request, if any.
    user_agent: Option<String>,
    /// The session cookie held (name and value only), sent with every request.
    pub cookie: Option<Cookie<'static>>,
}

impl<'a> Client<'a> {
    /// No cookie yet, keeping the cookie named [`COOKIE`], sending no `Accept` header of its own.
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            name: COOKIE.to_owned(),
            accept: None,
            peer: None,
            user_agent: None,
            cookie: None,
        }
    }

    /// Sends every request from the machine at `ip` (its peer address).
    pub fn from_ip(mut self, ip: &str) -> Self {
        let ip = ip.parse().expect("an IP address");
        self.peer = Some(std::net::SocketAddr::new(ip, 50_000));
        self
    }

    /// Sends `User-Agent: user_agent` with every request.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(user_agent.to_owned());
        self
    }

    /// Keeps the cookie called `name` instead of [`COOKIE`].
    pub fn cookie_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Sends `Accept: accept` with every request that does not set its own.
    pub fn accept(mut self, accept: &str) -> Self {
        self.accept = Some(accept.to_owned());
        self
    }

    /// Sends `req` with the cookie held; keeps the session cookie the response sets (forgets it
    /// when the response removes it).
    pub async fn send(&mut self, req: TestRequest) -> Reply {
        let req = match &self.cookie {
            Some(cookie) => req.cookie(cookie.clone()),
            None => req,
        };
        let req = match self.peer {
            Some(peer) => req.peer_addr(peer),
            None => req,
        };
        let req = match &self.user_agent {
            Some(ua) => req.insert_header((header::USER_AGENT, ua.as_str())),
            None => req,
        };
        let mut req = req.to_request();
        if let Some(accept) = &self.accept {
            if !req.headers().contains_key(header::ACCEPT) {
                let value = header::HeaderValue::from_str(accept).expect("a valid Accept value");
                req.headers_mut().insert(header::ACCEPT, value);
            }
        }
        let reply = Reply::read(test::call_service(self.app, req).await, &self.name).await;
        if let Some(set) = &reply.set_cookie {
            self.cookie = (!set.value().is_empty())
                .then(|| Cookie::new(self.name.clone(), set.value().to_owned()));
        }
        reply
    }

    /// `GET uri`.
    pub async fn get(&mut self, uri: &str) -> Reply {
        self.send(TestRequest::get().uri(uri)).await
    }

    /// `POST uri` with no body.
    pub async fn post(&mut self, uri: &str) -> Reply {
        self.send(TestRequest::post().uri(uri)).await
    }

    /// `POST uri` with `form` URL-encoded.
    pub async fn post_form(&mut self, uri: &str, form: &[(&str, &str)]) -> Reply {
        self.send(TestRequest::post().uri(uri).set_form(form)).await
    }
}

/// What a response said.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// The `Location` header.
    pub location: Option<String>,
    /// The body as text.
    pub body: String,
    /// The session cookie the response set (a removal has an empty value).
    pub set_cookie: Option<Cookie<'static>>,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
}

impl Reply {
    /// Reads `res`, with the cookie named `cookie_name` as the session cookie; panics if it sets
    /// that cookie twice.
    pub async fn read(res: ServiceResponse<BoxBody>, cookie_name: &str) -> Self {
        let status = res.status();
        let header = |name| {
            res.headers()
                .get(name)
                .map(|v: &header::HeaderValue| v.to_str().expect("ASCII header").to_owned())
        };
        let (location, retry_after) = (header(header::LOCATION), header(header::RETRY_AFTER));
        let mut cookies = set_cookies(&res, cookie_name);
        assert!(
            cookies.len() <= 1,
            "more than one session cookie: {cookies:?}"
        );
        let body = test::read_body(res).await.to_vec();
        Self {
            status,
            location,
            body: String::from_utf8(body).expect("UTF-8 body"),
            set_cookie: cookies.pop(),
            retry_after,
        }
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// Whether this is a `303 See Other` to `to`.
    pub fn redirects_to(&self, to: &str) -> bool {
        self.status == StatusCode::SEE_OTHER && self.location.as_deref() == Some(to)
    }

    /// The CSRF token of the first form on the page, if it has one.
    pub fn csrf_token(&self) -> Option<String> {
        let marker = format!(r#"name="{}" value=""#, csrf::FIELD);
        let start = self.body.find(&marker)? + marker.len();
        let len = self.body[start..].find('"')?;
        Some(self.body[start..start + len].to_owned())
    }

    /// The CSRF token of the first form on the page; panics if there is none.
    pub fn csrf(&self) -> String {
        self.csrf_token()
            .expect("the page has a form with a CSRF token")
    }
}
