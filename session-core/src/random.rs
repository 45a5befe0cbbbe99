//! Operating-system randomness for session ids and generated secrets.

/// Fills `buf` from the OS CSPRNG.
///
/// Invariant: session ids must be unpredictable; if the OS cannot supply randomness there is no safe
/// fallback, so this aborts the request with a panic rather than issue a guessable id.
pub(crate) fn fill(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("the operating system's random number generator failed");
}

/// A new 128-bit session id, base64url encoded (22 characters).
pub(crate) fn session_id() -> String {
    let mut id = [0u8; 16];
    fill(&mut id);
    crate::base64url::b64(&id)
}

/// Token length in bytes before encoding (128 bits).
const TOKEN_BYTES: usize = 16;

/// A new random CSRF token (see `csrf`).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    fill(&mut bytes);
    crate::base64url::b64(&bytes)
}
