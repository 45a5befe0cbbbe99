//! Same-origin redirect targets.

/// Longest `next` value kept, in bytes.
pub const MAX_NEXT_LEN: usize = 2048;

/// Returns `next` when it is a same-origin relative path, `None` otherwise.
///
/// Use it on every user-supplied redirect target (such as the `next` query parameter of a login
/// form) before redirecting. It accepts only values that start with a single `/` and refuses
/// `//host`, `/\host`, schemes (`https:`, `javascript:`), backslashes, control characters and
/// whitespace, non-ASCII characters (look-alike slashes), values whose percent-decoding would turn
/// into one of those, and anything over [`MAX_NEXT_LEN`] bytes. Percent-encoded non-ASCII is kept
/// (`/caf%C3%A9`) except right after the leading `/` (`/%EF%BC%8Fevil.com`, a fullwidth solidus),
/// where a Unicode-normalizing layer could turn it into a second slash.
///
/// ```
/// use session_core::safe_next;
/// assert_eq!(safe_next("/dashboard?tab=2"), Some("/dashboard?tab=2"));
/// assert_eq!(safe_next("//evil.com"), None);
/// assert_eq!(safe_next("https://evil.com"), None);
/// ```
pub fn safe_next(next: &str) -> Option<&str> {
    let raw = next.as_bytes();
    if raw.len() > MAX_NEXT_LEN
        || !single_slash_prefix(raw)
        || !raw.iter().all(|&b| b.is_ascii_graphic() && b != b'\\')
    {
        return None;
    }
    // A proxy, framework or browser may decode once more: the decoded form must still start with a
    // single "/" and hold no control characters (browsers drop tabs and newlines, which would turn
    // "/%09/evil.com" into "//evil.com"). Encoded spaces and the like stay allowed.
    let decoded: Vec<u8> = percent_encoding::percent_decode(raw).collect();
    if !single_slash_prefix(&decoded) || decoded.iter().any(u8::is_ascii_control) {
        return None;
    }
    Some(next)
}

/// Starts with "/" and the next byte is neither "/" nor "\\" nor the start of a non-ASCII
/// character (a look-alike such as U+2215 or U+FF0F, or an overlong encoding of "/").
fn single_slash_prefix(path: &[u8]) -> bool {
    matches!(path, [b'/', rest @ ..] if !matches!(rest.first(), Some(b'/' | b'\\' | 0x80..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        for ok in [
            "/",
            "/a",
            "/a/b?c=d&e=%2F",
            "/a#frag",
            "/a:b",
            "/a?q=%20%5C%C3%A9",
            "/caf%C3%A9",
        ] {
            assert_eq!(safe_next(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "//evil.com",
            "/\\evil.com",
            "\\/evil.com",
            "https://evil.com",
            "https:evil.com",
            "javascript:alert(1)",
            "/%2F/evil.com",
            "/%5Cevil.com",
            "%2F%2Fevil.com",
            "/a\tb",
            "/a\nb",
            "/a b",
            "/\u{ff0f}evil.com",
            "/%09/evil.com",
            "/%EF%BC%8Fevil.com",
            "/%C0%AFevil.com",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_NEXT_LEN))), None);
    }
}
