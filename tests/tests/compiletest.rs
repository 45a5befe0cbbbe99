//! trybuild ui tests for the attribute macros: `ui/*.rs` must fail to compile with the checked-in
//! `.stderr` (one problem per file), `ui/pass/*.rs` must compile and run.
//!
//! Regenerate the expected output after an intended message change with
//! `TRYBUILD=overwrite cargo test -p tests --test compiletest`, then read every changed `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui/pass/*.rs");
}
