use session_core::prelude::*;

#[login_required(redirect = 5)]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
