//! The sealed cookie (feature `encrypted`): a standard `dir` / A256GCM JWE whose claims the
//! browser cannot read. Tampering is covered for both formats by the shared matrix in
//! `security_props.rs`; the byte-level JWE checks (interop decryption with
//! `Key::encryption_key_for_interop`, rejection table) are unit tests in `session-core`.
//!
//! Run with `cargo test -p tests --features encrypted`.
#![cfg(feature = "encrypted")]

use std::collections::HashSet;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use session_core::AuthSession;
use tests::{call, clock, key, login, post, routes, session_cookie, test_app};

const SECRETS: &[&str] = &["alice-7f3c9e", "admin-ZQX", "dark-mode-42"];

async fn issue(auth: AuthSession) -> String {
    let app = test_app(auth, routes).await;
    let cookie = login(&app, "/login?id=alice-7f3c9e&roles=admin-ZQX").await;
    let res = call(&app, post("/data?k=theme&v=dark-mode-42").cookie(cookie)).await;
    session_cookie(&res).unwrap().value().to_owned()
}

fn encrypted() -> AuthSession {
    AuthSession::builder(key(7))
        .clock(clock())
        .cookie(|c| c.content(session_core::config::Content::Sealed))
        .build()
        .unwrap()
}

fn signed() -> AuthSession {
    AuthSession::builder(key(7)).clock(clock()).build().unwrap()
}

/// Which of [`SECRETS`] can be read from the cookie: as is, or in any segment base64-decoded.
fn readable_secrets(cookie: &str) -> Vec<&'static str> {
    let mut views = vec![cookie.as_bytes().to_vec()];
    views.extend(
        cookie
            .split('.')
            .filter_map(|segment| URL_SAFE_NO_PAD.decode(segment).ok()),
    );
    SECRETS
        .iter()
        .copied()
        .filter(|secret| {
            views
                .iter()
                .any(|view| view.windows(secret.len()).any(|w| w == secret.as_bytes()))
        })
        .collect()
}

#[actix_web::test]
async fn claims_cannot_be_read_from_the_sealed_cookie() {
    let sealed = issue(encrypted()).await;
    assert_eq!(readable_secrets(&sealed), Vec::<&str>::new(), "{sealed}");
    // The same check finds every claim in a signed cookie: it would notice a leak.
    assert_eq!(readable_secrets(&issue(signed()).await), SECRETS);
    // And the server still reads them.
    let claims = encrypted().inspect(&sealed).unwrap();
    assert_eq!(claims["sub"], "alice-7f3c9e");
    assert_eq!(claims["roles"][0], "admin-ZQX");
    assert_eq!(claims["data"]["theme"], "dark-mode-42");
}

#[actix_web::test]
async fn the_sealed_cookie_is_a_dir_a256gcm_jwe_with_the_exact_header() {
    let sealed = issue(encrypted()).await;
    let segments: Vec<&str> = sealed.split('.').collect();
    let [header, encrypted_key, iv, ciphertext, tag] = segments[..] else {
        panic!("five segments: {sealed}");
    };
    let header = URL_SAFE_NO_PAD.decode(header).unwrap();
    assert_eq!(
        String::from_utf8(header).unwrap(),
        format!(
            r#"{{"alg":"dir","enc":"A256GCM","kid":"{}"}}"#,
            key(7).kid()
        )
    );
    assert_eq!(encrypted_key, "", "dir: no encrypted key");
    assert_eq!(URL_SAFE_NO_PAD.decode(iv).unwrap().len(), 12, "96-bit IV");
    assert_eq!(
        URL_SAFE_NO_PAD.decode(tag).unwrap().len(),
        16,
        "128-bit tag"
    );
    assert!(!URL_SAFE_NO_PAD.decode(ciphertext).unwrap().is_empty());
}

#[actix_web::test]
async fn every_issue_uses_a_fresh_iv() {
    let mut ivs = HashSet::new();
    for _ in 0..8 {
        let sealed = issue(encrypted()).await;
        ivs.insert(sealed.split('.').nth(2).unwrap().to_owned());
    }
    assert_eq!(
        ivs.len(),
        8,
        "no IV repeats across issues of the same claims"
    );
}

/// Switching `encrypted` on or off makes the other format's cookies unknown: users sign in again.
#[actix_web::test]
async fn a_cookie_of_the_other_format_is_refused() {
    let sealed = issue(encrypted()).await;
    let plain = issue(signed()).await;
    assert_eq!(signed().inspect(&sealed).unwrap_err().reason(), "malformed");
    assert_eq!(
        encrypted().inspect(&plain).unwrap_err().reason(),
        "malformed"
    );
}

#[test]
fn the_encryption_key_is_derived_apart_from_the_signing_key() {
    let k = key(7);
    assert_eq!(k.encryption_key_for_interop().len(), 32);
    assert_ne!(
        &k.encryption_key_for_interop()[..],
        k.signing_key_for_interop()
    );
    assert_ne!(&k.encryption_key_for_interop()[..], &[7u8; 32][..]);
    assert_ne!(
        key(8).encryption_key_for_interop(),
        k.encryption_key_for_interop()
    );
}
