//! Command-line and environment settings of `login-app` (clap, derive). Each option is also read
//! from its environment variable; the flag wins over the variable, the variable over the default.

use std::path::PathBuf;

use clap::{builder::NonEmptyStringValueParser, Parser};

use crate::setup::switch;

/// The data directory's name under `$XDG_DATA_HOME` or `~/.local/share`.
const DATA_DIR_NAME: &str = "session-core-login-app";

/// The server's settings: `Options::parse()` reads them from the command line and environment,
/// printing `--help` or a usage error (exit status 2) itself.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "login-app",
    version,
    about = "The session-core login app: users in SQLite, argon2id passwords, CSRF-protected forms",
    after_help = "\
Environment:
  SESSION_SECRET  the session secret, at least 32 bytes; without it a random one is generated
                  and sessions do not survive a restart
  RUST_LOG        log filter, default \"info\""
)]
pub struct Options {
    /// Address to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        env = "LOGIN_APP_BIND",
        default_value = "127.0.0.1:8080",
        value_parser = NonEmptyStringValueParser::new()
    )]
    pub bind: String,

    /// Directory of users.sqlite3, created if missing.
    ///
    /// The default is $XDG_DATA_HOME/session-core-login-app, else
    /// ~/.local/share/session-core-login-app, else ./data.
    #[arg(
        long,
        value_name = "DIR",
        env = "LOGIN_APP_DATA_DIR",
        default_value_os_t = default_data_dir(|var| std::env::var(var).ok())
    )]
    pub data_dir: PathBuf,

    /// Send the session cookie without Secure (named `session` instead of `__Host-session`).
    ///
    /// Only for plain HTTP on a host other than localhost: browsers accept Secure cookies from
    /// http://localhost and http://127.0.0.1, and everywhere else the app belongs behind HTTPS.
    /// The variable takes 1 or 0 (or true/false, yes/no, on/off).
    #[arg(long, env = "LOGIN_APP_INSECURE_COOKIES", value_parser = switch)]
    pub insecure_cookies: bool,
}

/// `$XDG_DATA_HOME/session-core-login-app`, else `$HOME/.local/share/...`, else `./data`.
/// `env` reads a variable (`std::env::var` in the binary; a table in tests).
fn default_data_dir(env: impl Fn(&str) -> Option<String>) -> PathBuf {
    let nonempty = |var| env(var).filter(|v: &String| !v.is_empty());
    if let Some(xdg) = nonempty("XDG_DATA_HOME") {
        PathBuf::from(xdg).join(DATA_DIR_NAME)
    } else if let Some(home) = nonempty("HOME") {
        PathBuf::from(home).join(".local/share").join(DATA_DIR_NAME)
    } else {
        PathBuf::from("data")
    }
}

#[cfg(test)]
mod tests {
    use clap::{error::ErrorKind, CommandFactory as _, FromArgMatches as _};

    use super::*;

    /// Parses `args` as if no `LOGIN_APP_*` variable were set, whatever this process's
    /// environment holds (the binary's tests in `examples/tests/cli.rs` cover the variables).
    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        let matches = Options::command()
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(std::iter::once("login-app").chain(args.iter().copied()))?;
        Options::from_arg_matches(&matches)
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Options::command().debug_assert();
    }

    #[test]
    fn defaults_listen_on_localhost_8080_with_secure_cookies() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.bind, "127.0.0.1:8080");
        assert_eq!(o.data_dir, default_data_dir(|var| std::env::var(var).ok()));
        assert!(!o.insecure_cookies);
    }

    #[test]
    fn flags_set_every_option_in_both_spellings() {
        let o = parse(&[
            "--bind",
            "127.0.0.1:9000",
            "--data-dir",
            "/d",
            "--insecure-cookies",
        ])
        .unwrap();
        assert_eq!(
            (o.bind.as_str(), o.data_dir, o.insecure_cookies),
            ("127.0.0.1:9000", PathBuf::from("/d"), true)
        );
        let o = parse(&["--bind=127.0.0.1:9001", "--data-dir=/e"]).unwrap();
        assert_eq!(
            (o.bind.as_str(), o.data_dir),
            ("127.0.0.1:9001", PathBuf::from("/e"))
        );
    }

    #[test]
    fn each_option_names_its_environment_variable() {
        let cmd = Options::command();
        let env: Vec<_> = cmd
            .get_arguments()
            .filter_map(|a| Some((a.get_id().as_str(), a.get_env()?.to_str()?)))
            .collect();
        assert_eq!(
            env,
            [
                ("bind", "LOGIN_APP_BIND"),
                ("data_dir", "LOGIN_APP_DATA_DIR"),
                ("insecure_cookies", "LOGIN_APP_INSECURE_COOKIES"),
            ]
        );
    }

    #[test]
    fn default_data_dir_prefers_xdg_then_home_then_cwd() {
        let table = [
            (
                &[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home")][..],
                "/xdg/session-core-login-app",
            ),
            (
                &[("XDG_DATA_HOME", ""), ("HOME", "/home")],
                "/home/.local/share/session-core-login-app",
            ),
            (
                &[("HOME", "/home")],
                "/home/.local/share/session-core-login-app",
            ),
            (&[("HOME", "")], "data"),
            (&[], "data"),
        ];
        for (env, want) in table {
            let dir = default_data_dir(|var| {
                env.iter()
                    .find(|(k, _)| *k == var)
                    .map(|(_, v)| v.to_string())
            });
            assert_eq!(dir, PathBuf::from(want), "{env:?}");
        }
    }

    #[test]
    fn help_and_mistakes() {
        assert_eq!(
            parse(&["--help"]).unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
        assert_eq!(parse(&["-h"]).unwrap_err().kind(), ErrorKind::DisplayHelp);
        let table = [
            (&["--bind"][..], ErrorKind::InvalidValue),
            (&["--bind="], ErrorKind::InvalidValue),
            (&["--data-dir="], ErrorKind::InvalidValue),
            (&["--port", "1"], ErrorKind::UnknownArgument),
            (&["stray"], ErrorKind::UnknownArgument),
            (&["--insecure-cookies=1"], ErrorKind::TooManyValues),
        ];
        for (args, kind) in table {
            let err = parse(args).unwrap_err();
            assert_eq!(err.kind(), kind, "{args:?}: {err}");
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
