//! Unpadded base64url, the encoding of every token this crate writes (cookie parts, session ids,
//! key ids, CSRF tokens): the bottom layer, shared by `random`, `key`, `codec` and `csrf`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url: no padding, no non-zero trailing bits, nothing outside the alphabet.
#[cfg(feature = "actix-session")]
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
