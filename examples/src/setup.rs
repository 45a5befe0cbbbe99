//! Start-up pieces the binaries share: logging, the session key and on/off settings.

use session_core::{ConfigError, Key};

/// The environment variable holding the session secret (at least 32 bytes).
pub const SECRET_VAR: &str = "SESSION_SECRET";

/// Logs to stderr through `tracing`; `RUST_LOG` overrides the default filter `default`.
/// `log` records (from actix-web and others) are forwarded to `tracing` too.
pub fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The key from `SESSION_SECRET`, or, when the variable is not set, a random key with a warning
/// that sessions will not survive a restart. A secret that is set but unusable (too short, not
/// UTF-8) is an error: starting with a key other than the one configured would hide the mistake.
pub fn key_from_env_or_generate() -> Result<Key, ConfigError> {
    match Key::from_env(SECRET_VAR) {
        Ok(key) => {
            tracing::info!(kid = key.kid(), "session key from {SECRET_VAR}");
            Ok(key)
        }
        Err(ConfigError::MissingEnv { .. }) => {
            tracing::warn!(
                "{SECRET_VAR} is not set: using a random session key, so sessions will NOT survive \
                 a restart. Set {SECRET_VAR} to at least 32 random bytes to keep them, e.g. \
                 `export {SECRET_VAR}=$(openssl rand -base64 48)`"
            );
            Ok(Key::generate())
        }
        Err(e) => Err(e),
    }
}

/// An on/off setting such as `LOGIN_APP_SECURE_COOKIES`, as a clap value parser: `1`, `true`,
/// `yes`, `on` (any letter case) are on; `0`, `false`, `no`, `off` and the empty string are off;
/// anything else is a mistake rather than a silent "off".
pub fn switch(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err("use 1 or 0 (or true/false, yes/no, on/off)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_reads_the_usual_spellings_and_refuses_others() {
        for on in ["1", "true", "TRUE", "yes", "On"] {
            assert_eq!(switch(on), Ok(true), "{on}");
        }
        for off in ["0", "false", "False", "no", "OFF", ""] {
            assert_eq!(switch(off), Ok(false), "{off:?}");
        }
        for bad in ["maybe", "2", " 1", "enabled"] {
            assert!(switch(bad).is_err(), "{bad:?}");
        }
    }
}
