use session_core::prelude::*;

#[login_required]
#[skip_if_authenticated]
async fn confused() -> &'static str {
    "never"
}

fn main() {}
