//! The rule grammar of `#[authorize(..)]` (and the role of `#[require_role(..)]`).
//!
//! ```text
//! rule := authenticated
//!       | role = "name" | role = path::to::Variant
//!       | permission = "name" | permission = path::to::Variant
//!       | any(rule, ..) | all(rule, ..)      at least one rule
//!       | not(rule)                          exactly one rule
//!       | check = path::to::function         fn(&AuthUser) -> bool, or async fn(AuthUser, HttpRequest) -> bool
//!       | policy = path::to::function        async fn over body-free extractors -> bool | Result<bool, E>
//! ```
//!
//! Only the shape is checked here; values (an empty role name, ...) are checked in `validate`,
//! what the rule means (can it be met at all?) in `truth`.

use std::fmt::Display;

use proc_macro2::{Ident, Punct, Spacing, Span};
use quote::ToTokens;
use syn::{
    ext::IdentExt,
    parenthesized,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
    token, Error, Expr, ExprPath, Lit, LitStr, Result, Token,
};

/// The rule keywords, for "expected ..." messages.
pub(crate) const KEYWORDS: &str =
    "`authenticated`, `role`, `permission`, `any`, `all`, `not`, `check` or `policy`";

/// One node of a rule tree, holding the user's tokens so errors and generated code keep their
/// spans.
pub(crate) enum RuleExpr {
    Authenticated(Ident),
    Role(Ident, Role),
    /// A permission: the same two forms as a role, the typed one implementing `PermissionName`.
    Permission(Ident, Role),
    Any(Ident, token::Paren, Vec<RuleExpr>),
    All(Ident, token::Paren, Vec<RuleExpr>),
    Not(Ident, token::Paren, Box<RuleExpr>),
    Check(Ident, ExprPath),
    /// A resource policy: an `async fn` whose parameters are body-free extractors.
    Policy(Ident, ExprPath),
}

/// A role: a string, or a path to a value whose type implements `RoleName`.
pub(crate) enum Role {
    Name(LitStr),
    Typed(ExprPath),
}

