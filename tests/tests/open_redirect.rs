//! No redirect leaves the site: `safe_next` and `Guard::redirect` over two corpora
//! (`tests/corpus/hostile-next.txt`, `tests/corpus/safe-next.txt`), `safe_next` over random
//! strings, and the deny redirect (`/login?next=..`) over hostile request targets. The oracle is
//! an independent WHATWG URL parser (`url`): whatever `safe_next` keeps must resolve, as written
//! and after one more percent-decoding, to the origin it was resolved against.

use std::{borrow::Cow, path::Path, time::Duration};

use actix_web::{
    http::{header, StatusCode},
    web, HttpResponse,
};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use proptest::prelude::*;
use session_core::{safe_next, AuthUser, Guard, Require, Rule, MAX_NEXT_LEN};
use tests::{auth, call, clock, get, login, props::runner, routes, test_app};
use url::Url;

/// Where the oracle resolves redirect targets from: a page deep inside the site.
const BASE: &str = "https://good.example/app/login?x=1";

/// Reads a corpus file: one value per line, `#` comments and blank lines skipped, escapes decoded.
fn corpus(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(unescape)
        .collect()
}

/// `\\`, `\t`, `\n`, `\r` and `\u{HEX}`; anything else after a backslash is a corpus typo.
fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let hex = rest.strip_prefix('{').expect("\\u{HEX}");
                let code = u32::from_str_radix(hex, 16).expect("hex code point");
                out.push(char::from_u32(code).expect("a valid code point"));
            }
            other => panic!("unknown escape \\{other:?} in corpus line {line:?}"),
        }
    }
    out
}

/// The value as a browser would follow it: `Some(host)` if it leaves `good.example` (or cannot
/// be resolved at all), `None` if it stays.
fn leaves_site(target: &str) -> Option<String> {
    let base = Url::parse(BASE).expect("base URL");
    match base.join(target) {
        Ok(url) if url.origin() == base.origin() => None,
        Ok(url) => Some(url.origin().ascii_serialization()),
        Err(e) => Some(format!("unresolvable: {e}")),
    }
}

/// The oracle for a kept value: same origin as written and after one more decoding.
fn assert_stays_on_site(kept: &str) {
    assert_eq!(leaves_site(kept), None, "kept {kept:?} leaves the site");
    let decoded = percent_decode_str(kept).decode_utf8_lossy();
    assert_eq!(
        leaves_site(&decoded),
        None,
        "kept {kept:?} leaves the site once decoded to {decoded:?}"
    );
}

#[test]
fn corpora_are_big_enough_and_decode() {
    let hostile = corpus("hostile-next.txt");
    assert!(hostile.len() >= 60, "{} hostile values", hostile.len());
    assert!(hostile.iter().any(|v| v.contains('\t')), "escapes decode");
    assert!(hostile.iter().any(|v| v.contains('\u{2215}')));
    assert!(corpus("safe-next.txt").len() >= 30);
}

#[test]
fn every_hostile_next_is_refused() {
    let passed: Vec<String> = corpus("hostile-next.txt")
        .into_iter()
        .filter(|value| safe_next(value).is_some())
        .collect();
    assert!(passed.is_empty(), "hostile values kept: {passed:#?}");
}

#[test]
fn every_safe_next_is_kept_unchanged_and_stays_on_site() {
    for value in corpus("safe-next.txt") {
        assert_eq!(safe_next(&value), Some(value.as_str()), "{value:?}");
        assert_stays_on_site(&value);
    }
}

/// `Guard::redirect` targets follow the rule of `safe_next` (one implementation): every hostile
/// value is refused when the guard is built, every safe one accepted.
#[test]
fn guard_redirects_take_only_what_safe_next_keeps() {
    let build = |to: &str| {
        Guard::require(Rule::authenticated())
            .redirect(to.to_owned())
            .build()
    };
    for value in corpus("hostile-next.txt") {
        assert!(
            build(&value).is_err(),
            "hostile redirect accepted: {value:?}"
        );
    }
    for value in corpus("safe-next.txt") {
        assert!(build(&value).is_ok(), "safe redirect refused: {value:?}");
    }
}

