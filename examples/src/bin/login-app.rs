//! `cargo run -p examples --bin login-app`, then open http://127.0.0.1:8080/.
//!
//! See `login-app --help` and the `examples::login_app` module.

use std::{process::ExitCode, sync::Arc};

use actix_web::HttpServer;
use clap::Parser as _;
use examples::{
    login_app::{self, args::Options, AppState, Throttles},
    setup,
};
use session_core::clock::SystemClock;

fn main() -> ExitCode {
    // `--help` and usage errors (exit status 2) end here.
    let options = Options::parse();
    setup::init_tracing("info");
    match actix_web::rt::System::new().block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            tracing::error!("{problem}");
            eprintln!("login-app: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> Result<(), String> {
    let key = setup::key_from_env_or_generate().map_err(|e| e.to_string())?;
    let throttles = Throttles::new(&key, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    let data_dir = options.data_dir.clone();
    let state = actix_web::web::block(move || AppState::open(&data_dir, throttles))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    tracing::info!(database = %state.db().path().display(), "users database ready");
    let auth = login_app::auth_builder(key, !options.insecure_cookies, &state)
        .build()
        .map_err(|e| e.to_string())?;
    if options.insecure_cookies {
        tracing::warn!(
            "session cookie without the Secure flag (--insecure-cookies): only for plain HTTP \
             on a host other than localhost; put the app behind HTTPS instead"
        );
    }
    let server = HttpServer::new(move || login_app::app(state.clone(), auth.clone()))
        .bind(&options.bind)
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e} (choose another address with --bind 127.0.0.1:PORT)",
                options.bind
            )
        })?;
    for addr in server.addrs() {
        tracing::info!("listening on http://{addr}/ (the first account you register is the admin)");
    }
    server.run().await.map_err(|e| e.to_string())
}
