//! The smallest app: `cargo run -p examples --bin hello`, then open http://127.0.0.1:8080/.
//!
//! `POST /login?user=NAME` signs in (add `&admin=1` for the admin role), `/me` needs a session,
//! `/admin/*` needs the admin role, `POST /logout` signs out. `--bind ADDR` (env `BIND`) moves it.

use actix_web::{get, middleware::Logger, post, web, App, HttpResponse, HttpServer, Responder};
use clap::Parser;
use serde::Deserialize;
use session_core::prelude::*;

#[derive(Deserialize)]
struct Who {
    user: String,
    admin: Option<String>,
}

#[post("/login")]
async fn login(session: Session, who: web::Query<Who>) -> Result<HttpResponse, SessionError> {
    let roles: &[&str] = if who.admin.is_some() { &["admin"] } else { &[] };
    session.login(Login::new(who.user.clone()).roles(roles.iter().copied()))?;
    Ok(HttpResponse::Ok().body(format!("signed in as {}\n", who.user)))
}

#[post("/logout")]
async fn logout(session: Session) -> impl Responder {
    session.logout();
    HttpResponse::Ok().body("signed out\n")
}

#[get("/me")]
async fn me(user: AuthUser) -> impl Responder {
    format!("you are {} with roles {:?}\n", user.id(), user.roles())
}

#[get("/")]
async fn index(user: Option<AuthUser>) -> impl Responder {
    match user {
        Some(user) => format!("hello {}\n", user.id()),
        None => "hello stranger: POST /login?user=NAME\n".to_owned(),
    }
}

async fn admin_panel(user: AuthUser) -> impl Responder {
    format!("admin panel for {}\n", user.id())
}

/// The smallest session-core app.
#[derive(Debug, Parser)]
#[command(
    name = "hello",
    version,
    after_help = "Environment: SESSION_SECRET (at least 32 bytes)"
)]
struct Options {
    /// Address to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        env = "BIND",
        default_value = "127.0.0.1:8080"
    )]
    bind: String,
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let Options { bind } = Options::parse();
    tracing_subscriber::fmt()
        .with_env_filter("info,session_core=debug")
        .init();
    let key = Key::from_env("SESSION_SECRET").unwrap_or_else(|e| {
        tracing::warn!("{e}; using a random key: sessions will not survive a restart");
        Key::generate()
    });
    // Plain HTTP on localhost, so the cookie cannot be `Secure` here; keep the default in production.
    let auth = AuthSession::builder(key)
        .cookie(|c| c.secure(false))
        .build()
        .map_err(std::io::Error::other)?;
    tracing::info!("listening on http://{bind}/");
    HttpServer::new(move || {
        App::new()
            .wrap(auth.clone())
            .wrap(Logger::default())
            .service((index, login, logout, me))
            .service(
                web::scope("/admin")
                    .wrap(Require::role("admin"))
                    .route("", web::get().to(admin_panel)),
            )
    })
    .bind(bind)?
    .run()
    .await
}
