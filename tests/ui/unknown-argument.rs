use session_core::prelude::*;

#[login_required(redirect_to = "/signin")]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
