use session_core::prelude::*;

#[require_role("")]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