impl RuleExpr {
    /// Where the rule starts (its keyword), for errors about the rule as a whole.
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Authenticated(kw)
            | Self::Role(kw, _)
            | Self::Permission(kw, _)
            | Self::Any(kw, ..)
            | Self::All(kw, ..)
            | Self::Not(kw, ..)
            | Self::Check(kw, _)
            | Self::Policy(kw, _) => kw.span(),
        }
    }

    /// Where the rule ends: its closing parenthesis, or the last token of its value.
    fn end_span(&self) -> Span {
        let last = |tokens: &dyn ToTokens| {
            let last = tokens.to_token_stream().into_iter().last();
            last.map_or_else(|| self.span(), |token| token.span())
        };
        match self {
            Self::Authenticated(kw) => kw.span(),
            Self::Role(_, Role::Name(name)) | Self::Permission(_, Role::Name(name)) => name.span(),
            Self::Role(_, Role::Typed(path))
            | Self::Permission(_, Role::Typed(path))
            | Self::Check(_, path)
            | Self::Policy(_, path) => last(path),
            Self::Any(_, paren, _) | Self::All(_, paren, _) | Self::Not(_, paren, _) => {
                paren.span.close()
            }
        }
    }

    /// An error about the rule as a whole, spanning it from its keyword to its end.
    pub(crate) fn error(&self, message: impl Display) -> Error {
        let mut start = Punct::new('#', Spacing::Alone);
        start.set_span(self.span());
        let mut end = Punct::new('#', Spacing::Alone);
        end.set_span(self.end_span());
        Error::new_spanned(quote::quote!(#start #end), message)
    }

    /// Parses the rest of a rule whose keyword has been read. `unknown` builds the error for a
    /// keyword that is not a rule, so the top level can also list its options.
    pub(crate) fn parse_after(
        keyword: Ident,
        input: ParseStream,
        unknown: impl FnOnce(&Ident) -> Error,
    ) -> Result<Self> {
        match keyword.to_string().as_str() {
            "authenticated" => {
                if input.peek(Token![=]) || input.peek(token::Paren) {
                    return Err(Error::new(input.span(), "`authenticated` takes no value"));
                }
                Ok(Self::Authenticated(keyword))
            }
            "role" => {
                let value = value_of(&keyword, input, "role = \"admin\"")?;
                Ok(Self::Role(keyword, Role::from_expr(value)?))
            }
            "permission" => {
                let value = value_of(&keyword, input, "permission = \"notes:edit\"")?;
                Ok(Self::Permission(
                    keyword,
                    Role::permission_from_expr(value)?,
                ))
            }
            "check" => {
                let value = value_of(&keyword, input, "check = path::to::function")?;
                match value {
                    Expr::Path(path) => Ok(Self::Check(keyword, path)),
                    other => Err(Error::new_spanned(
                        other,
                        "`check` expects a path to a function `fn(&AuthUser) -> bool` or \
                         `async fn(AuthUser, HttpRequest) -> bool`, such as `check = auth::is_owner`",
                    )),
                }
            }
            "policy" => {
                let value = value_of(&keyword, input, "policy = path::to::function")?;
                match value {
                    Expr::Path(path) => Ok(Self::Policy(keyword, path)),
                    other => Err(Error::new_spanned(
                        other,
                        "`policy` expects a path to an `async fn` whose parameters are body-free \
                         extractors and which returns `bool` or `Result<bool, E>`, such as \
                         `policy = notes::can_edit_note`",
                    )),
                }
            }
            "any" | "all" => {
                let (paren, rules) = list_of(&keyword, input)?;
                if rules.is_empty() {
                    return Err(Error::new(
                        keyword.span(),
                        format!("`{keyword}()` needs at least one rule"),
                    ));
                }
                Ok(match keyword == "any" {
                    true => Self::Any(keyword, paren, rules),
                    false => Self::All(keyword, paren, rules),
                })
            }
            "not" => {
                let (paren, rules) = list_of(&keyword, input)?;
                let mut rules = rules.into_iter();
                match (rules.next(), rules.next()) {
                    (Some(rule), None) => Ok(Self::Not(keyword, paren, Box::new(rule))),
                    (None, _) => Err(Error::new(
                        keyword.span(),
                        "`not()` needs a rule: `not(role = \"suspended\")`",
                    )),
                    (Some(_), Some(extra)) => Err(Error::new(
                        extra.span(),
                        "`not` takes exactly one rule; wrap several in `any(..)` or `all(..)`",
                    )),
                }
            }
            _ => Err(unknown(&keyword)),
        }
    }
}

impl Parse for RuleExpr {
    /// A nested rule, where only rule keywords are allowed.
    fn parse(input: ParseStream) -> Result<Self> {
        let keyword = keyword(input, "a rule")?;
        Self::parse_after(keyword, input, |keyword| {
            Error::new(
                keyword.span(),
                format!("unknown rule `{keyword}`; expected {KEYWORDS}"),
            )
        })
    }
}

impl Role {
    /// A permission from the value after `permission =` or the argument of
    /// `#[require_permission(..)]`.
    pub(crate) fn permission_from_expr(value: Expr) -> Result<Self> {
        match value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(name),
                ..
            }) => Ok(Self::Name(name)),
            Expr::Path(path) => Ok(Self::Typed(path)),
            other => Err(Error::new_spanned(
                other,
                "expected a permission: a string such as \"notes:edit\", or a permission enum \
                 variant such as `Perm::NotesEdit` (a type implementing \
                 `session_core::PermissionName`)",
            )),
        }
    }

    /// A role from the value after `role =` or the argument of `#[require_role(..)]`.
    pub(crate) fn from_expr(value: Expr) -> Result<Self> {
        match value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(name),
                ..
            }) => Ok(Self::Name(name)),
            // A bare lowercase identifier (`admin`) is a role name missing its quotes, not a
            // typed role (variants and constants are capitalized): say so instead of letting
            // the expansion fail with "cannot find value `admin`".
            Expr::Path(path) if bare_lowercase(&path) => {
                let name = path.path.segments[0].ident.to_string();
                Err(Error::new_spanned(
                    path,
                    format!(
                        "a role is a string or a typed role path: write `\"{name}\"`, or a role \
                         enum variant such as `Role::Admin` (a type implementing \
                         `session_core::RoleName`)"
                    ),
                ))
            }
            Expr::Path(path) => Ok(Self::Typed(path)),
            other => Err(Error::new_spanned(
                other,
                "expected a role: a string such as \"admin\", or a role enum variant such as \
                 `Role::Admin` (a type implementing `session_core::RoleName`)",
            )),
        }
    }
}

/// `admin`: one segment, no leading `::`, starting with a lowercase letter.
fn bare_lowercase(path: &syn::ExprPath) -> bool {
    let path = &path.path;
    path.leading_colon.is_none()
        && path.segments.len() == 1
        && path.segments[0]
            .ident
            .to_string()
            .starts_with(|c: char| c.is_ascii_lowercase())
}

