// Known limitation: the expansion needs a struct beside the handler, which an `impl` block
// cannot hold. The error points at the attribute.
use session_core::prelude::*;

struct Controller;

impl Controller {
    #[login_required]
    async fn dashboard() -> &'static str {
        "dashboard"
    }
}

fn main() {}
