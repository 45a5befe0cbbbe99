//! Command-line and environment settings of `login-app` (a small hand-written parser: the
//! workspace has no argument-parsing crate, and four options do not need one).

use std::path::PathBuf;

/// Usage text for `--help` and for mistakes.
pub const USAGE: &str = "\
Usage: login-app [--bind ADDR] [--data-dir DIR] [--secure-cookies]

Options (each also read from the environment; the flag wins):
  --bind ADDR        address to listen on      [env LOGIN_APP_BIND, default 127.0.0.1:8080]
  --data-dir DIR     where users.sqlite3 lives [env LOGIN_APP_DATA_DIR,
                     default $XDG_DATA_HOME/session-core-login-app,
                     else ~/.local/share/session-core-login-app]
  --secure-cookies   mark the session cookie Secure: use it behind HTTPS
                     [env LOGIN_APP_SECURE_COOKIES=1]
  -h, --help         print this help

Environment:
  SESSION_SECRET     the session secret, at least 32 bytes; without it a random one is
                     generated and sessions do not survive a restart
  RUST_LOG           log filter, default \"info\"";

/// What `login-app` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve the app.
    Run(Options),
    /// Print [`USAGE`] and exit.
    Help,
}

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Listen address.
    pub bind: String,
    /// Directory of the SQLite database; created if missing.
    pub data_dir: PathBuf,
    /// The cookie's `Secure` flag. Off by default only because the app serves plain HTTP on
    /// localhost, where browsers would not send a `Secure` cookie back; turn it on behind HTTPS.
    pub secure_cookies: bool,
}

/// Parses `args` (without the program name), falling back on `env` for unset options.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut bind = None;
    let mut data_dir = None;
    let mut secure_cookies = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--bind" => bind = Some(value("--bind")?),
            "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--secure-cookies" if inline.is_none() => secure_cookies = Some(true),
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let secure_cookies = match secure_cookies {
        Some(on) => on,
        None => env("LOGIN_APP_SECURE_COOKIES")
            .map(|v| flag_value(&v))
            .transpose()?
            .unwrap_or(false),
    };
    Ok(Command::Run(Options {
        bind: bind
            .or_else(|| env("LOGIN_APP_BIND"))
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
        data_dir: data_dir
            .or_else(|| env("LOGIN_APP_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| default_data_dir(&env)),
        secure_cookies,
    }))
}

fn flag_value(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!("LOGIN_APP_SECURE_COOKIES={other:?}: use 1 or 0")),
    }
}

/// `$XDG_DATA_HOME/session-core-login-app`, else `$HOME/.local/share/...`, else `./data`.
fn default_data_dir(env: &impl Fn(&str) -> Option<String>) -> PathBuf {
    const NAME: &str = "session-core-login-app";
    let nonempty = |var| env(var).filter(|v: &String| !v.is_empty());
    if let Some(xdg) = nonempty("XDG_DATA_HOME") {
        PathBuf::from(xdg).join(NAME)
    } else if let Some(home) = nonempty("HOME") {
        PathBuf::from(home).join(".local/share").join(NAME)
    } else {
        PathBuf::from("data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(args.iter().map(|a| a.to_string()), move |k| {
            env.iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
        })
    }

    fn options(args: &[&str], env: &[(&str, &str)]) -> Options {
        match run(args, env) {
            Ok(Command::Run(options)) => options,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_listen_on_localhost_8080_with_plain_http_cookies() {
        let o = options(&[], &[("HOME", "/home/ann")]);
        assert_eq!(o.bind, "127.0.0.1:8080");
        assert_eq!(
            o.data_dir,
            PathBuf::from("/home/ann/.local/share/session-core-login-app")
        );
        assert!(!o.secure_cookies);
    }

    #[test]
    fn data_dir_prefers_flag_then_env_then_xdg_then_home_then_cwd() {
        let env = [
            ("LOGIN_APP_DATA_DIR", "/env"),
            ("XDG_DATA_HOME", "/xdg"),
            ("HOME", "/home"),
        ];
        let dir = |args: &[&str], env: &[(&str, &str)]| options(args, env).data_dir;
        assert_eq!(dir(&["--data-dir", "/flag"], &env), PathBuf::from("/flag"));
        assert_eq!(dir(&["--data-dir=/flag"], &env), PathBuf::from("/flag"));
        assert_eq!(dir(&[], &env), PathBuf::from("/env"));
        assert_eq!(
            dir(&[], &env[1..]),
            PathBuf::from("/xdg/session-core-login-app")
        );
        assert_eq!(
            dir(&[], &env[2..]),
            PathBuf::from("/home/.local/share/session-core-login-app")
        );
        assert_eq!(dir(&[], &[]), PathBuf::from("data"));
    }

    #[test]
    fn bind_and_secure_cookies_come_from_flags_or_env() {
        let o = options(&["--bind", "127.0.0.1:9000", "--secure-cookies"], &[]);
        assert_eq!(o.bind, "127.0.0.1:9000");
        assert!(o.secure_cookies);
        let env = [
            ("LOGIN_APP_BIND", "127.0.0.1:9100"),
            ("LOGIN_APP_SECURE_COOKIES", "true"),
        ];
        let o = options(&[], &env);
        assert_eq!(o.bind, "127.0.0.1:9100");
        assert!(o.secure_cookies);
        assert!(!options(&[], &[("LOGIN_APP_SECURE_COOKIES", "0")]).secure_cookies);
    }

    #[test]
    fn help_and_mistakes() {
        assert_eq!(run(&["--help"], &[]), Ok(Command::Help));
        assert_eq!(run(&["-h"], &[]), Ok(Command::Help));
        for bad in [
            &["--bind"][..],
            &["--bind="],
            &["--port", "1"],
            &["stray"],
            &["--secure-cookies=1"],
        ] {
            assert!(run(bad, &[]).is_err(), "{bad:?}");
        }
        assert!(run(&[], &[("LOGIN_APP_SECURE_COOKIES", "maybe")]).is_err());
    }
}
