use session_core::prelude::*;

#[authorize(authenticated, fresh = 0)]
async fn settings() -> &'static str {
    "settings"
}

fn main() {}
