//! `cargo run -p examples --bin api`: the JSON API of `examples::api` on http://127.0.0.1:8081.
//!
//! Options: `--bind ADDR` (env `API_BIND`), `--secure-cookies` (env `API_SECURE_COOKIES=1`; off
//! by default only because this serves plain HTTP on localhost). Secret: `SESSION_SECRET`.

use std::process::ExitCode;

use actix_web::HttpServer;
use examples::{api, password::Passwords, setup};

const USAGE: &str = "Usage: api [--bind ADDR] [--secure-cookies]
  --bind ADDR        listen address [env API_BIND, default 127.0.0.1:8081]
  --secure-cookies   Secure session cookie, for HTTPS [env API_SECURE_COOKIES=1]";

fn main() -> ExitCode {
    let mut bind = std::env::var("API_BIND").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    let mut secure = matches!(
        std::env::var("API_SECURE_COOKIES").as_deref(),
        Ok("1" | "true")
    );
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.len()) {
            ("--bind", 1..) => bind = args.next().unwrap_or_default(),
            ("--secure-cookies", _) => secure = true,
            ("-h" | "--help", _) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("api: unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
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
    let auth = api::auth_builder(key, secure)
        .build()
        .map_err(|e| e.to_string())?;
    let state = actix_web::web::block(|| api::ApiState::demo(Passwords::default()))
        .await
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
