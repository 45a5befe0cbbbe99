// A role name without its quotes: the error says to quote it or use a typed role.
use session_core::prelude::*;

#[require_role(admin)]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
