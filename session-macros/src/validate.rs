//! Checks that need more than syntax: what the attribute is on, what it is stacked with, and the
//! values of its arguments. Every error is spanned on the offending token.

use proc_macro2::Span;
use session_rules::{denial_status, same_origin_path, StatusProblem};
use syn::{spanned::Spanned, Error, FnArg, Item, ItemFn, LitInt, LitStr, Result};

use crate::{
    args::{Args, Kind},
    context,
    rule::{Role, RuleExpr},
    truth::{self, Meaning},
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
    if item.sig.receiver().is_none() && context::is_associated_fn(&item.sig.ident) == Some(true) {
        errors.push(Error::new_spanned(
            &item.sig.ident,
            format!(
                "`#[{}]` cannot guard an associated function: actix handlers are free functions; \
                 move `{}` out of the `impl` block (a free function may call the associated one)",
                kind.name(),
                item.sig.ident
            ),
        ));
    }
    errors.push_all(item.attrs.iter().filter_map(|attr| {
        let other = attr.path().segments.last()?;
        let other = Kind::ALL.into_iter().find(|k| other.ident == k.name())?;
        contradiction(kind, other).map(|why| {
            Error::new_spanned(
                attr,
                format!(
                    "`#[{}]` cannot be combined with `#[{}]`: {why}",
                    kind.name(),
                    other.name()
                ),
            )
        })
    }));
    errors.finish().map(|()| item)
}

/// Why two attributes cannot be on one handler, if they cannot: no request could pass both, or
/// one says the handler is open to everyone and the other guards it (or says so twice).
fn contradiction(a: Kind, b: Kind) -> Option<&'static str> {
    if a == Kind::Public || b == Kind::Public {
        return Some(
            "`#[public]` marks a handler as open to everyone, anonymous visitors included, \
             so it takes no guard; keep one of them",
        );
    }
    ((a == Kind::SkipIfAuthenticated) != (b == Kind::SkipIfAuthenticated))
        .then_some("one admits only signed-in users, the other only anonymous ones")
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
        errors.push_result(rule_meaning(rule));
    }
    errors.finish()
}

/// `redirect` is a same-origin path, by the rule `session_core::safe_next` and `Guard::redirect`
/// apply at run time (`session_rules::same_origin_path`, one implementation for both).
fn redirect_path(lit: &LitStr) -> Result<()> {
    same_origin_path(&lit.value()).map_err(|problem| {
        Error::new(
            lit.span(),
            format!("`redirect` {}, such as \"/login\"", problem.message()),
        )
    })
}

/// `status` is an error status, or a redirect status when combined with `redirect`: the rule
/// `Guard::status` applies at run time (`session_rules::denial_status`).
fn status_code(lit: &LitInt, with_redirect: bool) -> Result<()> {
    // A number beyond u16 is no status at all: as refused as 0.
    let status = lit.base10_parse::<u16>().unwrap_or(0);
    denial_status(status, with_redirect).map_err(|problem| {
        let message = match problem {
            StatusProblem::NotARedirectStatus => {
                format!("with `redirect`, `status` {}", problem.message())
            }
            _ => format!(
                "`status` {} (or, with `redirect`, a redirect status)",
                problem.message()
            ),
        };
        Error::new(lit.span(), message)
    })
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
        RuleExpr::Role(_, Role::Name(name)) | RuleExpr::Permission(_, Role::Name(name)) => {
            let what = match rule {
                RuleExpr::Role(..) => "role",
                _ => "permission",
            };
            let value = name.value();
            if value.trim().is_empty() {
                errors.push(Error::new(
                    name.span(),
                    format!("{what} name must not be empty"),
                ));
            } else if value.trim() != value {
                errors.push(Error::new(
                    name.span(),
                    format!("{what} name must not start or end with whitespace"),
                ));
            }
        }
        RuleExpr::Any(_, _, rules) | RuleExpr::All(_, _, rules) => {
            rules.iter().for_each(|rule| rule_values(rule, errors));
        }
        RuleExpr::Not(_, _, rule) => rule_values(rule, errors),
        RuleExpr::Authenticated(_)
        | RuleExpr::Role(_, Role::Typed(_))
        | RuleExpr::Permission(_, Role::Typed(_))
        | RuleExpr::Check(..)
        | RuleExpr::Policy(..) => {}
    }
}

