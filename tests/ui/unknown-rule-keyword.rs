use session_core::prelude::*;

#[authorize(any(role = "admin", group = "staff"))]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
