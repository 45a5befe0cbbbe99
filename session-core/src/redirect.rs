//! Same-origin redirect targets.

/// Longest `next` value kept, in bytes.
pub const MAX_NEXT_LEN: usize = 2048;

/// Returns `next` when it is a same-origin relative path, `None` otherwise.
///
/// Use it on every user-supplied redirect target (such as the `next` query parameter of a login
/// form) before redirecting. It accepts only values that start with a single `/` and refuses
/// `//host`, `/\host`, schemes (`https:`, `javascript:`), backslashes, control characters and
/// whitespace, non-ASCII characters (look-alike slashes), values whose percent-decoding would turn
/// into one of those, and anything over [`MAX_NEXT_LEN`] bytes.
///
/// ```
/// use session_core::safe_next;
/// assert_eq!(safe_next("/dashboard?tab=2"), Some("/dashboard?tab=2"));
/// assert_eq!(safe_next("//evil.com"), None);
/// assert_eq!(safe_next("https://evil.com"), None);
/// ```
pub fn safe_next(next: &str) -> Option<&str> {
    if next.len() > MAX_NEXT_LEN || !is_safe_path(next.as_bytes()) {
        return None;
    }
    // A proxy, framework or browser may decode once more: the decoded form must be safe too.
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(next).collect();
    if !is_safe_path(&decoded) {
        return None;
    }
    Some(next)
}

fn is_safe_path(path: &[u8]) -> bool {
    matches!(path, [b'/', rest @ ..] if !matches!(rest.first(), Some(b'/' | b'\\')))
        && path
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        for ok in ["/", "/a", "/a/b?c=d&e=%2F", "/a#frag", "/a:b"] {
            assert_eq!(safe_next(ok), Some(ok), "{ok}");
        }
        for bad in [
            "", "a", "//evil.com", "/\\evil.com", "\\/evil.com", "https://evil.com", "https:evil.com",
            "javascript:alert(1)", "/%2F/evil.com", "/%5Cevil.com", "%2F%2Fevil.com", "/a\tb", "/a\nb",
            "/a b", "/\u{ff0f}evil.com", "/%09/evil.com",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_NEXT_LEN))), None);
    }
}
