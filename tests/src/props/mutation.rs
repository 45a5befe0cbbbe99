//! Ways to change a valid cookie ([`Mutation`]), and which changes the HTTP layer undoes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use percent_encoding::percent_decode_str;
use proptest::sample::Index;
use serde_json::{Map, Value};

use super::b64;

/// Ways to change a valid cookie. Positions are [`Index`]es, scaled to whatever they apply to.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit of one byte (a byte above 0x7f becomes U+FFFD: still a change).
    BitFlip { at: Index, bit: u8 },
    /// Keep a proper prefix.
    Truncate { keep: Index },
    /// Drop a non-empty prefix.
    DropFront { drop: Index },
    /// Insert a non-empty string anywhere, the end included.
    Insert { at: Index, extra: String },
    /// Put the segments in another order (indices into a shuffled 0..5, filtered to the count).
    Reorder { order: Vec<usize> },
    /// Repeat one segment.
    Duplicate { segment: Index },
    /// Remove one segment.
    Remove { segment: Index },
    /// Replace the header with another key's or another format's.
    KidSwap { header: Index },
    /// Replace one segment with random base64url of the same or another length.
    Replace { segment: Index, with: String },
    /// Re-encode one segment's bytes differently in base64.
    Base64 { segment: Index, variant: B64 },
    /// Re-serialize a JSON segment (the header; the payload of a JWS) differently.
    Json { segment: Index, style: JsonStyle },
    /// Transport-level wrappers a careless proxy might add.
    Wrap { wrapper: Wrapper },
}

/// A base64 re-encoding of a segment.
#[derive(Debug, Clone, Copy)]
pub enum B64 {
    /// Append one or two `=`.
    Padding(u8),
    /// `-` → `+`, `_` → `/` (standard alphabet).
    Standard,
    /// Same decoded bytes under a lax decoder: different unused low bits in the last character.
    TrailingBits(Index),
    /// One character as `%XX`.
    PercentEscape(Index),
}

/// A re-serialization of a JSON segment.
#[derive(Debug, Clone, Copy)]
pub enum JsonStyle {
    /// Compact, keys sorted.
    Sorted,
    /// Pretty-printed.
    Pretty,
    /// A trailing space.
    TrailingSpace,
    /// A leading byte order mark.
    ByteOrderMark,
    /// A second `"alg":"none"`.
    DuplicateAlgNone,
    /// An extra field.
    ExtraField,
    /// One `a` as `\u0061`.
    EscapedAscii,
}

/// A transport-level wrapper around the whole value.
#[derive(Debug, Clone, Copy)]
pub enum Wrapper {
    /// `"value"`.
    Quotes,
    /// ` value `.
    Spaces,
    /// All lowercase.
    Lowercase,
    /// All uppercase.
    Uppercase,
}

