//! `cargo run -p examples --bin inspect-cookie -- <cookie>`: a session cookie's claims, or exactly
//! why it is refused. See `examples::inspect`.

use std::process::ExitCode;

use clap::Parser;
use examples::{inspect, setup::SECRET_VAR};
use session_core::{AuthSession, Key};

/// What to inspect.
#[derive(Debug, Parser)]
#[command(
    name = "inspect-cookie",
    version,
    about = "Verifies a session cookie as the middleware would, now, and prints its claims or \
             exactly why it is refused",
    after_help = "\
The secret is read from SESSION_SECRET (the one the app signs with).
Exit status: 0 valid, 1 refused, 2 usage or configuration error."
)]
struct Options {
    /// The cookie's value, `session=<value>`, or a whole Cookie / Set-Cookie header line.
    ///
    /// A value starting with '-' goes after `--`.
    cookie: String,

    /// The cookie's name when a header line is given.
    #[arg(long, value_name = "NAME", default_value = "session")]
    name: String,
}

fn main() -> ExitCode {
    // `--help` and usage errors (exit status 2) end here.
    let Options { cookie, name } = Options::parse();
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_definition_is_consistent() {
        Options::command().debug_assert();
    }

    #[test]
    fn a_value_starting_with_a_hyphen_goes_after_a_double_dash() {
        let args = ["inspect-cookie", "--name", "sid", "--", "-x.y.z"];
        let o = Options::try_parse_from(args).unwrap();
        assert_eq!((o.cookie.as_str(), o.name.as_str()), ("-x.y.z", "sid"));
        let typo = Options::try_parse_from(["inspect-cookie", "--nmae", "sid", "x.y.z"]);
        assert_eq!(
            typo.unwrap_err().kind(),
            clap::error::ErrorKind::UnknownArgument
        );
    }
}
