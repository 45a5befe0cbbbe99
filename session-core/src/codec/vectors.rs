//! Known-answer vectors for cookie format v1 (`tests/vectors/cookie-v1.json`, described in
//! `docs/cookie-format.md`): a fixed secret and fixed claims must give exactly these derived keys,
//! key id and cookies. `scripts/check_vectors.py`, an independent implementation, checks the same
//! file in CI, so a change of derivation label, header bytes or claim order fails twice.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::Value;

use super::Codec;
use crate::{claims::Claims, key::Key};

const VECTORS: &str = include_str!("../../tests/vectors/cookie-v1.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("the vectors file is JSON")
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field:?} is a string"))
}

fn hex(text: &str) -> Vec<u8> {
    assert_eq!(text.len() % 2, 0, "hex of odd length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

fn key(vectors: &Value) -> Key {
    Key::from_bytes(&hex(text(vectors, "secret_hex"))).unwrap()
}

/// The vector's claims, and the exact JSON the cookie must carry for them (field order included).
fn claims(vector: &Value) -> (Claims, String) {
    let claims: Claims = serde_json::from_value(vector["claims"].clone()).unwrap();
    let json = serde_json::to_string(&claims).unwrap();
    assert_eq!(json, text(vector, "claims_json"), "{}", vector["name"]);
    (claims, json)
}

fn first_segment_json(cookie: &str) -> String {
    let header = cookie.split('.').next().unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(header).unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn derived_keys_and_kid_match_the_vectors() {
    let vectors = vectors();
    let (key, derived) = (key(&vectors), &vectors["derived"]);
    assert_eq!(
        key.signing_key_for_interop(),
        hex(text(derived, "signing_key_hex"))
    );
    assert_eq!(key.kid(), text(derived, "kid"));
    #[cfg(feature = "encrypted")]
    assert_eq!(
        &key.encryption_key_for_interop()[..],
        hex(text(derived, "encryption_key_hex"))
    );
}

#[test]
fn signed_cookies_match_the_vectors() {
    let vectors = vectors();
    let codec = Codec::new(&key(&vectors), &[]);
    let signed = vectors["signed"].as_array().unwrap();
    assert!(!signed.is_empty());
    for vector in signed {
        let (claims, _) = claims(vector);
        let cookie = codec.encode(&claims);
        assert_eq!(cookie, text(vector, "cookie"), "{}", vector["name"]);
        assert_eq!(first_segment_json(&cookie), text(vector, "header_json"));
        assert_eq!(codec.decode(&cookie).unwrap().claims, claims);
    }
}

#[cfg(feature = "encrypted")]
#[test]
fn sealed_cookies_match_the_vectors() {
    let vectors = vectors();
    let key = key(&vectors);
    let sealer = super::jwe::Sealer::new(&key);
    let codec = Codec::encrypted(&key, &[]);
    let sealed = vectors["sealed"].as_array().unwrap();
    assert!(!sealed.is_empty());
    for vector in sealed {
        let (claims, json) = claims(vector);
        let iv: [u8; 12] = hex(text(vector, "iv_hex")).try_into().expect("a 96-bit IV");
        let cookie = sealer.seal_with_iv(json.into_bytes(), &iv);
        assert_eq!(cookie, text(vector, "cookie"), "{}", vector["name"]);
        assert_eq!(first_segment_json(&cookie), text(vector, "header_json"));
        assert_eq!(codec.decode(&cookie).unwrap().claims, claims);
    }
}

#[cfg(feature = "actix-session")]
#[test]
fn store_cookies_match_the_vectors() {
    let vectors = vectors();
    let key = key(&vectors);
    assert_eq!(
        key.store_key_mac_key().as_slice(),
        hex(text(&vectors["derived"], "store_key_mac_key_hex"))
    );
    let macs = super::store_key::StoreKeyMacs::new(&key, []);
    let store = vectors["store"].as_array().unwrap();
    assert!(!store.is_empty());
    for vector in store {
        let store_key = text(vector, "store_key");
        let cookie = macs.seal(store_key);
        assert_eq!(cookie, text(vector, "cookie"), "{}", vector["name"]);
        assert_eq!(macs.open(&cookie), Some((store_key, false)));
    }
}
