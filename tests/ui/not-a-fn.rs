use session_core::prelude::*;

#[login_required]
struct Dashboard;

fn main() {}
