//! Property tests for the cookie codec, through the public API (`AuthSession::inspect` and the
//! middleware): random claims round-trip; every mutation of a valid cookie is refused before its
//! claims are trusted; random input of up to 8 KiB never panics and is never accepted.
//!
//! One matrix serves every cookie format: the signed JWS always, and the sealed JWE when the
//! `encrypted` feature of this crate is on (`cargo test -p tests --features encrypted`).
//!
//! CI runs [`CI_CASES`] cases per property (over 100,000 in all). The long run, a million cases
//! split in the same proportions (about 10 s in release, 3 min in debug, both formats), is
//! `PROPTEST_CASES=1000000 cargo test --release -p tests --features encrypted --test security_props -- --ignored`.

use std::{collections::BTreeMap, ops::RangeInclusive};

use actix_service::{boxed, ServiceExt as _};
use actix_web::{
    dev::ServiceResponse,
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    rt::{System, SystemRunner},
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use percent_encoding::percent_decode_str;
use proptest::{
    prelude::*,
    sample::{select, Index},
    strategy::ValueTree,
    test_runner::{TestCaseError, TestRunner},
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use session_core::{AuthSession, Login, Session, SessionError};
use tests::{clock, key, modes::TestApp, routes, session_cookie, COOKIE, T0};

use crate::formats::{Format, FORMATS};

mod formats;

// ---------------------------------------------------------------- the subjects

/// The current key; [`PREVIOUS`] still verifies; [`UNRELATED`] was never configured.
const CURRENT: u8 = 7;
const PREVIOUS: u8 = 8;
const UNRELATED: u8 = 9;

/// Rejections that happen before any claim is trusted. `bad_payload` is not among them: it
/// means the cookie authenticated, which no mutation without the key can achieve.
const UNAUTHENTIC: &[&str] = &["oversize", "malformed", "unknown_kid", "bad_mac"];

/// Exactly the header JSON a format's precomputed header segment encodes, for kid-swap targets.
const HEADER_TEMPLATES: &[&str] = &[
    r#"{"alg":"HS256","kid":"KID","typ":"JWT"}"#,
    r#"{"alg":"dir","enc":"A256GCM","kid":"KID"}"#,
    r#"{"alg":"none","kid":"KID","typ":"JWT"}"#,
    r#"{"alg":"HS512","kid":"KID","typ":"JWT"}"#,
    r#"{"alg":"dir","enc":"A128GCM","kid":"KID"}"#,
    r#"{"alg":"HS256","kid":"KID"}"#,
    r#"{"alg":"HS256","typ":"JWT"}"#,
];

/// One configured format: the `AuthSession` (for `inspect`) and an app with its middleware.
struct Subject {
    format: Format,
    auth: AuthSession,
    app: TestApp,
}

fn auth_for(format: Format, key_byte: u8) -> AuthSession {
    let builder = AuthSession::builder(key(key_byte))
        .previous_keys([key(PREVIOUS)])
        .clock(clock());
    format
        .configure(builder)
        .build()
        .expect("valid test config")
}

/// Claims chosen by the test: logged in through `POST /spec-login` with a JSON body.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Spec {
    id: String,
    roles: Vec<String>,
    data: BTreeMap<String, Value>,
    remember: bool,
}

async fn spec_login(session: Session, spec: web::Json<Spec>) -> Result<HttpResponse, SessionError> {
    let spec = spec.into_inner();
    let mut login = Login::new(spec.id)
        .roles(spec.roles)
        .remember(spec.remember);
    for (k, v) in spec.data {
        login = login.data(k, v);
    }
    session.login(login)?;
    Ok(HttpResponse::Ok().finish())
}

/// A subject whose current key is `key_byte`.
async fn new_subject(format: Format, key_byte: u8) -> Subject {
    let auth = auth_for(format, key_byte);
    let app = App::new()
        .wrap(auth.clone())
        .configure(routes)
        .route("/spec-login", web::post().to(spec_login));
    let app = boxed::service(
        test::init_service(app)
            .await
            .map(ServiceResponse::map_into_boxed_body),
    );
    Subject { format, auth, app }
}

impl Subject {
    /// A valid cookie value carrying `spec`, issued by the middleware.
    async fn issue(&self, spec: &Spec) -> String {
        let req = TestRequest::post()
            .uri("/spec-login")
            .set_json(spec)
            .to_request();
        let res = test::call_service(&self.app, req).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{:?}: login {spec:?}",
            self.format
        );
        let cookie = session_cookie(&res).expect("login sets the cookie");
        cookie.value().to_owned()
    }

    /// Refused before any claim is trusted, with a reason that says so.
    fn assert_refused(&self, value: &str) -> Result<(), TestCaseError> {
        match self.auth.inspect(value) {
            Ok(claims) => Err(TestCaseError::fail(format!(
                "{:?} accepted {value:?} as {claims}",
                self.format
            ))),
            Err(rejection) => {
                prop_assert!(
                    UNAUTHENTIC.contains(&rejection.reason()),
                    "{:?}: {value:?} refused only after authenticating: {rejection:?}",
                    self.format
                );
                Ok(())
            }
        }
    }

    /// Sent as the request's whole `Cookie` header: the request is anonymous, nothing is set.
    async fn assert_anonymous(&self, cookie_header: &str) -> Result<(), TestCaseError> {
        let Ok(value) = HeaderValue::from_str(cookie_header) else {
            return Ok(()); // no client can send it
        };
        let req = TestRequest::get()
            .uri("/maybe")
            .insert_header((header::COOKIE, value))
            .to_request();
        let res = test::call_service(&self.app, req).await;
        prop_assert_eq!(res.status(), StatusCode::OK);
        prop_assert!(session_cookie(&res).is_none(), "a cookie was set");
        let body = test::read_body(res).await;
        prop_assert_eq!(&body[..], b"null", "{:?}: {:?}", self.format, cookie_header);
        Ok(())
    }

    /// Header segments to swap in: every template under the current, the previous and an
    /// unrelated key (the current format's own current header among them; the caller skips it).
    fn swap_headers(&self) -> Vec<String> {
        let mut headers = Vec::new();
        for key_byte in [CURRENT, PREVIOUS, UNRELATED] {
            let kid = key(key_byte).kid().to_owned();
            for template in HEADER_TEMPLATES {
                headers.push(b64(template.replace("KID", &kid)));
            }
        }
        headers
    }
}

