//! Cookie format v1, sealed (feature `encrypted`): a JWE compact serialization, `alg: dir`,
//! `enc: A256GCM` (RFC 7516 / RFC 7518).
//!
//! `<header>..<iv>.<ciphertext>.<tag>`, each base64url without padding: the encrypted-key segment
//! is empty (`dir`: the derived key is the content-encryption key), the IV is 96 random bits, and
//! the additional authenticated data is the ASCII header segment. The header is exactly
//! `{"alg":"dir","enc":"A256GCM","kid":"<kid>"}` for one of the configured keys, so any JOSE
//! library opens the cookie with [`Key::encryption_key_for_interop`].
//!
//! Invariants, besides the shared ones in [`super`] (each has a test below or in `tests/`):
//! - the header is never parsed: byte equality with a precomputed segment;
//! - IV and tag are checked for their exact encoded lengths before anything is decoded;
//! - the GCM tag is checked (in constant time, inside `aes-gcm`, with `subtle`) over the header,
//!   the IV and the ciphertext before any plaintext exists, and nothing is parsed before that;
//! - every seal draws a fresh 96-bit IV from the OS CSPRNG, never a counter or a reuse.

use aes_gcm::{
    aead::{AeadInPlace, KeyInit},
    Aes256Gcm, Nonce, Tag,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use super::{KeyRing, Keyed, Rejection};
use crate::{base64url::b64, key::Key};

/// IV length in bytes (96 bits, the GCM standard size) and base64url characters.
const IV_LEN: usize = 12;
const IV_B64_LEN: usize = 16;
/// GCM tag length in base64url characters (16 bytes).
const TAG_B64_LEN: usize = 22;

/// One key for sealing: its exact header segment and an AES-256-GCM instance keyed once.
#[derive(Clone)]
pub(super) struct Sealer {
    header: String,
    cipher: Aes256Gcm,
}

impl Keyed for Sealer {
    fn header(&self) -> &str {
        &self.header
    }
}

impl Sealer {
    pub(super) fn new(key: &Key) -> Self {
        // Keep in sync with docs/cookie-format.md ("The sealed cookie"): the exact header.
        let header = format!(r#"{{"alg":"dir","enc":"A256GCM","kid":"{}"}}"#, key.kid());
        Self {
            header: b64(header.as_bytes()),
            cipher: Aes256Gcm::new(key.encryption_key_for_interop().into()),
        }
    }

    /// `<header>..<iv>.<ciphertext>.<tag>` over the serialized claims, under a fresh random IV.
    pub(super) fn seal(&self, plaintext: Vec<u8>) -> String {
        let mut iv = [0u8; IV_LEN];
        crate::random::fill(&mut iv);
        self.seal_with_iv(plaintext, &iv)
    }

    /// [`Self::seal`] under a given IV. Only `seal` and the known-answer tests call this: an IV
    /// must never be used twice under one key, so it stays private to the codec.
    pub(super) fn seal_with_iv(&self, mut plaintext: Vec<u8>, iv: &[u8; IV_LEN]) -> String {
        let tag = self
            .cipher
            .encrypt_in_place_detached(
                Nonce::from_slice(iv),
                self.header.as_bytes(),
                &mut plaintext,
            )
            .expect("a cookie-sized plaintext is far below the GCM length limit");
        let ciphertext = b64(&plaintext);
        let mut out = String::with_capacity(
            self.header.len() + IV_B64_LEN + ciphertext.len() + TAG_B64_LEN + 4,
        );
        for part in [&self.header, "", &b64(iv), &ciphertext] {
            out.push_str(part);
            out.push('.');
        }
        out.push_str(&b64(&tag));
        out
    }
}

/// JWE steps 2–4: the authenticated plaintext and whether a previous key opened it.
pub(super) fn open(keys: &KeyRing<Sealer>, value: &str) -> Result<(Vec<u8>, bool), Rejection> {
    // 2. Exactly five segments, the encrypted key empty (`dir`), IV and tag of their exact sizes.
    let mut parts = value.split('.');
    let (Some(header), Some(""), Some(iv), Some(ciphertext), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Rejection::Malformed);
    };
    if iv.len() != IV_B64_LEN {
        return Err(Rejection::Malformed);
    }
    // 3. Header lookup: byte equality with a precomputed segment; never parsed.
    let (sealer, rotated) = keys.find(header)?;
    // 4. Authenticate, then decrypt (`decrypt_in_place_detached` compares the tag in constant time
    // and only then applies the key stream). Strict base64url: one spelling per cookie.
    if tag.len() != TAG_B64_LEN {
        return Err(Rejection::BadSignature);
    }
    let decode = |segment: &str| URL_SAFE_NO_PAD.decode(segment);
    let (Ok(iv), Ok(mut buffer), Ok(tag)) = (decode(iv), decode(ciphertext), decode(tag)) else {
        return Err(Rejection::BadSignature);
    };
    sealer
        .cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(&iv),
            header.as_bytes(),
            &mut buffer,
            Tag::from_slice(&tag),
        )
        .map_err(|_| Rejection::BadSignature)?;
    Ok((buffer, rotated))
}

