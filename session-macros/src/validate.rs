//! Checks that need more than syntax: what the attribute is on, what it is stacked with, and the
//! values of its arguments. Every error is spanned on the offending token.

use proc_macro2::Span;
use syn::{spanned::Spanned, Error, FnArg, Item, ItemFn, LitInt, LitStr, Result};

use crate::{
    args::{Args, Kind},
    rule::{Role, RuleExpr},
};

/// The handler the attribute is on: an `async fn` without a receiver.
pub(crate) fn handler(kind: Kind, item: Item) -> Result<ItemFn> {
    let item = match item {
        Item::Fn(item) => item,
        other => {
            return Err(Error::new(
                item_keyword_span(&other),
                format!(
                    "`#[{}]` can only be applied to an `async fn` handler",
                    kind.name()
                ),
            ))
        }
    };
    let mut errors = Errors::default();
    if item.sig.asyncness.is_none() {
        errors.push(Error::new(
            item.sig.fn_token.span,
            format!(
                "`#[{}]` can only be applied to an `async fn` handler; add `async`",
                kind.name()
            ),
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = item.sig.inputs.first() {
        errors.push(Error::new_spanned(
            receiver,
            format!(
                "`#[{}]` cannot guard a method taking `self`; actix handlers are free functions",
                kind.name()
            ),
        ));
    }
    errors.push_all(item.attrs.iter().filter_map(|attr| {
        let other = attr.path().segments.last()?;
        let other = Kind::ALL.into_iter().find(|k| other.ident == k.name())?;
        contradicts(kind, other).then(|| {
            Error::new_spanned(
                attr,
                format!(
                    "`#[{}]` cannot be combined with `#[{}]`: one admits only signed-in users, \
                     the other only anonymous ones",
                    kind.name(),
                    other.name()
                ),
            )
        })
    }));
    errors.finish().map(|()| item)
}

/// Whether no request could pass both attributes.
fn contradicts(a: Kind, b: Kind) -> bool {
    (a == Kind::SkipIfAuthenticated) != (b == Kind::SkipIfAuthenticated)
}

/// The arguments' values.
pub(crate) fn args(args: &Args) -> Result<()> {
    let mut errors = Errors::default();
    if let Some(redirect) = &args.redirect {
        errors.push_result(redirect_path(redirect));
    }
    if let Some(status) = &args.status {
        errors.push_result(status_code(status, args.redirect.is_some()));
    }
    if let Some(fresh) = &args.fresh {
        errors.push_result(fresh_secs(fresh));
    }
    if let Some(rule) = &args.rule {
        rule_values(rule, &mut errors);
    }
    errors.finish()
}

/// `redirect` is a same-origin path, by the test `session_core::safe_next` applies at run time
/// (keep the two in sync), so a redirect the runtime would refuse never compiles.
fn redirect_path(lit: &LitStr) -> Result<()> {
    match redirect_problem(lit.value().as_bytes()) {
        None => Ok(()),
        Some(problem) => Err(Error::new(
            lit.span(),
            format!("`redirect` {problem}, such as \"/login\""),
        )),
    }
}

/// Longest redirect accepted (`session_core::redirect::MAX_NEXT_LEN`).
const MAX_REDIRECT_LEN: usize = 2048;

fn redirect_problem(path: &[u8]) -> Option<&'static str> {
    let problem = match path {
        [] => "must not be empty; use a path",
        _ if path.len() > MAX_REDIRECT_LEN => "must be at most 2048 bytes; use a shorter path",
        [b'/', b'/' | b'\\', ..] => "must not start with `//` or `/\\` (another host); use a path",
        [b'/', ..] if path.contains(&b'\\') => "must not contain backslashes; use a path",
        [b'/', ..] if !path.iter().all(u8::is_ascii_graphic) => {
            "must contain only visible ASCII characters (percent-encode spaces and others); use a path"
        }
        [b'/', ..] => {
            // Decoded once more by a proxy or browser, it must still be a same-origin path, with no
            // non-ASCII right after the `/` (a look-alike slash such as U+FF0F, or an overlong "/").
            let decoded = percent_decode(path);
            if matches!(decoded.as_slice(), [b'/', b'/' | b'\\' | 0x80.., ..])
                || decoded.iter().any(u8::is_ascii_control)
            {
                "must stay a same-origin path after percent-decoding"
            } else {
                return None;
            }
        }
        _ => "must be a same-origin path starting with `/`",
    };
    Some(problem)
}

/// Percent-decodes `%XX` sequences, leaving malformed ones as they are.
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes
            .get(i + 1..i + 3)
            .and_then(|p| Some(hex(p[0])? * 16 + hex(p[1])?));
        match (bytes[i], pair) {
            (b'%', Some(byte)) => {
                out.push(byte as u8);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// `status` is an error status, or a redirect status when combined with `redirect`.
fn status_code(lit: &LitInt, with_redirect: bool) -> Result<()> {
    let code = lit.base10_parse::<u16>().ok();
    let ok = match with_redirect {
        true => matches!(code, Some(301 | 302 | 303 | 307 | 308)),
        false => matches!(code, Some(400..=599)),
    };
    if ok {
        return Ok(());
    }
    let message = match with_redirect {
        true => "with `redirect`, `status` must be a redirect status: 301, 302, 303, 307 or 308",
        false => {
            "`status` must be an error status in 400..=599 (or, with `redirect`, a redirect status)"
        }
    };
    Err(Error::new(lit.span(), message))
}

fn fresh_secs(lit: &LitInt) -> Result<()> {
    match lit.base10_parse::<u64>() {
        Ok(0) => Err(Error::new(lit.span(), "`fresh` must be at least 1 second")),
        Ok(_) => Ok(()),
        Err(_) => Err(Error::new(
            lit.span(),
            "`fresh` is too large for a number of seconds (u64)",
        )),
    }
}

/// Role names in the tree are non-empty and untrimmed whitespace-free.
fn rule_values(rule: &RuleExpr, errors: &mut Errors) {
    match rule {
        RuleExpr::Role(_, Role::Name(name)) => {
            let value = name.value();
            if value.trim().is_empty() {
                errors.push(Error::new(name.span(), "role name must not be empty"));
            } else if value.trim() != value {
                errors.push(Error::new(
                    name.span(),
                    "role name must not start or end with whitespace",
                ));
            }
        }
        RuleExpr::Any(_, rules) | RuleExpr::All(_, rules) => {
            rules.iter().for_each(|rule| rule_values(rule, errors));
        }
        RuleExpr::Not(_, rule) => rule_values(rule, errors),
        RuleExpr::Authenticated(_) | RuleExpr::Role(_, Role::Typed(_)) | RuleExpr::Check(..) => {}
    }
}

/// The keyword of an item that is not a function (`struct`, `mod`, ...), for "not a fn" errors.
fn item_keyword_span(item: &Item) -> Span {
    match item {
        Item::Const(i) => i.const_token.span,
        Item::Enum(i) => i.enum_token.span,
        Item::ExternCrate(i) => i.extern_token.span,
        Item::ForeignMod(i) => i.abi.extern_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Macro(i) => i.mac.path.span(),
        Item::Mod(i) => i.mod_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Struct(i) => i.struct_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::TraitAlias(i) => i.trait_token.span,
        Item::Type(i) => i.type_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}

/// Collects every error instead of stopping at the first, so one build shows them all.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn push_result(&mut self, result: Result<()>) {
        if let Err(error) = result {
            self.push(error);
        }
    }

    fn push_all(&mut self, errors: impl IntoIterator<Item = Error>) {
        errors.into_iter().for_each(|e| self.push(e));
    }

    fn finish(self) -> Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_error(kind: Kind, text: &str) -> Option<String> {
        let parsed = Args::parse(kind, text.parse().expect("tokens")).expect("parses");
        args(&parsed).err().map(|e| e.to_string())
    }

    fn handler_error(kind: Kind, item: &str) -> Option<String> {
        let item: Item = syn::parse_str(item).expect("item");
        handler(kind, item).err().map(|e| e.to_string())
    }

    #[test]
    fn redirect_must_be_a_same_origin_path() {
        let cases = [
            ("/login", None),
            ("/a/b?next=%2Fx&y=1#top", None),
            ("", Some("must not be empty")),
            ("login", Some("starting with `/`")),
            ("https://evil.example", Some("starting with `/`")),
            ("//evil.example", Some("must not start with `//`")),
            ("/\\evil.example", Some("must not start with `//` or `/\\`")),
            ("/a\\b", Some("backslashes")),
            ("/a b", Some("visible ASCII")),
            ("/a\nb", Some("visible ASCII")),
            ("/caf\u{e9}", Some("visible ASCII")),
            ("/%2Fevil.example", Some("after percent-decoding")),
            ("/%5Cx", Some("after percent-decoding")),
            ("/%0A/evil.example", Some("after percent-decoding")),
            ("/a?q=%20%5C%C3%A9", None),
            ("/caf%C3%A9", None),
            ("/%EF%BC%8Fevil.example", Some("after percent-decoding")),
            ("/%C0%AFevil.example", Some("after percent-decoding")),
        ];
        for (path, want) in cases {
            let text = format!("redirect = {path:?}");
            let got = args_error(Kind::LoginRequired, &text);
            match (want, &got) {
                (None, None) => {}
                (Some(want), Some(got)) if got.contains(want) => {}
                _ => panic!("{path:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn overlong_redirects_are_refused() {
        let path = format!("/{}", "a".repeat(MAX_REDIRECT_LEN));
        let got = args_error(Kind::LoginRequired, &format!("redirect = {path:?}"));
        assert!(got.unwrap().contains("at most 2048 bytes"));
    }

    #[test]
    fn status_ranges() {
        let cases = [
            ("status = 401", true),
            ("status = 599", true),
            ("status = 400", true),
            ("status = 399", false),
            ("status = 600", false),
            ("status = 303", false),
            ("status = 70000", false),
            ("redirect = \"/x\", status = 307", true),
            ("redirect = \"/x\", status = 301", true),
            ("redirect = \"/x\", status = 304", false),
            ("redirect = \"/x\", status = 401", false),
        ];
        for (text, ok) in cases {
            assert_eq!(
                args_error(Kind::LoginRequired, text).is_none(),
                ok,
                "{text}"
            );
        }
    }

    #[test]
    fn value_errors() {
        let cases = [
            (
                Kind::Authorize,
                "authenticated, fresh = 0",
                "`fresh` must be at least 1 second",
            ),
            (
                Kind::Authorize,
                "authenticated, fresh = 99999999999999999999",
                "too large",
            ),
            (Kind::RequireRole, "\"\"", "role name must not be empty"),
            (
                Kind::Authorize,
                "any(role = \"a\", not(role = \" \"))",
                "role name must not be empty",
            ),
            (
                Kind::RequireRole,
                "\"admin \"",
                "must not start or end with whitespace",
            ),
        ];
        for (kind, text, want) in cases {
            let got = args_error(kind, text).unwrap_or_else(|| panic!("{text} accepted"));
            assert!(got.contains(want), "{text}: {got}");
        }
    }

    #[test]
    fn handler_shape() {
        let cases = [
            ("async fn ok() {}", None),
            ("pub(crate) async fn ok(x: u8) -> u8 { x }", None),
            (
                "fn sync() {}",
                Some("can only be applied to an `async fn` handler; add `async`"),
            ),
            (
                "struct NotFn;",
                Some("can only be applied to an `async fn` handler"),
            ),
            (
                "async fn method(&self) {}",
                Some("cannot guard a method taking `self`"),
            ),
        ];
        for (item, want) in cases {
            let got = handler_error(Kind::LoginRequired, item);
            match (want, &got) {
                (None, None) => {}
                (Some(want), Some(got)) if got.contains(want) => {}
                _ => panic!("{item}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn contradicting_attributes() {
        let skip_below = "#[session_core::skip_if_authenticated] async fn f() {}";
        let got = handler_error(Kind::LoginRequired, skip_below).expect("error");
        assert!(
            got.contains("`#[login_required]` cannot be combined with `#[skip_if_authenticated]`"),
            "{got}"
        );
        for other in [
            "login_required",
            "require_role(\"a\")",
            "authorize(authenticated)",
        ] {
            let item = format!("#[{other}] async fn f() {{}}");
            assert!(
                handler_error(Kind::SkipIfAuthenticated, &item).is_some(),
                "{other}"
            );
        }
        let compatible =
            "#[get(\"/\")] #[require_role(\"a\")] #[authorize(authenticated)] async fn f() {}";
        assert_eq!(handler_error(Kind::LoginRequired, compatible), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode(b"/a%2Fb%zz%4"), b"/a/b%zz%4");
    }
}
