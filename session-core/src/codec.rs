//! Cookie format v1: a JWS compact serialization (HS256), verified strictly.
//!
//! `<header>.<payload>.<mac>`, each base64url without padding, where
//! `mac = HMAC-SHA256(signing key, header "." payload)` and the header is exactly
//! `{"alg":"HS256","kid":"<kid>","typ":"JWT"}` for one of the configured keys.
//!
//! With the feature `encrypted` and `.cookie(|c| c.content(Content::Sealed))`, the claims are sealed
//! instead (a JWE, see `codec/jwe.rs`); everything below holds for both formats.
//!
//! Invariants (each has a test below, in `codec/jwe.rs` or in `tests/`):
//! - the length limit is checked before any decoding;
//! - the header is never parsed: it must equal a precomputed segment byte for byte, so there is no
//!   `alg` confusion, no `none`, no unknown kid;
//! - the MAC is compared in constant time (`Mac::verify_slice`, built on `subtle`): an attacker
//!   learns nothing from response timing about how many tag bytes were right;
//! - nothing in the payload is decoded or parsed before the MAC verifies;
//! - base64url is decoded strictly (no padding, no non-zero trailing bits), so the verifier
//!   accepts exactly one spelling of a cookie value (actix-web unquotes and percent-decodes cookie
//!   values before they get here; that maps several wire spellings to the same value, not to
//!   another one);
//! - a cookie verified by a previous key is reported as `rotated`, and re-issued under the current
//!   key by the caller.

use std::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{base64url::b64, claims::Claims, key::Key};

#[cfg(feature = "encrypted")]
mod jwe;
#[cfg(feature = "actix-session")]
pub(crate) mod store_key;
#[cfg(test)]
mod vectors;

/// The cookie size limit, in bytes: a session is issued only while its cookie's name and value
/// together fit (browsers drop larger cookies), and a value longer than this is refused unread.
pub const MAX_COOKIE_LEN: usize = 4096;

/// Length of a base64url-encoded HMAC-SHA256 tag.
const MAC_B64_LEN: usize = 43;

type HmacSha256 = Hmac<Sha256>;

/// Why a cookie value was refused before its claims were trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// Longer than [`MAX_COOKIE_LEN`].
    Oversize {
        /// The length that was seen.
        len: usize,
    },
    /// Not three base64url segments.
    Malformed,
    /// The header names no configured key (or is not the exact v1 header).
    UnknownKey,
    /// The MAC does not match: tampered, or signed with another secret.
    BadSignature,
    /// The MAC matched but the payload is not valid claims (only a holder of the key could cause this).
    BadPayload,
    /// Idle expiry passed at this Unix time.
    Expired {
        /// `exp` of the cookie.
        at: i64,
    },
    /// Issued in the future (beyond the allowed clock skew).
    IssuedInFuture {
        /// `iat` of the cookie.
        at: i64,
    },
    /// The absolute session lifetime ended at this Unix time.
    AbsoluteTimeout {
        /// `auth_time + absolute_timeout`.
        at: i64,
    },
}