#[cfg(test)]
mod tests {
    use super::{super::Codec, *};
    use crate::claims::Claims;

    fn key(b: u8) -> Key {
        Key::from_bytes(&[b; 32]).unwrap()
    }

    fn segments(cookie: &str) -> Vec<String> {
        cookie.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn round_trip_and_fresh_iv_each_time() {
        let codec = Codec::encrypted(&key(1), &[]);
        let (a, b) = (
            codec.encode(&Claims::sample()),
            codec.encode(&Claims::sample()),
        );
        assert_ne!(segments(&a)[2], segments(&b)[2], "a new IV per seal");
        assert_ne!(segments(&a)[3], segments(&b)[3]);
        for cookie in [a, b] {
            let verified = codec.decode(&cookie).unwrap();
            assert_eq!(verified.claims, Claims::sample());
            assert!(!verified.rotated);
        }
    }

    /// What any JOSE library does with a `dir` / `A256GCM` compact JWE, done by hand: the exact
    /// header, an empty encrypted key, AAD = the ASCII header segment.
    #[test]
    fn is_a_standard_dir_a256gcm_jwe() {
        let k = key(1);
        let cookie = Codec::encrypted(&k, &[]).encode(&Claims::sample());
        let [header, encrypted_key, iv, ciphertext, tag] = &segments(&cookie)[..] else {
            panic!("five segments: {cookie}");
        };
        let header_json = String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(
            header_json,
            format!(r#"{{"alg":"dir","enc":"A256GCM","kid":"{}"}}"#, k.kid())
        );
        assert_eq!(encrypted_key, "");
        let iv = URL_SAFE_NO_PAD.decode(iv).unwrap();
        assert_eq!(iv.len(), 12);
        let mut buffer = URL_SAFE_NO_PAD.decode(ciphertext).unwrap();
        let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        Aes256Gcm::new(k.encryption_key_for_interop().into())
            .decrypt_in_place_detached(
                Nonce::from_slice(&iv),
                header.as_bytes(),
                &mut buffer,
                Tag::from_slice(&tag),
            )
            .unwrap();
        let opened: Claims = serde_json::from_slice(&buffer).unwrap();
        assert_eq!(opened, Claims::sample());
    }

    #[test]
    fn rejections_table() {
        let codec = Codec::encrypted(&key(1), &[]);
        let good = codec.encode(&Claims::sample());
        let s = segments(&good);
        let join = |parts: &[&str]| parts.join(".");
        let (h, iv, ct, tag) = (&*s[0], &*s[2], &*s[3], &*s[4]);
        let other = Codec::encrypted(&key(2), &[]).encode(&Claims::sample());
        let o = segments(&other);
        let signed = Codec::new(&key(1), &[]).encode(&Claims::sample());
        let sealed_garbage = {
            let sealer = Sealer::new(&key(1));
            sealer.seal(b"not json".to_vec())
        };
        let mut flipped_ct = URL_SAFE_NO_PAD.decode(ct).unwrap();
        flipped_ct[0] ^= 1;
        let cases: Vec<(String, Rejection)> = vec![
            (join(&[h, "", iv, ct]), Rejection::Malformed),
            (format!("{good}.x"), Rejection::Malformed),
            (join(&[h, "AAAA", iv, ct, tag]), Rejection::Malformed),
            (join(&[h, "", &iv[1..], ct, tag]), Rejection::Malformed),
            (signed, Rejection::Malformed),
            (other.clone(), Rejection::UnknownKey),
            (join(&[h, "", &o[2], &o[3], &o[4]]), Rejection::BadSignature),
            (
                join(&[h, "", iv, &b64(&flipped_ct), tag]),
                Rejection::BadSignature,
            ),
            (join(&[h, "", iv, ct, &tag[1..]]), Rejection::BadSignature),
            (
                join(&[h, "", iv, ct, &"A".repeat(22)]),
                Rejection::BadSignature,
            ),
            (
                join(&[h, "", iv, ct, &"!".repeat(22)]),
                Rejection::BadSignature,
            ),
            (join(&[h, "", iv, "", tag]), Rejection::BadSignature),
            (sealed_garbage, Rejection::BadPayload),
        ];
        for (value, want) in cases {
            assert_eq!(codec.decode(&value).unwrap_err(), want, "{value:.80}");
        }
    }

    #[test]
    fn previous_key_opens_and_is_marked_rotated() {
        let old = Codec::encrypted(&key(1), &[]).encode(&Claims::sample());
        let rotated = Codec::encrypted(&key(2), &[key(1)]);
        assert!(rotated.decode(&old).unwrap().rotated);
        let dropped = Codec::encrypted(&key(2), &[]);
        assert_eq!(dropped.decode(&old).unwrap_err(), Rejection::UnknownKey);
    }
}