/// The rule decides something: it is met by some signed-in users and not by others (as far as
/// its atoms tell; see `truth`). A rule no one can meet denies every request; one that everyone
/// meets although it names roles or checks almost always hides a mistake (`any` for `all`, a
/// misplaced `not`). `authenticated` alone is of course fine.
fn rule_meaning(rule: &RuleExpr) -> Result<()> {
    let (meaning, names) = truth::meaning(rule);
    let whatever = match (names.roles, names.checks) {
        (true, true) => "whatever roles a user has and whatever its checks answer",
        (true, false) => "whatever roles a user has",
        (false, true) => "whatever its checks answer",
        (false, false) => "for every signed-in user",
    };
    match meaning {
        Meaning::Never => Err(rule.error(format!(
            "this rule can never be met: it fails {whatever}, and anonymous users are refused \
             anyway, so every request would be denied"
        ))),
        Meaning::Always if names.roles || names.checks => Err(rule.error(format!(
            "this rule lets every signed-in user through although it names {}: it is met \
             {whatever}; write `authenticated` if that is what you mean",
            if names.roles { "roles" } else { "checks" },
        ))),
        Meaning::Always | Meaning::Depends | Meaning::Unknown => Ok(()),
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

    /// The rule itself is tested in `session-rules`; here, that its verdicts become messages.
    #[test]
    fn redirect_must_be_a_same_origin_path() {
        let cases = [
            ("/login", None),
            ("/a/b?next=%2Fx&y=1#top", None),
            (
                "",
                Some("`redirect` must not be empty; use a path, such as \"/login\""),
            ),
            (
                "https://evil.example",
                Some("must be a same-origin path starting with `/`"),
            ),
            ("//evil.example", Some("must not start with `//`")),
            ("/a\\b", Some("backslashes")),
            ("/a b", Some("visible ASCII")),
            ("/%2Fevil.example", Some("after percent-decoding")),
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
        let long = format!(
            "redirect = \"/{}\"",
            "a".repeat(session_rules::MAX_REDIRECT_LEN)
        );
        let got = args_error(Kind::LoginRequired, &long).expect("refused");
        assert!(got.contains("at most 2048 bytes"), "{got}");
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
    fn rules_that_cannot_mean_what_they_say() {
        const NEVER: &str = "this rule can never be met: it fails";
        const ALWAYS_ROLES: &str =
            "this rule lets every signed-in user through although it names roles: it is met";
        let cases = [
            ("authenticated", None),
            ("all(authenticated, not(not(authenticated)))", None),
            ("role = \"a\"", None),
            (
                "any(role = \"a\", all(role = \"b\", not(role = \"c\")))",
                None,
            ),
            ("all(role = \"a\", not(role = \"a\"))", Some(NEVER)),
            (
                "all(role = \"a\", not(role = \"a\")), fresh = 60",
                Some(NEVER),
            ),
            (
                "not(authenticated)",
                Some("it fails for every signed-in user"),
            ),
            ("any(role = \"a\", not(role = \"a\"))", Some(ALWAYS_ROLES)),
            ("any(role = \"a\", authenticated)", Some(ALWAYS_ROLES)),
            ("any(role = \"a\", not(check = f))", None),
            (
                "any(check = f, not(check = f))",
                Some("although it names checks: it is met whatever its checks answer"),
            ),
            (
                "all(role = \"a\", check = f, not(check = f))",
                Some("whatever roles a user has and whatever its checks answer"),
            ),
        ];
        for (text, want) in cases {
            let got = args_error(Kind::Authorize, text);
            match (want, &got) {
                (None, None) => {}
                (Some(want), Some(got)) if got.contains(want) => {}
                _ => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(args_error(Kind::RequireRole, "\"a\""), None);
        assert_eq!(args_error(Kind::LoginRequired, ""), None);
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
    fn public_takes_no_guard_in_either_order() {
        let guards = [
            Kind::LoginRequired,
            Kind::SkipIfAuthenticated,
            Kind::RequireRole,
            Kind::RequirePermission,
            Kind::Authorize,
            Kind::Public,
        ];
        for guard in guards {
            let guard_below = format!("#[{}] async fn f() {{}}", guard.name());
            let got = handler_error(Kind::Public, &guard_below).expect("public above");
            assert!(got.contains("`#[public]` marks a handler as open"), "{got}");
            let public_below = "#[session_core::public] async fn f() {}";
            let got = handler_error(guard, public_below).expect("public below");
            assert!(got.contains("cannot be combined with `#[public]`"), "{got}");
        }
        assert_eq!(
            handler_error(Kind::Public, "#[get(\"/\")] async fn f() {}"),
            None
        );
    }
}
