use session_core::prelude::*;

#[authorize(fresh = 600)]
async fn settings() -> &'static str {
    "settings"
}

fn main() {}
