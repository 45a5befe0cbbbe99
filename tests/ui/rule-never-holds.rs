use session_core::prelude::*;

#[authorize(all(role = "editor", not(role = "editor")), fresh = 600)]
async fn publish() -> &'static str {
    "published"
}

fn main() {}
