//! `cargo run -p examples --bin inspect-cookie -- <cookie>`: a session cookie's claims, or exactly
//! why it is refused. See `examples::inspect`.

use std::process::ExitCode;

use examples::{inspect, setup::SECRET_VAR};
use session_core::{AuthSession, Key};

fn main() -> ExitCode {
    let mut name = "session".to_owned();
    let mut cookie = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{}", inspect::USAGE);
                return ExitCode::SUCCESS;
            }
            "--name" => match args.next() {
                Some(n) => name = n,
                None => return usage("--name needs a value"),
            },
            _ if cookie.is_none() => cookie = Some(arg),
            _ => return usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let Some(cookie) = cookie else {
        return usage("give the cookie to inspect");
    };
    let auth = match Key::from_env(SECRET_VAR).and_then(|key| AuthSession::builder(key).build()) {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("inspect-cookie: {e}");
            return ExitCode::from(2);
        }
    };
    match inspect::report(&auth, inspect::cookie_value(&cookie, &name)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(text) => {
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("inspect-cookie: {problem}\n\n{}", inspect::USAGE);
    ExitCode::from(2)
}
