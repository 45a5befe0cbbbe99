//! `cargo run -p examples --bin api`: the JSON API of `examples::api` on http://127.0.0.1:8081.
//!
//! Options (see `api --help`): `--bind ADDR` (env `API_BIND`), `--secure-cookies` (env
//! `API_SECURE_COOKIES=1`; off by default only because this serves plain HTTP on localhost).
//! Secret: `SESSION_SECRET`.

use std::process::ExitCode;

use actix_web::HttpServer;
use clap::{builder::NonEmptyStringValueParser, Parser};
use examples::{api, password::Passwords, setup};

/// The API's settings, each also read from its environment variable (the flag wins).
#[derive(Debug, Parser)]
#[command(
    name = "api",
    version,
    about = "The session-core JSON API example: cookie sessions, 401/403 as JSON",
    after_help = "\
Environment:
  SESSION_SECRET  the session secret, at least 32 bytes; without it a random one is generated
                  and sessions do not survive a restart
  RUST_LOG        log filter, default \"info\""
)]
struct Options {
    /// Address to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        env = "API_BIND",
        default_value = "127.0.0.1:8081",
        value_parser = NonEmptyStringValueParser::new()
    )]
    bind: String,

    /// Mark the session cookie Secure: use it behind HTTPS.
    ///
    /// Off by default only because this serves plain HTTP on localhost. The variable takes 1 or
    /// 0 (or true/false, yes/no, on/off).
    #[arg(long, env = "API_SECURE_COOKIES", value_parser = setup::switch)]
    secure_cookies: bool,
}

fn main() -> ExitCode {
    // `--help` and usage errors (exit status 2) end here.
    let Options {
        bind,
        secure_cookies: secure,
    } = Options::parse();
    setup::init_tracing("info");
    match actix_web::rt::System::new().block_on(serve(bind, secure)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("api: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(bind: String, secure: bool) -> Result<(), String> {
    let key = setup::key_from_env_or_generate().map_err(|e| e.to_string())?;
    let throttle = api::throttle_builder(&key)
        .build()
        .map_err(|e| e.to_string())?;
    let state = actix_web::web::block(|| api::ApiState::demo(Passwords::default(), throttle))
        .await
        .map_err(|e| e.to_string())?;
    let auth = api::auth_builder(key, secure, &state)
        .build()
        .map_err(|e| e.to_string())?;
    let users: Vec<_> = api::DEMO_USERS
        .iter()
        .map(|(name, password, roles)| format!("{name}/{password} {roles:?}"))
        .collect();
    tracing::info!("demo users: {}", users.join(", "));
    let server = HttpServer::new(move || {
        api::app(state.clone(), auth.clone()).wrap(actix_web::middleware::Logger::new("%r %s %Dms"))
    })
    .bind(&bind)
    .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    for addr in server.addrs() {
        tracing::info!("listening on http://{addr}/api/");
    }
    server.run().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_definition_is_consistent() {
        Options::command().debug_assert();
    }
}
