//! Who can reach what, snapshotted: the example apps' access tables (`session_core::access`)
//! are checked in under `tests/tests/snapshots/`, so a change that widens (or narrows) access
//! shows in review as the exact route and principal that changed. Update with
//! `cargo insta review` after an intended change.

use std::path::Path;

use actix_web::App;
use session_core::access::{self, Entry, Principal};

/// The entries of the modules under `prefix`.
fn entries(prefix: &str) -> Vec<&'static Entry> {
    access::manifest()
        .into_iter()
        .filter(|e| e.module() == prefix || e.module().starts_with(&format!("{prefix}::")))
        .collect()
}

#[test]
fn login_app_access_table() {
    // Referencing the routes links the handlers (and their entries) into this binary.
    let _ = App::new().configure(examples::login_app::configure);
    let principals = [
        Principal::anonymous(),
        Principal::user("member"),
        Principal::user("member, signed in long ago").stale(),
        Principal::user("editor").roles(["editor"]),
        Principal::user("admin").roles(["admin"]),
    ];
    // The app's own role table: admin includes editor, and the notes permissions come from it.
    let roles = examples::login_app::authorization().build().unwrap();
    let table = access::table(entries("examples::login_app"), &principals, Some(&roles));
    insta::assert_snapshot!("login_app", table.markdown());
}

#[test]
fn json_api_access_table() {
    let _ = App::new().configure(examples::api::configure);
    let principals = [
        Principal::anonymous(),
        Principal::user("member"),
        Principal::user("analyst").roles(["analyst"]),
        Principal::user("admin").roles(["admin"]),
    ];
    let table = access::table(entries("examples::api"), &principals, None);
    insta::assert_snapshot!("json_api", table.markdown());
}

/// The same two handlers, with the admin guard (`guarded`), without it (`unguarded`), and with
/// it replaced by `#[public]` (`opened`).
mod guarded {
    use actix_web::{get, Responder};
    use session_core::prelude::*;

    #[public]
    #[get("/")]
    async fn home() -> impl Responder {
        "home"
    }

    #[require_role("admin")]
    #[get("/admin")]
    async fn admin() -> impl Responder {
        "admin"
    }
}

mod unguarded {
    use actix_web::{get, Responder};
    use session_core::prelude::*;

    #[public]
    #[get("/")]
    async fn home() -> impl Responder {
        "home"
    }

    #[get("/admin")]
    async fn admin() -> impl Responder {
        "admin"
    }
}

mod opened {
    use actix_web::{get, Responder};
    use session_core::prelude::*;

    #[public]
    #[get("/")]
    async fn home() -> impl Responder {
        "home"
    }

    #[public]
    #[get("/admin")]
    async fn admin() -> impl Responder {
        "admin"
    }
}

fn small_app_table(module: &str) -> String {
    let principals = [
        Principal::anonymous(),
        Principal::user("admin").roles(["admin"]),
    ];
    access::table(entries(module), &principals, None).markdown()
}

#[test]
fn small_app_access_table() {
    insta::assert_snapshot!(
        "small_app",
        small_app_table(&(module_path!().to_owned() + "::guarded"))
    );
}

/// The checked-in snapshot `name`, without insta's header. insta names the file after the module
/// path (`integration::access_snapshots`), with `__` for `::`.
fn stored_snapshot(name: &str) -> String {
    let file = format!("{}__{name}.snap", module_path!().replace("::", "__"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let body = text.splitn(3, "---\n").nth(2).expect("insta header");
    body.to_owned()
}

/// Lines of `new` that `old` does not have.
fn added_lines(old: &str, new: &str) -> Vec<String> {
    let old: Vec<&str> = old.lines().collect();
    new.lines()
        .filter(|l| !old.contains(l))
        .map(str::to_owned)
        .collect()
}

#[test]
fn removing_a_guard_fails_the_snapshot() {
    let stored = stored_snapshot("small_app");
    assert_eq!(
        stored.trim_end(),
        small_app_table(&(module_path!().to_owned() + "::guarded")).trim_end(),
        "the guarded app matches its snapshot"
    );

    // Guard removed: the handler is no longer listed, so its row disappears.
    let unguarded = small_app_table(&(module_path!().to_owned() + "::unguarded"));
    assert_ne!(stored.trim_end(), unguarded.trim_end());
    assert_eq!(
        added_lines(&unguarded, &stored),
        ["| GET /admin | admin | role=admin | no: sign in | yes |"],
        "the review sees exactly the lost row"
    );

    // Guard replaced by `#[public]`: the row says who gained the route.
    let opened = small_app_table(&(module_path!().to_owned() + "::opened"));
    assert_eq!(
        added_lines(&stored, &opened),
        ["| GET /admin | admin | public | yes | yes |"]
    );
}
