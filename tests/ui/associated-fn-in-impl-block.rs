// The expansion needs a struct beside the handler, which an `impl` block cannot hold: one error,
// on the function's name, says so (not the compiler's "struct is not supported in `impl`s", a
// missing type and a suggestion to add a type parameter).
use session_core::prelude::*;

struct Controller;

impl Controller {
    #[login_required]
    async fn dashboard() -> &'static str {
        "dashboard"
    }
}

fn main() {}
