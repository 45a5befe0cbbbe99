//! Property tests for the cookie codec, through the public API (`AuthSession::inspect` and the
//! middleware): random claims round-trip; every mutation of a valid cookie is refused before its
//! claims are trusted; random input of up to 8 KiB never panics and is never accepted.
//!
//! One matrix serves every cookie format: the signed JWS always, and the sealed JWE when the
//! `encrypted` feature of this crate is on (`cargo test -p tests --features encrypted`).
//!
//! CI runs [`CI_CASES`] cases per property (over 100,000 in all). The long run, a million cases
//! split in the same proportions (about 10 s in release, 3 min in debug, both formats), is
//! `PROPTEST_CASES=1000000 cargo test --release -p tests --features encrypted --test integration security_props::million_cases -- --ignored`.
//!
//! The inputs live in the support library: random claims and noise in `tests::props::strategies`,
//! the ways to change a cookie in `tests::props::mutation`. This file keeps the subjects (one app
//! per format) and the properties checked against them.

use actix_web::{
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    rt::{System, SystemRunner},
    test::{read_body, read_body_json},
    web, HttpResponse,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use proptest::{prelude::*, sample::Index, strategy::ValueTree, test_runner::TestCaseError};
use serde_json::{json, Value};
use session_core::{AuthSession, Login, Session, SessionError};
use tests::{
    call, clock, get, key, post,
    props::{
        b64,
        mutation::same_after_transport,
        permutations, run, runner,
        strategies::{fixed_specs, mutation, random_input, spec, Spec},
    },
    routes, session_cookie, session_value, test_app, TestApp, COOKIE, T0,
};

use crate::formats::{Format, FORMATS};

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
    let app = test_app(auth.clone(), |cfg| {
        routes(cfg);
        cfg.route("/spec-login", web::post().to(spec_login));
    })
    .await;
    Subject { format, auth, app }
}

impl Subject {
    /// A valid cookie value carrying `spec`, issued by the middleware.
    async fn issue(&self, spec: &Spec) -> String {
        let res = call(&self.app, post("/spec-login").set_json(spec)).await;
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
        let req = get("/maybe").insert_header((header::COOKIE, value));
        let res = call(&self.app, req).await;
        prop_assert_eq!(res.status(), StatusCode::OK);
        prop_assert!(session_cookie(&res).is_none(), "a cookie was set");
        let body = read_body(res).await;
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
            let me: Value = system.block_on(async {
                let req = get("/me").cookie(session_value(cookie.clone()));
                read_body_json(call(&subject.app, req).await).await
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
#[ignore = "long: PROPTEST_CASES=1000000 cargo test --release -p tests --test integration security_props::million_cases -- --ignored"]
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
