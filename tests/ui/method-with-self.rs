use session_core::prelude::*;

struct Controller;

impl Controller {
    #[login_required]
    async fn dashboard(&self) -> &'static str {
        "dashboard"
    }
}

fn main() {}
