use session_core::prelude::*;

#[authorize(policy = "can_edit_note")]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
