use session_core::prelude::*;

#[login_required(status = 200)]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
