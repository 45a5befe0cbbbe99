use session_core::prelude::*;

#[login_required]
fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
