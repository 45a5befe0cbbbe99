use session_core::prelude::*;

#[authorize(not(role = "suspended", role = "banned"))]
async fn post_comment() -> &'static str {
    "posted"
}

fn main() {}