impl Rejection {
    /// A short stable name for logs: `oversize`, `malformed`, `unknown_kid`, `bad_mac`, ...
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Oversize { .. } => "oversize",
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_kid",
            Self::BadSignature => "bad_mac",
            Self::BadPayload => "bad_payload",
            Self::Expired { .. } => "expired",
            Self::IssuedInFuture { .. } => "issued_in_future",
            Self::AbsoluteTimeout { .. } => "absolute_timeout",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Oversize { len } => {
                write!(
                    f,
                    "cookie is {len} bytes, over the {MAX_COOKIE_LEN}-byte limit"
                )
            }
            Self::Malformed => f.write_str("cookie is not three base64url segments"),
            Self::UnknownKey => f.write_str("cookie header names no configured key"),
            Self::BadSignature => {
                f.write_str("cookie MAC does not verify (tampered or other secret)")
            }
            Self::BadPayload => f.write_str("cookie payload is not valid claims"),
            Self::Expired { at } => write!(f, "cookie expired at {at} (unix seconds)"),
            Self::IssuedInFuture { at } => write!(f, "cookie issued in the future, at {at}"),
            Self::AbsoluteTimeout { at } => {
                write!(
                    f,
                    "session passed its absolute timeout at {at} (unix seconds)"
                )
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// A configured key in one format: found by its precomputed header segment.
trait Keyed {
    /// The exact base64url header segment cookies under this key start with.
    fn header(&self) -> &str;
}

/// The current key (signs and verifies) and the previous ones (verify only), each prepared once at
/// start-up.
#[derive(Clone)]
struct KeyRing<T> {
    current: T,
    previous: Vec<T>,
}

impl<T: Keyed> KeyRing<T> {
    fn new(current: &Key, previous: &[Key], prepare: fn(&Key) -> T) -> Self {
        Self {
            current: prepare(current),
            previous: previous.iter().map(prepare).collect(),
        }
    }

    /// Header lookup: byte equality with a precomputed segment, never parsed. `(key, rotated)`.
    fn find(&self, header: &str) -> Result<(&T, bool), Rejection> {
        if header == self.current.header() {
            return Ok((&self.current, false));
        }
        let previous = self.previous.iter().find(|k| k.header() == header);
        previous.map(|k| (k, true)).ok_or(Rejection::UnknownKey)
    }
}

/// One key, keyed once at start-up: its exact header segment and a pre-keyed HMAC state that is
/// cloned per use.
#[derive(Clone)]
struct Signer {
    header: String,
    mac: HmacSha256,
}

impl Keyed for Signer {
    fn header(&self) -> &str {
        &self.header
    }
}

impl Signer {
    fn new(key: &Key) -> Self {
        // Keep in sync with docs/cookie-format.md ("The signed cookie"): the exact header, field
        // order included. The known-answer vectors (`vectors.rs`) pin it.
        let header = format!(r#"{{"alg":"HS256","kid":"{}","typ":"JWT"}}"#, key.kid());
        Self {
            header: b64(header.as_bytes()),
            mac: HmacSha256::new_from_slice(key.signing_key_for_interop())
                .expect("HMAC accepts keys of any length"),
        }
    }

    /// `<header>.<payload>.<mac>` over the serialized claims.
    fn sign(&self, json: &[u8]) -> String {
        let payload = b64(json);
        let tag = self
            .mac_over(&self.header, &payload)
            .finalize()
            .into_bytes();
        let mut out = String::with_capacity(self.header.len() + payload.len() + 2 + MAC_B64_LEN);
        out.push_str(&self.header);
        out.push('.');
        out.push_str(&payload);
        out.push('.');
        out.push_str(&b64(&tag));
        out
    }

    fn mac_over(&self, header: &str, payload: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac
    }
}

/// A verified cookie: its claims, and whether it was signed by a previous (verify-only) key.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) claims: Claims,
    pub(crate) rotated: bool,
}

/// Signs (or seals) with the current key; verifies with the current key and the previous ones.
#[derive(Clone)]
pub(crate) struct Codec(Format);

#[derive(Clone)]
enum Format {
    /// JWS, HS256: the claims are readable by the client, and unforgeable.
    Signed(KeyRing<Signer>),
    /// JWE, dir + A256GCM: the claims are unreadable and unforgeable. Boxed: the AES key
    /// schedules make it much larger than the HMAC states.
    #[cfg(feature = "encrypted")]
    Encrypted(Box<KeyRing<jwe::Sealer>>),
}

impl Codec {
    /// The signed (JWS) format, the default.
    pub(crate) fn new(current: &Key, previous: &[Key]) -> Self {
        Self(Format::Signed(KeyRing::new(current, previous, Signer::new)))
    }

    /// The sealed (JWE) format.
    #[cfg(feature = "encrypted")]
    pub(crate) fn encrypted(current: &Key, previous: &[Key]) -> Self {
        let keys = KeyRing::new(current, previous, jwe::Sealer::new);
        Self(Format::Encrypted(Box::new(keys)))
    }

    /// Serializes `claims` and signs (or seals) them under the current key.
    pub(crate) fn encode(&self, claims: &Claims) -> String {
        let json = serde_json::to_vec(claims).expect("claims always serialize");
        match &self.0 {
            Format::Signed(keys) => keys.current.sign(&json),
            #[cfg(feature = "encrypted")]
            Format::Encrypted(keys) => keys.current.seal(json),
        }
    }

    /// Verifies `value` and decodes its claims. Time checks are the caller's (see
    /// [`Claims::check_time`]), so this stays a pure function of the bytes and the keys.
    pub(crate) fn decode(&self, value: &str) -> Result<Verified, Rejection> {
        // 1. Length, before anything else looks at the bytes.
        if value.len() > MAX_COOKIE_LEN {
            return Err(Rejection::Oversize { len: value.len() });
        }
        // 2.–4. Split, header lookup, authenticate: the format's own steps.
        let (json, rotated) = match &self.0 {
            Format::Signed(keys) => verify_jws(keys, value)?,
            #[cfg(feature = "encrypted")]
            Format::Encrypted(keys) => jwe::open(keys, value)?,
        };
        // 5. Only now, with authenticated bytes: parse the claims.
        let claims = serde_json::from_slice(&json).map_err(|_| Rejection::BadPayload)?;
        Ok(Verified { claims, rotated })
    }
}

/// JWS steps 2–4: the authenticated payload bytes and whether a previous key verified them.
fn verify_jws(keys: &KeyRing<Signer>, value: &str) -> Result<(Vec<u8>, bool), Rejection> {
    // 2. Exactly three segments.
    let mut parts = value.split('.');
    let (Some(header), Some(payload), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    // 3. Header lookup: byte equality with a precomputed segment; never parsed.
    let (signer, rotated) = keys.find(header)?;
    // 4. Constant-time MAC check over the raw segments. A tag of the wrong length is refused
    // before decoding; `verify_slice` would refuse it too.
    if tag.len() != MAC_B64_LEN {
        return Err(Rejection::BadSignature);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Rejection::BadSignature)?;
    signer
        .mac_over(header, payload)
        .verify_slice(&tag)
        .map_err(|_| Rejection::BadSignature)?;
    // The MAC covered the payload's exact text; only now is it decoded.
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Rejection::BadPayload)?;
    Ok((json, rotated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key {
        Key::from_bytes(&[b; 32]).unwrap()
    }

    #[test]
    fn round_trip() {
        let codec = Codec::new(&key(1), &[]);
        let v = codec.decode(&codec.encode(&Claims::sample())).unwrap();
        assert_eq!(v.claims, Claims::sample());
        assert!(!v.rotated);
    }

    #[test]
    fn is_a_standard_hs256_jws() {
        let k = key(1);
        let codec = Codec::new(&k, &[]);
        let cookie = codec.encode(&Claims::sample());
        let parts: Vec<&str> = cookie.split('.').collect();
        let header = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
        let header = String::from_utf8(header).unwrap();
        assert_eq!(
            header,
            format!(r#"{{"alg":"HS256","kid":"{}","typ":"JWT"}}"#, k.kid())
        );
        let mut mac = HmacSha256::new_from_slice(k.signing_key_for_interop()).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(b64(&mac.finalize().into_bytes()), parts[2]);
    }

    #[test]
    fn rejections_table() {
        let codec = Codec::new(&key(1), &[]);
        let good = codec.encode(&Claims::sample());
        let (h, rest) = good.split_once('.').unwrap();
        let (p, t) = rest.split_once('.').unwrap();
        let other = Codec::new(&key(2), &[]).encode(&Claims::sample());
        let (_, other_rest) = other.split_once('.').unwrap();
        let mut flipped_tag = t.to_owned();
        flipped_tag.replace_range(0..1, if t.starts_with('A') { "B" } else { "A" });
        let signed_garbage = {
            let payload = b64(b"not json");
            let tag = Signer::new(&key(1))
                .mac_over(h, &payload)
                .finalize()
                .into_bytes();
            format!("{h}.{payload}.{}", b64(&tag))
        };
        let cases: Vec<(String, Rejection)> = vec![
            (
                "a".repeat(MAX_COOKIE_LEN + 1),
                Rejection::Oversize {
                    len: MAX_COOKIE_LEN + 1,
                },
            ),
            (String::new(), Rejection::Malformed),
            (format!("{h}.{p}"), Rejection::Malformed),
            (format!("{good}.x"), Rejection::Malformed),
            (
                format!("{}.{rest}", b64(br#"{"alg":"none"}"#)),
                Rejection::UnknownKey,
            ),
            (other.clone(), Rejection::UnknownKey),
            (format!("{h}.{other_rest}"), Rejection::BadSignature),
            (format!("{h}.{p}.{flipped_tag}"), Rejection::BadSignature),
            (format!("{h}.{p}.{}", &t[..42]), Rejection::BadSignature),
            (format!("{h}.{p}.{t}A"), Rejection::BadSignature),
            (format!("{h}.{p}x.{t}"), Rejection::BadSignature),
            (
                format!("{h}.{p}.{}", "!".repeat(43)),
                Rejection::BadSignature,
            ),
            (signed_garbage, Rejection::BadPayload),
        ];
        for (value, want) in cases {
            assert_eq!(codec.decode(&value).unwrap_err(), want, "{value:.60}");
        }
    }

    #[test]
    fn previous_key_verifies_and_is_marked_rotated() {
        let old = Codec::new(&key(1), &[]).encode(&Claims::sample());
        let rotated = Codec::new(&key(2), &[key(1)]);
        assert!(rotated.decode(&old).unwrap().rotated);
        let dropped = Codec::new(&key(2), &[]);
        assert_eq!(dropped.decode(&old).unwrap_err(), Rejection::UnknownKey);
    }
}
