//! The example binaries' command lines, run as processes with a cleared environment: usage
//! errors, `--help`, and the environment variables behind each option.

use std::process::{Command, Output};

const BINARIES: [(&str, &str); 4] = [
    ("login-app", env!("CARGO_BIN_EXE_login-app")),
    ("api", env!("CARGO_BIN_EXE_api")),
    ("hello", env!("CARGO_BIN_EXE_hello")),
    ("inspect-cookie", env!("CARGO_BIN_EXE_inspect-cookie")),
];

/// Runs `exe` with only the environment `env`.
fn run(exe: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(exe)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_unknown_flag_is_refused_with_status_2_and_named() {
    for (name, exe) in BINARIES {
        let out = run(exe, &["--no-such-flag", "x"], &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains("error: unexpected argument '--no-such-flag' found"),
            "{name}: {err}"
        );
        assert!(err.contains(&format!("Usage: {name} ")), "{name}: {err}");
    }
}

#[test]
fn help_lists_the_options_and_their_environment_variables() {
    let table: [(&str, &[&str]); 4] = [
        (
            "login-app",
            &[
                "--bind <ADDR>",
                "LOGIN_APP_BIND",
                "--data-dir <DIR>",
                "LOGIN_APP_DATA_DIR",
                "--insecure-cookies",
                "LOGIN_APP_INSECURE_COOKIES",
                "SESSION_SECRET",
            ],
        ),
        (
            "api",
            &[
                "--bind <ADDR>",
                "API_BIND",
                "--secure-cookies",
                "API_SECURE_COOKIES",
                "SESSION_SECRET",
            ],
        ),
        ("hello", &["--bind <ADDR>", "BIND", "SESSION_SECRET"]),
        (
            "inspect-cookie",
            &["<COOKIE>", "--name <NAME>", "SESSION_SECRET"],
        ),
    ];
    for ((name, exe), (same, words)) in BINARIES.into_iter().zip(table) {
        assert_eq!(name, same);
        let out = run(exe, &["--help"], &[]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let help = String::from_utf8(out.stdout).unwrap();
        for word in words {
            assert!(help.contains(word), "{name} --help lacks {word}:\n{help}");
        }
    }
}

/// An address that fails at `bind` without a DNS lookup: the server stops right after reading its
/// settings, and its error names the address it was given.
const NO_PORT: &str = "127.0.0.1:no-port";

#[test]
fn login_app_reads_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-env");
    let exe = BINARIES[0].1;
    let env = [
        ("LOGIN_APP_BIND", NO_PORT),
        ("LOGIN_APP_DATA_DIR", data.to_str().unwrap()),
        ("LOGIN_APP_INSECURE_COOKIES", "0"),
    ];
    let out = run(exe, &[], &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot listen on {NO_PORT}")),
        "{err}"
    );
    assert!(data.join("users.sqlite3").exists(), "{err}");
    assert!(!err.contains("without the Secure flag"), "{err}");

    // Flags win over the variables; "1" and "yes" are on.
    let flag_dir = dir.path().join("from-flag");
    for on in ["1", "yes"] {
        let env = [env[0], env[1], ("LOGIN_APP_INSECURE_COOKIES", on)];
        let args = [
            "--bind",
            "127.0.0.1:flag",
            "--data-dir",
            flag_dir.to_str().unwrap(),
        ];
        let err = stderr(&run(exe, &args, &env));
        assert!(err.contains("cannot listen on 127.0.0.1:flag"), "{err}");
        assert!(flag_dir.join("users.sqlite3").exists(), "{err}");
        assert!(err.contains("without the Secure flag"), "{on:?}: {err}");
    }
}

#[test]
fn api_reads_its_address_from_the_environment() {
    let out = run(BINARIES[1].1, &[], &[("API_BIND", NO_PORT)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot listen on {NO_PORT}")),
        "{err}"
    );
}

#[test]
fn an_unreadable_on_off_variable_is_refused_not_taken_as_off() {
    for (exe, var, flag) in [
        (
            BINARIES[0].1,
            "LOGIN_APP_INSECURE_COOKIES",
            "--insecure-cookies",
        ),
        (BINARIES[1].1, "API_SECURE_COOKIES", "--secure-cookies"),
    ] {
        let out = run(exe, &[], &[(var, "maybe")]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{var}: {err}");
        assert!(
            err.contains(&format!("invalid value 'maybe' for '{flag}': use 1 or 0")),
            "{var}: {err}"
        );
    }
}
