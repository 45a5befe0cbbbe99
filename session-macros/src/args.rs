//! Parsing of the attribute arguments: `#[login_required(redirect = "/signin")]`,
//! `#[require_role(Role::Admin, status = 404)]`, `#[authorize(any(..), fresh = 600)]`, ...
//!
//! Syntax only (names, literal types, duplicates); the values are checked in `validate`.

use proc_macro2::{Ident, Span, TokenStream};
use syn::{
    ext::IdentExt, parse::ParseStream, Error, Expr, ExprLit, Lit, LitInt, LitStr, Result, Token,
};

use crate::rule::{self, Role, RuleExpr, KEYWORDS};

/// Which attribute is being expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    LoginRequired,
    SkipIfAuthenticated,
    RequireRole,
    RequirePermission,
    Authorize,
    /// `#[public]`: no guard, deliberately (see `coverage`).
    Public,
}

impl Kind {
    /// Every attribute, for spotting siblings on the same function.
    pub(crate) const ALL: [Kind; 6] = [
        Kind::LoginRequired,
        Kind::SkipIfAuthenticated,
        Kind::RequireRole,
        Kind::RequirePermission,
        Kind::Authorize,
        Kind::Public,
    ];

    /// The attribute's name, as written by users.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::LoginRequired => "login_required",
            Kind::SkipIfAuthenticated => "skip_if_authenticated",
            Kind::RequireRole => "require_role",
            Kind::RequirePermission => "require_permission",
            Kind::Authorize => "authorize",
            Kind::Public => "public",
        }
    }

    /// The `key = value` options the attribute accepts.
    fn options(self) -> &'static [&'static str] {
        match self {
            Kind::LoginRequired | Kind::RequireRole | Kind::RequirePermission => {
                &["redirect", "status"]
            }
            Kind::SkipIfAuthenticated => &["redirect"],
            Kind::Authorize => &["fresh", "redirect", "status"],
            Kind::Public => &[],
        }
    }
}

/// The parsed arguments of one attribute.
pub(crate) struct Args {
    pub(crate) kind: Kind,
    /// The role of `require_role` or the rule of `authorize`; `None` for the other two.
    pub(crate) rule: Option<RuleExpr>,
    pub(crate) redirect: Option<LitStr>,
    pub(crate) status: Option<LitInt>,
    pub(crate) fresh: Option<LitInt>,
}

impl Args {
    /// Parses `tokens` (what is inside the attribute's parentheses) for `kind`.
    pub(crate) fn parse(kind: Kind, tokens: TokenStream) -> Result<Self> {
        syn::parse::Parser::parse2(|input: ParseStream| Self::parse_stream(kind, input), tokens)
    }

    fn parse_stream(kind: Kind, input: ParseStream) -> Result<Self> {
        let mut args = Args {
            kind,
            rule: None,
            redirect: None,
            status: None,
            fresh: None,
        };
        if kind == Kind::RequireRole {
            args.rule = Some(positional_role(input)?);
            comma_unless_end(input)?;
        }
        if kind == Kind::RequirePermission {
            args.rule = Some(positional_permission(input)?);
            comma_unless_end(input)?;
        }
        while !input.is_empty() {
            let keyword = rule::keyword(input, &expected(kind))?;
            if kind == Kind::Authorize && !kind.options().iter().any(|o| keyword == o) {
                args.set_rule(keyword, input)?;
            } else {
                args.set_option(keyword, input)?;
            }
            comma_unless_end(input)?;
        }
        if kind == Kind::Authorize && args.rule.is_none() {
            return Err(Error::new(
                Span::call_site(),
                "`#[authorize]` needs a rule, such as `#[authorize(role = \"admin\")]` or \
                 `#[authorize(authenticated, fresh = 600)]`",
            ));
        }
        Ok(args)
    }

    /// The top-level rule of `#[authorize]`: exactly one.
    fn set_rule(&mut self, keyword: Ident, input: ParseStream) -> Result<()> {
        let rule = RuleExpr::parse_after(keyword, input, |keyword| {
            Error::new(
                keyword.span(),
                format!(
                    "unknown argument `{keyword}`; expected a rule ({KEYWORDS}) or an option \
                     (`fresh`, `redirect` or `status`)"
                ),
            )
        })?;
        if self.rule.is_some() {
            return Err(Error::new(
                rule.span(),
                "`#[authorize]` takes one rule; combine several with `all(..)` or `any(..)`",
            ));
        }
        self.rule = Some(rule);
        Ok(())
    }

