use session_core::prelude::*;

#[authorize(all())]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
