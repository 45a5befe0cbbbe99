//! Micro-benchmarks: `cargo bench -p session-core` (CI: `cargo bench -p session-core -- --test`).
//!
//! encode; verify + decode of a valid cookie (1, 5, 20 roles; 0 and 1 KiB of data); rejection of
//! a tampered cookie; the sealed (encrypted) variant; a nested any/all/not rule.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use session_core::{__private::bench, AuthSession, Key, Rule};

fn auth(encrypted: bool) -> AuthSession {
    let builder = AuthSession::builder(Key::from_bytes(&[7u8; 32]).expect("32 bytes"));
    #[cfg(feature = "encrypted")]
    let builder = builder.cookie(|c| match encrypted {
        true => c.content(session_core::config::Content::Sealed),
        false => c,
    });
    #[cfg(not(feature = "encrypted"))]
    assert!(
        !encrypted,
        "the encrypted benches need --features encrypted"
    );
    builder.build().expect("valid config")
}

const ROLES: [&str; 20] = [
    "admin", "editor", "viewer", "billing", "support", "ops", "audit", "dev", "qa", "hr", "legal",
    "sales", "growth", "design", "data", "security", "infra", "mobile", "web", "docs",
];

fn codec(c: &mut Criterion) {
    let mut modes = vec![("signed", auth(false))];
    if cfg!(feature = "encrypted") {
        modes.push(("sealed", auth(true)));
    }
    for (mode, auth) in &modes {
        let mut group = c.benchmark_group(format!("{mode}/encode"));
        group.bench_function("typical", |b| {
            b.iter(|| bench::encode(auth, black_box("user-1234"), black_box(&ROLES[..1]), 0))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("{mode}/verify"));
        for (roles, data) in [(1, 0), (5, 0), (20, 0), (1, 1024)] {
            let cookie = bench::encode(auth, "user-1234", &ROLES[..roles], data);
            assert!(bench::verify(auth, &cookie));
            let id =
                BenchmarkId::from_parameter(format!("{roles}roles-{data}B-data-{}B", cookie.len()));
            group.bench_with_input(id, &cookie, |b, cookie| {
                b.iter(|| bench::verify(auth, black_box(cookie)))
            });
        }
        let mut tampered = bench::encode(auth, "user-1234", &ROLES[..1], 0).into_bytes();
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(!bench::verify(auth, &tampered));
        group.bench_function("tampered-rejected", |b| {
            b.iter(|| bench::verify(auth, black_box(&tampered)))
        });
        group.finish();
    }
}

fn rules(c: &mut Criterion) {
    let auth = auth(false);
    let rule = Rule::any([
        Rule::role("admin"),
        Rule::all([Rule::role("editor"), Rule::not(Rule::role("suspended"))]),
    ]);
    let user = bench::user(&auth, &["viewer", "editor"]);
    assert!(bench::evaluate(&rule, &user));
    c.bench_function("rule/nested-any-all-not", |b| {
        b.iter(|| bench::evaluate(black_box(&rule), black_box(&user)))
    });
}

criterion_group!(benches, codec, rules);
criterion_main!(benches);