    /// One `key = value` option.
    fn set_option(&mut self, keyword: Ident, input: ParseStream) -> Result<()> {
        let kind = self.kind;
        if !kind.options().iter().any(|o| keyword == o) {
            return Err(unknown_option(kind, &keyword));
        }
        let duplicate = || Error::new(keyword.span(), format!("duplicate argument `{keyword}`"));
        match keyword.to_string().as_str() {
            "redirect" => {
                let value = rule::value_of(&keyword, input, "redirect = \"/login\"")?;
                let lit = string_literal(
                    value,
                    "`redirect` expects a string literal path, such as \"/login\"",
                )?;
                set_once(&mut self.redirect, lit, duplicate)
            }
            "status" => {
                let value = rule::value_of(&keyword, input, "status = 401")?;
                let lit = int_literal(
                    value,
                    "`status` expects an integer HTTP status code, such as 401",
                )?;
                set_once(&mut self.status, lit, duplicate)
            }
            // `fresh`, the only other option.
            _ => {
                let value = rule::value_of(&keyword, input, "fresh = 600")?;
                let lit = int_literal(
                    value,
                    "`fresh` expects an integer number of seconds, such as 600",
                )?;
                set_once(&mut self.fresh, lit, duplicate)
            }
        }
    }
}

/// The role that `#[require_role(..)]` starts with, as a `role = ..` rule.
fn positional_role(input: ParseStream) -> Result<RuleExpr> {
    if input.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "`#[require_role]` needs a role: `#[require_role(\"admin\")]` or \
             `#[require_role(Role::Admin)]`",
        ));
    }
    let value: Expr = input.parse()?;
    let keyword = Ident::new("role", Span::call_site());
    let role = Role::from_expr(value)?;
    if input.peek(Token![,]) {
        let after = input.fork();
        after.parse::<Token![,]>()?;
        let option_follows = after.peek(Ident::peek_any) && after.peek2(Token![=]);
        if !after.is_empty() && !option_follows {
            return Err(after.error(
                "`#[require_role]` takes one role; for several use \
                 `#[authorize(any(role = \"a\", role = \"b\"))]`",
            ));
        }
    }
    Ok(RuleExpr::Role(keyword, role))
}

/// The permission that `#[require_permission(..)]` starts with, as a `permission = ..` rule.
fn positional_permission(input: ParseStream) -> Result<RuleExpr> {
    if input.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "`#[require_permission]` needs a permission: `#[require_permission(\"notes:edit\")]` \
             or `#[require_permission(Perm::NotesEdit)]`",
        ));
    }
    let value: Expr = input.parse()?;
    let keyword = Ident::new("permission", Span::call_site());
    let permission = Role::permission_from_expr(value)?;
    if input.peek(Token![,]) {
        let after = input.fork();
        after.parse::<Token![,]>()?;
        let option_follows = after.peek(Ident::peek_any) && after.peek2(Token![=]);
        if !after.is_empty() && !option_follows {
            return Err(after.error(
                "`#[require_permission]` takes one permission; for several use \
                 `#[authorize(all(permission = \"a\", permission = \"b\"))]`",
            ));
        }
    }
    Ok(RuleExpr::Permission(keyword, permission))
}

fn expected(kind: Kind) -> String {
    match kind {
        Kind::Authorize => {
            format!("a rule ({KEYWORDS}) or an option (`fresh`, `redirect` or `status`)")
        }
        _ => format!("an argument: {}", list(kind.options())),
    }
}

fn unknown_option(kind: Kind, keyword: &Ident) -> Error {
    let hint = match keyword.to_string().as_str() {
        "fresh" => " (`fresh` belongs to `#[authorize(authenticated, fresh = 600)]`)",
        "role" => " (for roles use `#[require_role(..)]` or `#[authorize(role = ..)]`)",
        _ => "",
    };
    Error::new(
        keyword.span(),
        format!(
            "unknown argument `{keyword}` for `#[{}]`; expected {}{hint}",
            kind.name(),
            list(kind.options())
        ),
    )
}

