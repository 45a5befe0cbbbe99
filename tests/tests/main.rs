//! The integration tests, as one program: a module per file (actix-identity's layout), sharing
//! the fixtures of this crate's library (`tests/src`). `compiletest.rs`, `logging.rs` and
//! `soak.rs` are test programs of their own; `Cargo.toml` says why.
//!
//! Run one file's tests with a filter, e.g. `cargo test -p tests --test integration revocation::`.

mod access;
mod access_snapshots;
mod authorization;
mod cookie_hygiene;
mod e2e_browser;
mod encrypted;
mod events;
mod formats;
mod hardening;
mod key_rotation;
mod live_users;
mod login_app;
mod macros;
mod mirror;
mod modes;
mod open_redirect;
mod require;
mod revocation;
mod security_props;
mod security_time;
mod session_core;
mod sessions_list;
mod storage;
mod throttle;
