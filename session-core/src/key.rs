//! The master secret and the keys derived from it.
//!
//! Invariant: the master secret is never used directly to sign anything. Every key that touches a
//! cookie is derived from it with HMAC-SHA256 under a domain-separation label of its own
//! ("session-core v1 signing", "session-core v1 encryption", ...), so a key for one purpose can never
//! be replayed for another.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ConfigError;
pub use crate::error::MIN_SECRET_LEN;

// Keep these in sync with docs/cookie-format.md ("Keys"): changing a label invalidates every
// cookie, and the known-answer vectors (`codec/vectors.rs`, `scripts/check_vectors.py`) fail.
const SIGNING_LABEL: &[u8] = b"session-core v1 signing";
const KID_LABEL: &[u8] = b"session-core v1 key id";
const FINGERPRINT_LABEL: &[u8] = b"session-core v1 fingerprint";
const THROTTLE_LABEL: &[u8] = b"session-core v1 throttle";
#[cfg(feature = "actix-session")]
const STORE_KEY_LABEL: &[u8] = b"session-core v1 store key";
#[cfg(feature = "encrypted")]
const ENCRYPTION_LABEL: &[u8] = b"session-core v1 encryption";

/// A master secret (at least 32 bytes) from which the cookie keys are derived.
///
/// ```
/// use session_core::Key;
/// let key = Key::from_bytes(&[42u8; 32]).unwrap();
/// assert!(Key::from_bytes(b"too short").is_err());
/// # let _ = key;
/// ```
#[derive(Clone)]
pub struct Key {
    signing: [u8; 32],
    #[cfg(feature = "encrypted")]
    encryption: [u8; 32],
    /// Keys the MAC of a live user's credential fingerprint (`fp` claim).
    fingerprint: [u8; 32],
    /// Keys the hash of account names and addresses in the login throttle's store.
    throttle: [u8; 32],
    /// Keys the MAC a session-store cookie carries beside the store's key.
    #[cfg(feature = "actix-session")]
    store_key: [u8; 32],
    kid: String,
}

impl Key {
    /// Builds a key from a secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::SecretTooShort {
                source_name: "Key::from_bytes".to_owned(),
                len: secret.len(),
                min: MIN_SECRET_LEN,
            });
        }
        Ok(Self::derive(secret))
    }

    /// Reads the secret from the environment variable `var` (its UTF-8 bytes, at least 32).
    ///
    /// ```no_run
    /// let key = session_core::Key::from_env("SESSION_SECRET").expect("set SESSION_SECRET");
    /// # let _ = key;
    /// ```
    pub fn from_env(var: &str) -> Result<Self, ConfigError> {
        let value = std::env::var_os(var).ok_or_else(|| ConfigError::MissingEnv {
            var: var.to_owned(),
        })?;
        let value = value.into_string().map_err(|_| ConfigError::NotUnicode {
            var: var.to_owned(),
        })?;
        if value.len() < MIN_SECRET_LEN {
            return Err(ConfigError::SecretTooShort {
                source_name: format!("environment variable {var}"),
                len: value.len(),
                min: MIN_SECRET_LEN,
            });
        }
        Ok(Self::derive(value.as_bytes()))
    }

    /// Generates a random 64-byte secret. Sessions signed with it do not survive a restart.
    pub fn generate() -> Self {
        let mut secret = [0u8; 64];
        crate::random::fill(&mut secret);
        Self::derive(&secret)
    }

    fn derive(secret: &[u8]) -> Self {
        let signing = label_hmac(secret, SIGNING_LABEL);
        let kid_bytes = label_hmac(secret, KID_LABEL);
        Self {
            signing,
            #[cfg(feature = "encrypted")]
            encryption: label_hmac(secret, ENCRYPTION_LABEL),
            fingerprint: label_hmac(secret, FINGERPRINT_LABEL),
            throttle: label_hmac(secret, THROTTLE_LABEL),
            #[cfg(feature = "actix-session")]
            store_key: label_hmac(secret, STORE_KEY_LABEL),
            kid: crate::base64url::b64(&kid_bytes[..6]),
        }
    }

    /// The key id written into the cookie header (8 characters, derived from the secret).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The derived HS256 signing key: hand this to services that must verify the session cookie
    /// with a standard JWT library. It can forge sessions: treat it like the master secret.
    pub fn signing_key_for_interop(&self) -> &[u8] {
        &self.signing
    }

    /// The derived key of the credential-fingerprint MAC (see [`crate::User::fingerprint`]).
    pub(crate) fn fingerprint_key(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The derived key of the MAC over a session store's key in the session cookie
    /// (docs/cookie-format.md, "The session-store cookie").
    #[cfg(feature = "actix-session")]
    pub(crate) fn store_key_mac_key(&self) -> &[u8; 32] {
        &self.store_key
    }

    /// The derived key of the login throttle's keyed hash (see [`crate::throttle`]).
    pub(crate) fn throttle_key(&self) -> &[u8; 32] {
        &self.throttle
    }

    /// The derived AES-256-GCM content-encryption key (feature `encrypted`): hand this to services
    /// that must open the sealed session cookie with a standard JOSE library, as a JWE with
    /// `alg: dir`, `enc: A256GCM`. It can read and forge sessions: treat it like the master secret.
    ///
    /// ```
    /// let key = session_core::Key::from_bytes(&[42u8; 32]).unwrap();
    /// assert_eq!(key.encryption_key_for_interop().len(), 32);
    /// assert_ne!(key.encryption_key_for_interop(), key.signing_key_for_interop());
    /// ```
    #[cfg(feature = "encrypted")]
    pub fn encryption_key_for_interop(&self) -> &[u8; 32] {
        &self.encryption
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn label_hmac(secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secret_error_names_source_and_minimum() {
        let err = Key::from_bytes(&[1u8; 31]).unwrap_err().to_string();
        assert!(err.contains("32"), "{err}");
        assert!(err.contains("31"), "{err}");
    }

    #[test]
    fn derived_keys_differ_from_secret_and_each_other() {
        let secret = [9u8; 32];
        let key = Key::from_bytes(&secret).unwrap();
        assert_ne!(key.signing_key_for_interop(), &secret[..]);
        let other = Key::from_bytes(&[8u8; 32]).unwrap();
        assert_ne!(key.kid(), other.kid());
        assert_eq!(key.kid().len(), 8);
    }

    #[cfg(feature = "encrypted")]
    #[test]
    fn encryption_key_is_its_own_derivation() {
        let secret = [9u8; 32];
        let key = Key::from_bytes(&secret).unwrap();
        let enc = key.encryption_key_for_interop();
        assert_eq!(enc, &label_hmac(&secret, b"session-core v1 encryption"));
        assert_ne!(&enc[..], key.signing_key_for_interop());
        assert_ne!(&enc[..], &secret[..]);
    }

    #[test]
    fn debug_never_prints_key_material() {
        let key = Key::from_bytes(&[9u8; 32]).unwrap();
        let text = format!("{key:?}");
        assert!(!text.contains("signing"));
    }
}
