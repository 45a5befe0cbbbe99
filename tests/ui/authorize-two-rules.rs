use session_core::prelude::*;

#[authorize(role = "admin", role = "editor")]
async fn publish() -> &'static str {
    "published"
}

fn main() {}