/// Reads an identifier (keywords included, so `type = ..` is reported as unknown, not as a
/// syntax error); `what` names the expected thing.
pub(crate) fn keyword(input: ParseStream, what: &str) -> Result<Ident> {
    if input.peek(Ident::peek_any) {
        input.call(Ident::parse_any)
    } else {
        Err(input.error(format!("expected {what}")))
    }
}

/// `= <expr>` after `keyword`; `example` shows the expected form.
pub(crate) fn value_of(keyword: &Ident, input: ParseStream, example: &str) -> Result<Expr> {
    if !input.peek(Token![=]) {
        return Err(Error::new(
            keyword.span(),
            format!("`{keyword}` expects a value: `{example}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    input.parse()
}

/// `(rule, ..)` after `any`, `all` or `not`.
fn list_of(keyword: &Ident, input: ParseStream) -> Result<(token::Paren, Vec<RuleExpr>)> {
    if !input.peek(token::Paren) {
        return Err(Error::new(
            keyword.span(),
            format!("`{keyword}` expects rules in parentheses: `{keyword}(role = \"admin\")`"),
        ));
    }
    let content;
    let paren = parenthesized!(content in input);
    let rules = Punctuated::<RuleExpr, Token![,]>::parse_terminated(&content)?;
    Ok((paren, rules.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuleExpr> {
        syn::parse_str(text)
    }

    /// The rule read back as text, to compare trees.
    fn show(rule: &RuleExpr) -> String {
        let list = |rules: &[RuleExpr]| rules.iter().map(show).collect::<Vec<_>>().join(", ");
        match rule {
            RuleExpr::Authenticated(_) => "authenticated".into(),
            RuleExpr::Role(_, Role::Name(name)) => format!("role={:?}", name.value()),
            RuleExpr::Role(_, Role::Typed(path)) => format!("role={}", quote::quote!(#path)),
            RuleExpr::Permission(_, Role::Name(name)) => format!("permission={:?}", name.value()),
            RuleExpr::Permission(_, Role::Typed(path)) => {
                format!("permission={}", quote::quote!(#path))
            }
            RuleExpr::Any(_, _, rules) => format!("any({})", list(rules)),
            RuleExpr::All(_, _, rules) => format!("all({})", list(rules)),
            RuleExpr::Not(_, _, rule) => format!("not({})", show(rule)),
            RuleExpr::Check(_, path) => format!("check={}", quote::quote!(#path)),
            RuleExpr::Policy(_, path) => format!("policy={}", quote::quote!(#path)),
        }
    }

    #[test]
    fn accepted_rules_parse_into_the_same_tree() {
        let cases = [
            ("authenticated", "authenticated"),
            ("role = \"admin\"", "role=\"admin\""),
            ("role = Role::Admin", "role=Role :: Admin"),
            ("permission = \"notes:edit\"", "permission=\"notes:edit\""),
            (
                "permission = Perm::NotesEdit",
                "permission=Perm :: NotesEdit",
            ),
            ("check = auth::is_owner", "check=auth :: is_owner"),
            ("policy = notes::can_edit", "policy=notes :: can_edit"),
            ("not(role = \"x\")", "not(role=\"x\")"),
            (
                "any(role = \"a\", all(role = \"b\", not(authenticated)),)",
                "any(role=\"a\", all(role=\"b\", not(authenticated)))",
            ),
        ];
        for (text, want) in cases {
            let rule = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(show(&rule), want, "{text}");
        }
    }

    #[test]
    fn malformed_rules_are_reported() {
        let cases = [
            ("any()", "`any()` needs at least one rule"),
            ("all()", "`all()` needs at least one rule"),
            ("not()", "`not()` needs a rule"),
            (
                "not(role = \"a\", role = \"b\")",
                "`not` takes exactly one rule",
            ),
            ("group = \"a\"", "unknown rule `group`"),
            ("any(role = \"a\", type = \"b\")", "unknown rule `type`"),
            (
                "check = \"is_admin\"",
                "`check` expects a path to a function",
            ),
            ("check = |u| true", "`check` expects a path to a function"),
            (
                "policy = \"can_edit\"",
                "`policy` expects a path to an `async fn`",
            ),
            (
                "policy = can_edit()",
                "`policy` expects a path to an `async fn`",
            ),
            ("role = 5", "expected a role"),
            ("role", "`role` expects a value"),
            ("any", "`any` expects rules in parentheses"),
            ("authenticated = true", "`authenticated` takes no value"),
            ("5", "expected a rule"),
        ];
        for (text, want) in cases {
            let err = parse(text).err().unwrap_or_else(|| panic!("{text} parsed"));
            assert!(err.to_string().contains(want), "{text}: {err}");
        }
    }
}
