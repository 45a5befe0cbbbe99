// A guard with its own answer must be built (and so checked) before it can guard a scope.
use session_core::{Guard, Require, Rule};

fn main() {
    let _ = Require::guard(Guard::require(Rule::authenticated()).status(200));
}