/// A System to drive the apps from plain (non-async) proptest closures, and one subject per format.
fn subjects() -> (SystemRunner, Vec<Subject>) {
    let system = System::new();
    let subjects = FORMATS
        .iter()
        .map(|&format| system.block_on(new_subject(format, CURRENT)))
        .collect();
    (system, subjects)
}

fn b64(s: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    if let Err(e) = runner(cases).run(&strategy, test) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------- strategies

fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::string::string_regex(&format!("[a-z0-9_.@-]{{1,{max}}}")).unwrap(),
        1 => prop::collection::vec(any::<char>(), 1..=max).prop_map(String::from_iter),
    ]
}

/// Small JSON values (integers only: floats need not survive a text round trip bit for bit).
fn json_value() -> impl Strategy<Value = Value> {
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
fn spec() -> impl Strategy<Value = Spec> {
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

/// Ways to change a valid cookie. Positions are [`Index`]es, scaled to whatever they apply to.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit of one byte (a byte above 0x7f becomes U+FFFD: still a change).
    BitFlip {
        at: Index,
        bit: u8,
    },
    /// Keep a proper prefix.
    Truncate {
        keep: Index,
    },
    /// Drop a non-empty prefix.
    DropFront {
        drop: Index,
    },
    /// Insert a non-empty string anywhere, the end included.
    Insert {
        at: Index,
        extra: String,
    },
    /// Put the segments in another order (indices into a shuffled 0..5, filtered to the count).
    Reorder {
        order: Vec<usize>,
    },
    /// Repeat or remove one segment.
    Duplicate {
        segment: Index,
    },
    Remove {
        segment: Index,
    },
    /// Replace the header with another key's or another format's.
    KidSwap {
        header: Index,
    },
    /// Replace one segment with random base64url of the same or another length.
    Replace {
        segment: Index,
        with: String,
    },
    /// Re-encode one segment's bytes differently in base64.
    Base64 {
        segment: Index,
        variant: B64,
    },
    /// Re-serialize a JSON segment (the header; the payload of a JWS) differently.
    Json {
        segment: Index,
        style: JsonStyle,
    },
    /// Transport-level wrappers a careless proxy might add.
    Wrap {
        wrapper: Wrapper,
    },
}

#[derive(Debug, Clone, Copy)]
enum B64 {
    /// Append one or two `=`.
    Padding(u8),
    /// `-` → `+`, `_` → `/` (standard alphabet).
    Standard,
    /// Same decoded bytes under a lax decoder: different unused low bits in the last character.
    TrailingBits(Index),
    /// One character as `%XX`.
    PercentEscape(Index),
}

#[derive(Debug, Clone, Copy)]
enum JsonStyle {
    Sorted,
    Pretty,
    TrailingSpace,
    ByteOrderMark,
    DuplicateAlgNone,
    ExtraField,
    EscapedAscii,
}

#[derive(Debug, Clone, Copy)]
enum Wrapper {
    Quotes,
    Spaces,
    Lowercase,
    Uppercase,
}

const B64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Pseudo-random bytes of a length in `len`, expanded from a seed: cheap at 8 KiB, where a `vec`
/// strategy would build a shrinkable tree per byte. Shrinks by length (and seed).
fn noise(len: RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
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
fn noise_over(
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

fn b64_string(len: RangeInclusive<usize>) -> impl Strategy<Value = String> {
    noise_over(B64_ALPHABET, len)
}

fn mutation() -> impl Strategy<Value = Mutation> {
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

// ---------------------------------------------------------------- mutations

impl Mutation {
    /// `cookie` changed; may equal `cookie` when the change does not apply (the caller skips).
    fn apply(&self, cookie: &str, swap_headers: &[String]) -> String {
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
fn json_of(segment: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn restyle(value: &Map<String, Value>, style: JsonStyle) -> String {
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

fn base64_variant(segment: &str, variant: B64) -> String {
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

// ---------------------------------------------------------------- properties

/// Cases per property in CI. Their sum is over 100,000.
const CI_CASES: Cases = Cases {
    round_trip: 3_000,
    mutations: 70_000,
    mutations_via_middleware: 3_000,
    random_input: 25_000,
    random_header: 3_000,
};

#[derive(Debug, Clone, Copy)]
struct Cases {
    round_trip: u32,
    mutations: u32,
    mutations_via_middleware: u32,
    random_input: u32,
    random_header: u32,
}

impl Cases {
    fn total(self) -> u32 {
        self.round_trip
            + self.mutations
            + self.mutations_via_middleware
            + self.random_input
            + self.random_header
    }

    /// `total` cases in the proportions of `self` (the rounding remainder goes to mutations).
    fn scaled_to(self, total: u32) -> Self {
        let scale = |n: u32| {
            let scaled = u64::from(n) * u64::from(total) / u64::from(self.total());
            u32::try_from(scaled).expect("at most `total`")
        };
        let mut scaled = Self {
            round_trip: scale(self.round_trip),
            mutations: 0,
            mutations_via_middleware: scale(self.mutations_via_middleware),
            random_input: scale(self.random_input),
            random_header: scale(self.random_header),
        };
        scaled.mutations = total - scaled.total();
        scaled
    }
}

/// Random claims come back exactly, through `inspect` and through the `AuthUser` extractor.
fn check_round_trip(cases: u32) {
    let (system, subjects) = subjects();
    run(cases, spec(), |spec| {
        for subject in &subjects {
            let cookie = system.block_on(subject.issue(&spec));
            let claims = subject.auth.inspect(&cookie).map_err(|r| {
                TestCaseError::fail(format!(
                    "{:?} refused its own cookie: {r:?}",
                    subject.format
                ))
            })?;
            let or_empty = |field: &str, empty: Value| claims.get(field).cloned().unwrap_or(empty);
            prop_assert_eq!(&claims["sub"], &json!(spec.id));
            prop_assert_eq!(or_empty("roles", json!([])), json!(spec.roles));
            prop_assert_eq!(or_empty("data", json!({})), json!(spec.data));
            prop_assert_eq!(or_empty("transient", json!(false)), json!(!spec.remember));
            prop_assert_eq!(&claims["iat"], &json!(T0));
            prop_assert_eq!(&claims["auth_time"], &json!(T0));
            let me = system.block_on(async {
                let req = TestRequest::get()
                    .uri("/me")
                    .cookie(actix_web::cookie::Cookie::new(COOKIE, cookie.clone()))
                    .to_request();
                test::call_and_read_body_json::<_, _, Value>(&subject.app, req).await
            });
            prop_assert_eq!(&me["id"], &json!(spec.id));
            prop_assert_eq!(&me["roles"], &json!(spec.roles));
        }
        Ok(())
    });
}

/// Valid cookies to mutate: 48 random logins per run (fresh claims each run; logging in once per
/// case would cost more than the mutation check itself), per subject, with its swap headers.
fn pool(system: &SystemRunner, subjects: &[Subject]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut rng_runner = runner(1);
    let specs: Vec<Spec> = (0..48)
        .map(|_| spec().new_tree(&mut rng_runner).expect("spec").current())
        .collect();
    subjects
        .iter()
        .map(|subject| {
            let cookies = specs
                .iter()
                .map(|spec| system.block_on(subject.issue(spec)))
                .collect();
            (cookies, subject.swap_headers())
        })
        .collect()
}

/// Every mutation of a valid cookie is refused, by `inspect` (or, `via_middleware`, by the
/// middleware: the request stays anonymous and no cookie is set).
fn check_mutations(cases: u32, via_middleware: bool) {
    let (system, subjects) = subjects();
    let pool = pool(&system, &subjects);
    run(cases, (any::<Index>(), mutation()), |(pick, mutation)| {
        for (subject, (cookies, swap_headers)) in subjects.iter().zip(&pool) {
            let cookie = &cookies[pick.index(cookies.len())];
            let mutated = mutation.apply(cookie, swap_headers);
            if mutated == *cookie {
                continue; // the mutation did not apply to this cookie
            }
            if via_middleware {
                // The HTTP layer unwraps and percent-decodes cookie values: a spelling that
                // arrives as the very same value is the same cookie, not a forgery.
                if same_after_transport(&mutated, cookie) {
                    continue;
                }
                system.block_on(subject.assert_anonymous(&format!("{COOKIE}={mutated}")))?;
            } else {
                subject.assert_refused(&mutated)?;
            }
        }
        Ok(())
    });
}

/// Whether `sent` reaches the verifier as `cookie`: actix-web reads cookies with
/// `Cookie::parse_encoded`, which trims whitespace, drops one pair of surrounding double quotes
/// (RFC 6265 allows them) and decodes percent-escapes.
fn same_after_transport(sent: &str, cookie: &str) -> bool {
    let sent = sent.trim();
    let unquoted = sent
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(sent)
        .trim();
    percent_decode_str(unquoted).decode_utf8_lossy() == cookie
}

/// Input shaped to reach every stage of the verifier, up to 8 KiB.
fn random_input(headers: Vec<String>) -> impl Strategy<Value = String> {
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

/// Random input never panics and is never accepted, by `inspect` (as a cookie value) or by the
/// middleware (as the whole `Cookie` header).
fn check_random_input(cases: u32, via_middleware: bool) {
    let (system, subjects) = subjects();
    let headers: Vec<String> = subjects.iter().flat_map(Subject::swap_headers).collect();
    run(cases, random_input(headers), |input| {
        for subject in &subjects {
            if via_middleware {
                system.block_on(subject.assert_anonymous(&input))?;
                let as_value = format!("{COOKIE}={input}");
                system.block_on(subject.assert_anonymous(&as_value))?;
            } else {
                subject.assert_refused(&input)?;
            }
        }
        Ok(())
    });
}

fn check_all(cases: Cases) {
    check_round_trip(cases.round_trip);
    check_mutations(cases.mutations, false);
    check_mutations(cases.mutations_via_middleware, true);
    check_random_input(cases.random_input, false);
    check_random_input(cases.random_header, true);
}

#[test]
fn ci_budget_is_over_100_000_cases() {
    assert!(CI_CASES.total() >= 100_000, "{}", CI_CASES.total());
}

#[test]
fn random_claims_round_trip() {
    check_round_trip(CI_CASES.round_trip);
}

#[test]
fn every_mutation_of_a_valid_cookie_is_refused() {
    check_mutations(CI_CASES.mutations, false);
}

#[test]
fn every_mutation_of_a_valid_cookie_leaves_the_request_anonymous() {
    check_mutations(CI_CASES.mutations_via_middleware, true);
}

#[test]
fn random_input_up_to_8_kib_never_panics_and_is_never_accepted() {
    check_random_input(CI_CASES.random_input, false);
}

#[test]
fn random_cookie_headers_leave_the_request_anonymous() {
    check_random_input(CI_CASES.random_header, true);
}

/// The long run: `PROPTEST_CASES` cases (default 1,000,000) over all properties.
#[test]
#[ignore = "long: PROPTEST_CASES=1000000 cargo test --release -p tests --test security_props -- --ignored"]
fn million_cases() {
    let total = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let cases = CI_CASES.scaled_to(total);
    eprintln!("running {cases:?} ({} cases)", cases.total());
    check_all(cases);
}

// ---------------------------------------------------------------- exhaustive checks

/// Specs of growing size: an empty-handed user, a typical one, one near the size limit.
fn fixed_specs() -> Vec<Spec> {
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

#[test]
fn every_single_bit_flip_of_a_valid_cookie_is_refused() {
    let (system, subjects) = subjects();
    let mut checked = 0;
    for subject in &subjects {
        for spec in fixed_specs() {
            let cookie = system.block_on(subject.issue(&spec));
            for at in 0..cookie.len() {
                for bit in 0..8 {
                    let mut flipped = cookie.clone().into_bytes();
                    flipped[at] ^= 1 << bit;
                    let flipped = String::from_utf8_lossy(&flipped);
                    subject
                        .assert_refused(&flipped)
                        .unwrap_or_else(|e| panic!("byte {at} bit {bit}: {e}"));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 8 * 1000 * subjects.len(), "{checked}");
}

#[test]
fn every_truncation_and_every_segment_order_is_refused() {
    let (system, subjects) = subjects();
    for subject in &subjects {
        let cookie = system.block_on(subject.issue(&fixed_specs()[1]));
        for keep in 0..cookie.len() {
            subject.assert_refused(&cookie[..keep]).unwrap();
            subject.assert_refused(&cookie[keep + 1..]).unwrap();
        }
        let segments: Vec<&str> = cookie.split('.').collect();
        for order in permutations(segments.len()) {
            let reordered: Vec<&str> = order.iter().map(|&i| segments[i]).collect();
            let reordered = reordered.join(".");
            if reordered != cookie {
                subject.assert_refused(&reordered).unwrap();
            }
        }
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}

/// The MAC (or GCM tag) is compared in constant time by construction (`verify_slice`, `subtle`);
/// whatever its length, a wrong one is refused as `bad_mac`, and the right length is no help.
#[test]
fn wrong_tags_of_every_length_are_refused_as_bad_mac() {
    let (system, subjects) = subjects();
    let mut rng = runner(1);
    for subject in &subjects {
        let cookie = system.block_on(subject.issue(&fixed_specs()[1]));
        let other = system.block_on(subject.issue(&fixed_specs()[0]));
        let (body, tag) = cookie.rsplit_once('.').unwrap();
        let right_len = URL_SAFE_NO_PAD.decode(tag).unwrap().len();
        let mut wrong_tags: Vec<Vec<u8>> = (0..=2 * right_len)
            .map(|len| {
                prop::collection::vec(any::<u8>(), len)
                    .new_tree(&mut rng)
                    .unwrap()
                    .current()
            })
            .collect();
        let right = URL_SAFE_NO_PAD.decode(tag).unwrap();
        for i in 0..right_len {
            let mut one_byte_off = right.clone();
            one_byte_off[i] ^= 0x80;
            wrong_tags.push(one_byte_off);
        }
        wrong_tags.push(right[..right_len - 1].to_vec());
        wrong_tags.push([&right[..], &[0]].concat());
        let (_, other_tag) = other.rsplit_once('.').unwrap();
        wrong_tags.push(URL_SAFE_NO_PAD.decode(other_tag).unwrap());
        for wrong in wrong_tags {
            let forged = format!("{body}.{}", b64(&wrong));
            let err = subject.auth.inspect(&forged).unwrap_err();
            assert_eq!(
                err.reason(),
                "bad_mac",
                "{:?}, {} tag bytes",
                subject.format,
                wrong.len()
            );
        }
    }
}

#[test]
fn kid_swaps_are_refused_with_the_expected_reason() {
    let (system, subjects) = subjects();
    for subject in &subjects {
        let cookie = system.block_on(subject.issue(&fixed_specs()[1]));
        let (own_header, rest) = cookie.split_once('.').unwrap();
        let configured_headers = [
            own_header.to_owned(),
            system.block_on(async {
                let previous = new_subject(subject.format, PREVIOUS).await;
                let cookie = previous.issue(&fixed_specs()[0]).await;
                cookie.split_once('.').unwrap().0.to_owned()
            }),
        ];
        for header in subject.swap_headers() {
            let swapped = format!("{header}.{rest}");
            if header == own_header {
                assert!(subject.auth.inspect(&swapped).is_ok());
                continue;
            }
            let want = if configured_headers.contains(&header) {
                "bad_mac"
            } else {
                "unknown_kid"
            };
            let err = subject.auth.inspect(&swapped).unwrap_err();
            assert_eq!(err.reason(), want, "{:?} {header}", subject.format);
        }
    }
}
