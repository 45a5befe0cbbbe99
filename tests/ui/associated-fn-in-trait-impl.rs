// The same in a trait's impl block, with a rule: one error on the function's name.
use session_core::prelude::*;

trait Pages {
    async fn admin() -> &'static str;
}

struct Site;

impl Pages for Site {
    #[require_role("admin")]
    async fn admin() -> &'static str {
        "admin"
    }
}

fn main() {}
