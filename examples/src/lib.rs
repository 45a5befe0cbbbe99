//! The example apps of session-core, as a library so the integration and browser tests in `tests/`
//! run exactly the code the binaries serve:
//!
//! - [`login_app`]: `cargo run -p examples --bin login-app` — a server-rendered login app with
//!   users in SQLite, argon2id passwords, CSRF-protected forms and every guard macro;
//! - [`api`]: `cargo run -p examples --bin api` — a JSON API with cookie sessions and 401/403 JSON;
//! - [`inspect`]: `cargo run -p examples --bin inspect-cookie -- <cookie>` — what a cookie says,
//!   or exactly why it is refused;
//! - `cargo run -p examples --bin hello` — the smallest app.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod coverage;
pub mod inspect;
pub mod login_app;
pub mod password;
pub mod policies;
pub mod setup;
pub mod signin;
