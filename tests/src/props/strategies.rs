//! Strategies for the property tests: random claims ([`Spec`]), cookie-shaped noise, mutations,
//! and input shaped to reach every stage of the verifier.

use std::{collections::BTreeMap, ops::RangeInclusive};

use proptest::{
    prelude::*,
    sample::{select, Index},
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::mutation::{JsonStyle, Mutation, Wrapper, B64};

/// Claims chosen by the test: logged in through `POST /spec-login` with a JSON body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// User id.
    pub id: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Session data.
    pub data: BTreeMap<String, Value>,
    /// `Login::remember`.
    pub remember: bool,
}

/// Short text: mostly identifier-like, sometimes any characters.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::string::string_regex(&format!("[a-z0-9_.@-]{{1,{max}}}")).unwrap(),
        1 => prop::collection::vec(any::<char>(), 1..=max).prop_map(String::from_iter),
    ]
}

/// Small JSON values (integers only: floats need not survive a text round trip bit for bit).
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text(16).prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Random claims, kept well under the 4096-byte cookie limit.
pub fn spec() -> impl Strategy<Value = Spec> {
    (
        text(24),
        prop::collection::vec(text(12), 0..4),
        prop::collection::btree_map("[a-z_]{1,8}", json_value(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(id, roles, data, remember)| Spec {
            id,
            roles,
            data,
            remember,
        })
}

/// The base64url alphabet.
pub const B64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Pseudo-random bytes of a length in `len`, expanded from a seed: cheap at 8 KiB, where a `vec`
/// strategy would build a shrinkable tree per byte. Shrinks by length (and seed).
pub fn noise(len: RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    (len, any::<u64>()).prop_map(|(len, seed)| {
        let mut state = seed;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            // SplitMix64.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        out.truncate(len);
        out
    })
}

/// Random text over `alphabet`.
pub fn noise_over(
    alphabet: &'static [u8],
    len: RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    noise(len).prop_map(move |bytes| {
        bytes
            .into_iter()
            .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
            .collect()
    })
}

/// Random base64url text of a length in `len`.
pub fn b64_string(len: RangeInclusive<usize>) -> impl Strategy<Value = String> {
    noise_over(B64_ALPHABET, len)
}

/// Any [`Mutation`], weighted towards bit flips.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let extra = prop_oneof![
        b64_string(1..=8),
        "[=. \t\r\n;,\"%+/\\\\]{1,3}",
        prop::collection::vec(any::<char>(), 1..4).prop_map(String::from_iter),
    ];
    let b64_variant = prop_oneof![
        (1u8..=2).prop_map(B64::Padding),
        Just(B64::Standard),
        any::<Index>().prop_map(B64::TrailingBits),
        any::<Index>().prop_map(B64::PercentEscape),
    ];
    let style = select(vec![
        JsonStyle::Sorted,
        JsonStyle::Pretty,
        JsonStyle::TrailingSpace,
        JsonStyle::ByteOrderMark,
        JsonStyle::DuplicateAlgNone,
        JsonStyle::ExtraField,
        JsonStyle::EscapedAscii,
    ]);
    let wrapper = select(vec![
        Wrapper::Quotes,
        Wrapper::Spaces,
        Wrapper::Lowercase,
        Wrapper::Uppercase,
    ]);
    prop_oneof![
        6 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::BitFlip { at, bit }),
        2 => any::<Index>().prop_map(|keep| Mutation::Truncate { keep }),
        1 => any::<Index>().prop_map(|drop| Mutation::DropFront { drop }),
        2 => (any::<Index>(), extra).prop_map(|(at, extra)| Mutation::Insert { at, extra }),
        2 => Just((0..5).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_map(|order| Mutation::Reorder { order }),
        1 => any::<Index>().prop_map(|segment| Mutation::Duplicate { segment }),
        1 => any::<Index>().prop_map(|segment| Mutation::Remove { segment }),
        2 => any::<Index>().prop_map(|header| Mutation::KidSwap { header }),
        2 => (any::<Index>(), prop_oneof![b64_string(0..=64), b64_string(16..=16), b64_string(22..=22), b64_string(43..=43)])
            .prop_map(|(segment, with)| Mutation::Replace { segment, with }),
        3 => (any::<Index>(), b64_variant)
            .prop_map(|(segment, variant)| Mutation::Base64 { segment, variant }),
        2 => (any::<Index>(), style).prop_map(|(segment, style)| Mutation::Json { segment, style }),
        1 => wrapper.prop_map(|wrapper| Mutation::Wrap { wrapper }),
    ]
}

/// Input shaped to reach every stage of the verifier, up to 8 KiB.
pub fn random_input(headers: Vec<String>) -> impl Strategy<Value = String> {
    let header = select(headers);
    prop_oneof![
        // Anything at all.
        noise(0..=8192).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        // Valid UTF-8 of any characters.
        prop::collection::vec(any::<char>(), 0..=64).prop_map(String::from_iter),
        // The right alphabet, dots and padding included.
        noise_over(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=",
            0..=8192
        ),
        // A real header, then a JWS-shaped rest: reaches the MAC check.
        (header.clone(), b64_string(0..=3000), b64_string(40..=46))
            .prop_map(|(h, p, t)| format!("{h}.{p}.{t}")),
        // A real header, then a JWE-shaped rest: reaches the AEAD check.
        (
            header,
            b64_string(16..=16),
            b64_string(0..=3000),
            b64_string(20..=24)
        )
            .prop_map(|(h, iv, c, t)| format!("{h}..{iv}.{c}.{t}")),
    ]
}

/// Specs of growing size: an empty-handed user, a typical one, one near the size limit.
pub fn fixed_specs() -> Vec<Spec> {
    let data = |n: usize, len: usize| {
        (0..n)
            .map(|i| (format!("k{i}"), json!("v".repeat(len))))
            .collect()
    };
    vec![
        Spec {
            id: "a".into(),
            roles: vec![],
            data: BTreeMap::new(),
            remember: false,
        },
        Spec {
            id: "alice@example.com".into(),
            roles: vec!["admin".into(), "editor".into()],
            data: data(3, 20),
            remember: true,
        },
        Spec {
            id: "\u{1F600} \"quoted\" \\ \u{0}".into(),
            roles: vec!["r".repeat(40)],
            data: data(4, 250),
            remember: true,
        },
    ]
}
