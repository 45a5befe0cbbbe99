use session_core::prelude::*;

#[authorize(any())]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