impl Mutation {
    /// `cookie` changed; may equal `cookie` when the change does not apply (the caller skips).
    pub fn apply(&self, cookie: &str, swap_headers: &[String]) -> String {
        let bytes = cookie.as_bytes();
        let segments: Vec<&str> = cookie.split('.').collect();
        let with_segment = |i: usize, new: String| {
            let mut parts: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
            parts[i] = new;
            parts.join(".")
        };
        match self {
            Self::BitFlip { at, bit } => {
                let mut flipped = bytes.to_vec();
                flipped[at.index(bytes.len())] ^= 1 << bit;
                String::from_utf8_lossy(&flipped).into_owned()
            }
            Self::Truncate { keep } => cookie[..keep.index(cookie.len())].to_owned(),
            Self::DropFront { drop } => cookie[1 + drop.index(cookie.len())..].to_owned(),
            Self::Insert { at, extra } => {
                let at = at.index(cookie.len() + 1);
                format!("{}{extra}{}", &cookie[..at], &cookie[at..])
            }
            Self::Reorder { order } => order
                .iter()
                .filter(|&&i| i < segments.len())
                .map(|&i| segments[i])
                .collect::<Vec<_>>()
                .join("."),
            Self::Duplicate { segment } => {
                let i = segment.index(segments.len());
                let mut parts = segments.clone();
                parts.insert(i, segments[i]);
                parts.join(".")
            }
            Self::Remove { segment } => {
                let mut parts = segments.clone();
                parts.remove(segment.index(segments.len()));
                parts.join(".")
            }
            Self::KidSwap { header } => {
                with_segment(0, swap_headers[header.index(swap_headers.len())].clone())
            }
            Self::Replace { segment, with } => {
                with_segment(segment.index(segments.len()), with.clone())
            }
            Self::Base64 { segment, variant } => {
                let i = segment.index(segments.len());
                with_segment(i, base64_variant(segments[i], *variant))
            }
            Self::Json { segment, style } => {
                let json_segments: Vec<usize> = (0..segments.len())
                    .filter(|&i| json_of(segments[i]).is_some())
                    .collect();
                let i = json_segments[segment.index(json_segments.len())];
                let value = json_of(segments[i]).expect("a JSON segment");
                with_segment(i, b64(restyle(&value, *style)))
            }
            Self::Wrap { wrapper } => match wrapper {
                Wrapper::Quotes => format!("\"{cookie}\""),
                Wrapper::Spaces => format!(" {cookie} "),
                Wrapper::Lowercase => cookie.to_ascii_lowercase(),
                Wrapper::Uppercase => cookie.to_ascii_uppercase(),
            },
        }
    }
}

/// The JSON object a base64url segment encodes, if it encodes one.
pub fn json_of(segment: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `value` serialized in `style`.
pub fn restyle(value: &Map<String, Value>, style: JsonStyle) -> String {
    let compact = serde_json::to_string(value).expect("JSON");
    match style {
        JsonStyle::Sorted => compact,
        JsonStyle::Pretty => serde_json::to_string_pretty(value).expect("JSON"),
        JsonStyle::TrailingSpace => format!("{compact} "),
        JsonStyle::ByteOrderMark => format!("\u{feff}{compact}"),
        JsonStyle::DuplicateAlgNone => {
            format!("{},\"alg\":\"none\"}}", &compact[..compact.len() - 1])
        }
        JsonStyle::ExtraField => format!("{},\"x\":1}}", &compact[..compact.len() - 1]),
        JsonStyle::EscapedAscii => compact.replacen('a', "\\u0061", 1),
    }
}

/// `segment` re-encoded as `variant` says.
pub fn base64_variant(segment: &str, variant: B64) -> String {
    match variant {
        B64::Padding(n) => format!("{segment}{}", "=".repeat(n.into())),
        B64::Standard => segment.replace('-', "+").replace('_', "/"),
        B64::TrailingBits(pick) => {
            // 2 or 3 characters past a multiple of 4 carry 4 or 2 unused low bits.
            let unused = match segment.len() % 4 {
                2 => 4,
                3 => 2,
                _ => return segment.to_owned(),
            };
            let last = segment.as_bytes()[segment.len() - 1];
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let value = alphabet.iter().position(|&c| c == last).expect("base64url");
            let low: usize = (1 << unused) - 1;
            // Any other value of the unused bits: an offset of 1..=low, modulo low + 1.
            let bits = (value + 1 + pick.index(low)) & low;
            let other = (value & !low) | bits;
            format!(
                "{}{}",
                &segment[..segment.len() - 1],
                char::from(alphabet[other])
            )
        }
        B64::PercentEscape(at) if !segment.is_empty() => {
            let at = at.index(segment.len());
            let c = segment.as_bytes()[at];
            format!("{}%{c:02X}{}", &segment[..at], &segment[at + 1..])
        }
        B64::PercentEscape(_) => "%2E".to_owned(),
    }
}

/// Whether `sent` reaches the verifier as `cookie`: actix-web reads cookies with
/// `Cookie::parse_encoded`, which trims whitespace, drops one pair of surrounding double quotes
/// (RFC 6265 allows them) and decodes percent-escapes.
pub fn same_after_transport(sent: &str, cookie: &str) -> bool {
    let sent = sent.trim();
    let unquoted = sent
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(sent)
        .trim();
    percent_decode_str(unquoted).decode_utf8_lossy() == cookie
}