#[test]
fn over_long_values_are_refused_at_the_limit() {
    for value in corpus("safe-next.txt") {
        let at_limit = format!("{value}{}", "a".repeat(MAX_NEXT_LEN - value.len()));
        assert!(
            safe_next(&at_limit).is_some(),
            "{MAX_NEXT_LEN} bytes is kept"
        );
        assert_eq!(
            safe_next(&format!("{at_limit}a")),
            None,
            "{value:?} + padding"
        );
    }
    assert_eq!(safe_next(&"/".repeat(100_000)), None);
}

/// Strings built from the characters that matter for redirects: slashes and their look-alikes,
/// backslashes, percent escapes, scheme and authority punctuation, controls and whitespace.
fn redirect_ish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => Just("/".to_owned()),
        2 => Just("\\".to_owned()),
        2 => prop::sample::select(vec![
            "%2F", "%2f", "%5C", "%5c", "%09", "%0A", "%0D", "%00", "%25", "%2E", "%3A", "%40",
            "%E2%88%95", "%EF%BC%8F", "%C0%AF", "%20",
        ])
        .prop_map(str::to_owned),
        2 => prop::sample::select(vec![
            ":", "@", "?", "#", ".", "..", "http", "https:", "javascript:", "evil.com", " ",
            "\t", "\n", "\r", "\u{0}", "\u{2215}", "\u{FF0F}", "\u{2044}", "\u{3031}", "\u{FEFF}",
        ])
        .prop_map(str::to_owned),
        3 => "[a-z0-9=&_~-]{1,4}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// Cases for the random `safe_next` property (part of the CI budget of `security_props.rs`).
const REDIRECT_CASES: u32 = 20_000;

#[test]
fn random_strings_kept_by_safe_next_never_leave_the_site() {
    runner(REDIRECT_CASES)
        .run(&redirect_ish(), |value| {
            if let Some(kept) = safe_next(&value) {
                prop_assert_eq!(kept, value.as_str());
                prop_assert!(kept.starts_with('/'));
                prop_assert_eq!(leaves_site(kept), None);
                let decoded = percent_decode_str(kept).decode_utf8_lossy();
                prop_assert_eq!(leaves_site(&decoded), None, "decoded {:?}", decoded);
            }
            Ok(())
        })
        .unwrap();
}

/// Bytes a browser would percent-encode in a request target.
const NOT_IN_TARGET: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');

/// The hostile value as the path and query of a request, the way a client would send it.
fn as_request_target(value: &str) -> Option<Cow<'_, str>> {
    let target: Cow<'_, str> = utf8_percent_encode(value, NOT_IN_TARGET).into();
    let uri = target.parse::<actix_web::http::Uri>().ok()?;
    (uri.scheme().is_none() && uri.path().starts_with('/')).then_some(target)
}

/// The `next` parameter of a login `Location`, decoded once, as the login page would read it.
fn next_param(location: &str) -> Option<String> {
    let url = Url::parse(BASE).unwrap().join(location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
}

#[actix_web::test]
async fn deny_redirects_never_carry_a_hostile_next() {
    let c = clock();
    let app = test_app(auth(&c), |cfg| {
        routes(cfg);
        cfg.service(
            web::scope("/fresh")
                .wrap(Require::rule(Rule::fresh(60)))
                .default_service(web::to(HttpResponse::Ok)),
        )
        .default_service(web::to(|_: AuthUser| HttpResponse::Ok()));
    })
    .await;
    let stale = login(&app, "/login?id=alice").await;
    c.advance(Duration::from_secs(3600));
    let mut checked = 0;
    for value in corpus("hostile-next.txt") {
        let Some(target) = as_request_target(&value) else {
            continue;
        };
        let fresh_target = format!("/fresh{target}");
        let requests = [get(&target), get(&fresh_target).cookie(stale.clone())];
        for req in requests {
            let res = call(&app, req.insert_header((header::ACCEPT, "text/html"))).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{value:?}");
            let location = res
                .headers()
                .get(header::LOCATION)
                .unwrap()
                .to_str()
                .unwrap();
            assert!(location.starts_with("/login"), "{location}");
            assert_eq!(leaves_site(location), None, "{location}");
            if let Some(next) = next_param(location) {
                assert_eq!(safe_next(&next), Some(next.as_str()), "{location}");
                assert_stays_on_site(&next);
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 60,
        "only {checked} hostile targets were sendable"
    );
}
