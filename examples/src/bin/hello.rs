//! The smallest app: `cargo run -p examples --bin hello`.
fn main() {}
