//! Same-origin redirect targets.

/// Longest `next` value kept, in bytes.
pub const MAX_NEXT_LEN: usize = session_rules::MAX_REDIRECT_LEN;

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
/// The same rule decides which targets [`crate::Guard::redirect`] and the macros' `redirect = ".."`
/// accept: one implementation, `session_rules::same_origin_path`, serves all three.
///
/// ```
/// use session_core::safe_next;
/// assert_eq!(safe_next("/dashboard?tab=2"), Some("/dashboard?tab=2"));
/// assert_eq!(safe_next("//evil.com"), None);
/// assert_eq!(safe_next("https://evil.com"), None);
/// ```
pub fn safe_next(next: &str) -> Option<&str> {
    // A proxy, framework or browser may decode once more, so the rule also checks the decoded
    // form (browsers drop tabs and newlines, which would turn "/%09/evil.com" into "//evil.com").
    session_rules::same_origin_path(next)
        .is_ok()
        .then_some(next)
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