/// "`a`", "`a` or `b`", "`a`, `b` or `c`".
fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn comma_unless_end(input: ParseStream) -> Result<()> {
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

fn set_once<T>(slot: &mut Option<T>, value: T, duplicate: impl FnOnce() -> Error) -> Result<()> {
    if slot.is_some() {
        return Err(duplicate());
    }
    *slot = Some(value);
    Ok(())
}

fn string_literal(value: Expr, message: &str) -> Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(Error::new_spanned(other, message)),
    }
}

fn int_literal(value: Expr, message: &str) -> Result<LitInt> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => Ok(lit),
        other => Err(Error::new_spanned(other, message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: Kind, text: &str) -> Result<Args> {
        Args::parse(kind, text.parse().expect("tokens"))
    }

    #[test]
    fn accepted_arguments() {
        let cases = [
            (Kind::LoginRequired, ""),
            (Kind::LoginRequired, "redirect = \"/signin\""),
            (Kind::LoginRequired, "status = 401,"),
            (Kind::LoginRequired, "redirect = \"/signin\", status = 307"),
            (Kind::SkipIfAuthenticated, "redirect = \"/home\""),
            (Kind::RequireRole, "\"admin\""),
            (Kind::RequireRole, "Role::Admin, status = 404"),
            (Kind::Authorize, "authenticated"),
            (
                Kind::Authorize,
                "fresh = 600, any(role = \"a\", role = \"b\"), redirect = \"/r\"",
            ),
        ];
        for (kind, text) in cases {
            if let Err(e) = parse(kind, text) {
                panic!("{kind:?}({text}): {e}");
            }
        }
    }

    #[test]
    fn values_are_kept() {
        let args = parse(Kind::Authorize, "role = \"a\", fresh = 600, status = 403").unwrap();
        assert!(matches!(args.rule, Some(RuleExpr::Role(..))));
        assert_eq!(args.fresh.unwrap().base10_digits(), "600");
        assert_eq!(args.status.unwrap().base10_digits(), "403");
        assert!(args.redirect.is_none());
    }

    #[test]
    fn rejected_arguments() {
        let cases = [
            (Kind::LoginRequired, "redirect_to = \"/x\"", "unknown argument `redirect_to` for `#[login_required]`; expected `redirect` or `status`"),
            (Kind::LoginRequired, "fresh = 60", "`fresh` belongs to `#[authorize"),
            (Kind::SkipIfAuthenticated, "status = 302", "expected `redirect`"),
            (Kind::LoginRequired, "redirect = \"/a\", redirect = \"/b\"", "duplicate argument `redirect`"),
            (Kind::LoginRequired, "redirect = 5", "`redirect` expects a string literal"),
            (Kind::LoginRequired, "status = \"401\"", "`status` expects an integer"),
            (Kind::Authorize, "authenticated, fresh = \"x\"", "`fresh` expects an integer"),
            (Kind::Authorize, "authenticated, fresh = -1", "`fresh` expects an integer"),
            (Kind::LoginRequired, "\"/login\"", "expected an argument: `redirect` or `status`"),
            (Kind::LoginRequired, "redirect", "`redirect` expects a value"),
            (Kind::LoginRequired, "status = 401 redirect = \"/x\"", "expected `,`"),
            (Kind::RequireRole, "", "`#[require_role]` needs a role"),
            (Kind::RequireRole, "\"a\", \"b\"", "takes one role"),
            (Kind::RequireRole, "Role::A, Role::B", "takes one role"),
            (Kind::RequireRole, "status = 404", "expected a role"),
            (Kind::RequireRole, "admin", "write `\"admin\"`, or a role enum variant"),
            (Kind::Authorize, "role = admin", "write `\"admin\"`, or a role enum variant"),
            (Kind::Authorize, "", "`#[authorize]` needs a rule"),
            (Kind::Authorize, "fresh = 60", "`#[authorize]` needs a rule"),
            (Kind::Authorize, "role = \"a\", role = \"b\"", "takes one rule"),
            (Kind::Authorize, "roles = \"a\"", "unknown argument `roles`; expected a rule"),
        ];
        for (kind, text, want) in cases {
            let err = parse(kind, text)
                .err()
                .unwrap_or_else(|| panic!("{kind:?}({text}) parsed"));
            assert!(err.to_string().contains(want), "{kind:?}({text}): {err}");
        }
    }

    #[test]
    fn option_lists_read_naturally() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b"]), "`a` or `b`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
