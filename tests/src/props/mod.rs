//! The property tests' inputs, kept apart from the properties in
//! `tests/tests/security_props.rs`: random claims and cookie-shaped input ([`strategies`]), the
//! ways to change a valid cookie ([`mutation`]), and a runner.

pub mod mutation;
pub mod strategies;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use proptest::{
    strategy::Strategy,
    test_runner::{Config as ProptestConfig, TestCaseError, TestRunner},
};

/// `s` in base64url without padding.
pub fn b64(s: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// A runner for `cases` cases that writes no failure file.
pub fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// Runs `test` on `cases` values of `strategy`; panics with the (shrunk) failure.
pub fn run<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    if let Err(e) = runner(cases).run(&strategy, test) {
        panic!("{e}");
    }
}

/// Every order of `0..n`.
pub fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}
