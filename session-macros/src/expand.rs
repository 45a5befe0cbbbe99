//! Code generation. Every path in the output goes through `::session_core::__private`, and the
//! identifiers the expansion invents start with `__session_guard`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{
    ext::IdentExt, parse_quote, parse_quote_spanned, spanned::Spanned, FnArg, Ident, Item, ItemFn,
    LitInt, Pat, PatType, Type,
};

use crate::{
    args::{Args, Kind},
    coverage, fallback,
    rule::{Role, RuleExpr},
    validate,
};

/// Prefix of the injected parameter; stacked attributes recognise each other's parameters by it.
const PARAM_PREFIX: &str = "__session_guard_";

/// Entry point of every attribute: parse, validate, expand; on any error, the item unchanged
/// plus the errors (see `fallback`).
pub(crate) fn guard(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let fingerprint = fingerprint(kind, &args, &item);
    match parse_and_check(kind, args, item.clone()) {
        Ok((args, handler)) => guarded_handler(&args, handler, fingerprint),
        Err(error) => fallback::original_item(item, error),
    }
}

fn parse_and_check(
    kind: Kind,
    args: TokenStream,
    item: TokenStream,
) -> syn::Result<(Args, ItemFn)> {
    let args = Args::parse(kind, args).and_then(|args| validate::args(&args).map(|()| args));
    let handler = syn::parse2::<Item>(item).and_then(|item| validate::handler(kind, item));
    match (args, handler) {
        (Ok(args), Ok(handler)) => Ok((args, handler)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
    }
}

// Input:
//     #[authorize(any(role = "admin", role = "editor"), fresh = 600)]
//     #[get("/posts")]
//     pub async fn posts(user: AuthUser) -> impl Responder { .. }
//
// Output:
//     #[doc(hidden)]
//     #[allow(non_camel_case_types, dead_code)]
//     pub struct __session_guard_posts_1a2b3c4d;
//
//     impl ::session_core::__private::GuardSpec for __session_guard_posts_1a2b3c4d {
//         fn guard() -> &'static ::session_core::__private::Guard {
//             <answer item, when the attribute has `redirect` or `status`>
//             static GUARD: ::session_core::__private::LazyLock<::session_core::__private::Guard> =
//                 ::session_core::__private::LazyLock::new(|| <guard>);
//             &GUARD
//         }
//     }
//
//     #[get("/posts")]
//     pub async fn posts(
//         __session_guard_1a2b3c4d: ::session_core::__private::Guarded<__session_guard_posts_1a2b3c4d>,
//         user: AuthUser,
//     ) -> impl Responder { .. }
//
// The struct takes the handler's visibility (its type appears in the handler's signature) and the
// attribute's span, so errors about it (such as "struct is not supported in `impl`s" for an
// associated fn) point at the attribute. The parameter is hygienic (`Span::mixed_site`) and goes
// after the guards of attributes written above this one, before every other parameter.
//
// A guard that requires a signed-in user (every kind but `skip_if_authenticated`) also takes
// over the parameter that follows those guards when it is typed `AuthUser` (see `fold_user`):
//
//     pub async fn posts(
//         ::session_core::__private::Guarded { user, .. }:
//             ::session_core::__private::Guarded<__session_guard_posts_1a2b3c4d, AuthUser>,
//     ) -> impl Responder { .. }
//
// One extractor then checks the guard and yields the very `AuthUser` the rule judged, instead
// of a guard that builds the user to judge it and an `AuthUser` extractor that builds it again.
fn guarded_handler(args: &Args, mut handler: ItemFn, fingerprint: u32) -> TokenStream {
    let handler_name = handler.sig.ident.unraw();
    let spec = format_ident!(
        "__session_guard_{}_{:08x}",
        handler_name,
        fingerprint,
        span = Span::call_site()
    );
    let param = Ident::new(
        &format!("{PARAM_PREFIX}{fingerprint:08x}"),
        Span::mixed_site(),
    );
    let vis = handler.vis.clone();
    let private = quote!(::session_core::__private);
    let statik = Ident::new("GUARD", Span::mixed_site());
    let answer = Ident::new("ANSWER", Span::mixed_site());
    let (answer_item, guard) = match answer_item(args, &answer) {
        Some(item) => {
            let guard = guard_expr(args);
            (item, quote!(#private::answering(#guard, #answer)))
        }
        None => (TokenStream::new(), guard_expr(args)),
    };

    let position = handler
        .sig
        .inputs
        .iter()
        .take_while(|input| is_guard_param(input))
        .count();
    let guarded: FnArg = match fold_user(args.kind, &mut handler, position) {
        // On the user's type, so that a type named `AuthUser` that is not ours is reported there.
        Some(PatType { attrs, pat, ty, .. }) => {
            // The field name stays the macro's, or `non_shorthand_field_patterns` would flag
            // `user: user` in the user's code.
            let span = ty.span();
            let private = quote_spanned!(span=> ::session_core::__private);
            let field = Ident::new("user", Span::call_site());
            parse_quote_spanned!(span=>
                #(#attrs)* #private::Guarded { #field: #pat, .. }: #private::Guarded<#spec, #ty>
            )
        }
        None => parse_quote!(#param: #private::Guarded<#spec>),
    };
    handler.sig.inputs.insert(position, guarded);

    let listing = coverage::listing(&handler);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #spec;

        impl #private::GuardSpec for #spec {
            fn guard() -> &'static #private::Guard {
                #answer_item
                static #statik: #private::LazyLock<#private::Guard> =
                    #private::LazyLock::new(|| #guard);
                &#statik
            }
        }

        #handler
        #listing
    }
}

/// Takes the handler's parameter at `position` (the first after the guards of attributes above
/// this one) out of its signature when the guard can hand it over: a guard that requires a
/// signed-in user, and a parameter typed `AuthUser` (a path ending in `AuthUser`, without
/// generics; any pattern). A guard whose pass means "anonymous" (`skip_if_authenticated`) has no
/// user to give, and any other parameter keeps its own extractor. A type that is named
/// `AuthUser` but is not `session_core::AuthUser` fails to compile on that type (the runtime's
/// `GuardedUser` trait says why).
fn fold_user(kind: Kind, handler: &mut ItemFn, position: usize) -> Option<PatType> {
    if kind == Kind::SkipIfAuthenticated {
        return None;
    }
    match handler.sig.inputs.iter().nth(position)? {
        FnArg::Typed(typed) if is_auth_user(&typed.ty) => {}
        _ => return None,
    }
    let mut rest: Vec<FnArg> = std::mem::take(&mut handler.sig.inputs)
        .into_iter()
        .collect();
    let FnArg::Typed(user) = rest.remove(position) else {
        return None;
    };
    handler.sig.inputs = rest.into_iter().collect();
    Some(user)
}

/// Whether `ty` is written `AuthUser` or `path::to::AuthUser`, without generics.
fn is_auth_user(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "AuthUser" && last.arguments.is_none()),
        Type::Group(group) => is_auth_user(&group.elem),
        Type::Paren(paren) => is_auth_user(&paren.elem),
        _ => false,
    }
}

/// Whether `input` is the guard parameter of an attribute expanded earlier (written above): a
/// hygienic `__session_guard_<hash>` binding, or a folded `Guarded { user, .. }` pattern.
pub(crate) fn is_guard_param(input: &FnArg) -> bool {
    let FnArg::Typed(typed) = input else {
        return false;
    };
    match &*typed.pat {
        Pat::Ident(p) => p.ident.to_string().starts_with(PARAM_PREFIX),
        Pat::Struct(folded) => is_private_guarded(&folded.path) && is_guarded_type(&typed.ty),
        _ => false,
    }
}

/// Whether `path` is `::session_core::__private::Guarded` (with or without generics).
fn is_private_guarded(path: &syn::Path) -> bool {
    let names = ["session_core", "__private", "Guarded"];
    path.leading_colon.is_some()
        && path.segments.len() == names.len()
        && path.segments.iter().zip(names).all(|(s, n)| s.ident == n)
}

fn is_guarded_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && is_private_guarded(&path.path))
}

// Input:
//     login_required(status = 401)            | authorize(role = "admin", fresh = 600)
// Output:
//     Guard::require(Rule::authenticated())   | Guard::require(Rule::all([Rule::role("admin"), Rule::fresh(600u64)]))
//
// (every name prefixed with `::session_core::__private::`). `fresh` is checked after the rule,
// and the runtime answers "reauthenticate" only when the rule alone would pass. `redirect` and
// `status` are not part of it: with either, `guarded_handler` passes this guard and the answer of
// `answer_item` to `answering(guard, ANSWER)`.
fn guard_expr(args: &Args) -> TokenStream {
    let private = quote!(::session_core::__private);
    let require = |rule: TokenStream| quote!(#private::Guard::require(#rule));
    match (args.kind, &args.rule) {
        (Kind::SkipIfAuthenticated, _) => quote!(#private::Guard::skip_if_authenticated()),
        (_, None) => require(quote!(#private::Rule::authenticated())),
        (_, Some(rule)) => {
            let rule = rule_expr(rule);
            match &args.fresh {
                Some(secs) => {
                    let secs = suffixed(secs, "u64");
                    require(quote!(#private::Rule::all([#rule, #private::Rule::fresh(#secs)])))
                }
                None => require(rule),
            }
        }
    }
}

// Input:
//     redirect = "/signin", status = 307
// Output:
//     const ANSWER: CheckedAnswer = Answer::NONE.redirect("/signin").status(307u16).checked();
//
// (every name prefixed with `::session_core::__private::`). The runtime's own rules check the
// answer again while compiling: `checked` is a `const fn` that panics on a refused answer, and a
// panic in a `const` item is a compile error. `validate` has refused such answers already, with
// an error on the literal, so this never fails; it keeps macro-generated guards from being the
// one way around the rules.
fn answer_item(args: &Args, name: &Ident) -> Option<TokenStream> {
    if args.redirect.is_none() && args.status.is_none() {
        return None;
    }
    let private = quote!(::session_core::__private);
    let mut answer = quote!(#private::Answer::NONE);
    if let Some(to) = &args.redirect {
        answer = quote!(#answer.redirect(#to));
    }
    if let Some(status) = &args.status {
        let status = suffixed(status, "u16");
        answer = quote!(#answer.status(#status));
    }
    Some(quote!(const #name: #private::CheckedAnswer = #answer.checked();))
}

// Input:
//     any(role = "admin", all(role = Role::Editor, not(check = auth::suspended)), authenticated)
// Output:
//     Rule::any([
//         Rule::role("admin"),
//         Rule::all([Rule::role_name(Role::Editor), Rule::not(Rule::check(auth::suspended))]),
//         Rule::authenticated(),
//     ])
//
// (every `Rule` is `::session_core::__private::Rule`). The user's role paths and check paths keep
// their spans, so a missing enum variant or a check fn of the wrong type is reported on them.
fn rule_expr(rule: &RuleExpr) -> TokenStream {
    let rule_type = quote!(::session_core::__private::Rule);
    match rule {
        RuleExpr::Authenticated(_) => quote!(#rule_type::authenticated()),
        RuleExpr::Role(_, Role::Name(name)) => quote!(#rule_type::role(#name)),
        RuleExpr::Role(_, Role::Typed(path)) => quote!(#rule_type::role_name(#path)),
        RuleExpr::Permission(_, Role::Name(name)) => quote!(#rule_type::permission(#name)),
        RuleExpr::Permission(_, Role::Typed(path)) => {
            quote!(#rule_type::permission_name(#path))
        }
        RuleExpr::Any(_, _, rules) => {
            let rules = rules.iter().map(rule_expr);
            quote!(#rule_type::any([#(#rules),*]))
        }
        RuleExpr::All(_, _, rules) => {
            let rules = rules.iter().map(rule_expr);
            quote!(#rule_type::all([#(#rules),*]))
        }
        RuleExpr::Not(_, _, rule) => {
            let rule = rule_expr(rule);
            quote!(#rule_type::not(#rule))
        }
        RuleExpr::Check(_, path) => quote!(#rule_type::check(#path)),
        RuleExpr::Policy(_, path) => quote!(#rule_type::policy(#path)),
    }
}

/// The literal's digits with the type the runtime takes (`600` -> `600u64`), keeping its span.
fn suffixed(lit: &LitInt, suffix: &str) -> LitInt {
    LitInt::new(&format!("{}{suffix}", lit.base10_digits()), lit.span())
}

/// A name part that differs between attributes on the same function, and is the same in every
/// build: FNV-1a over the attribute's kind and arguments and the function's tokens (which include
/// the parameters of attributes already expanded, so even identical stacked attributes differ).
fn fingerprint(kind: Kind, args: &TokenStream, item: &TokenStream) -> u32 {
    let text = format!("{}({args}){item}", kind.name());
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash >> 32) as u32 ^ hash as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(kind: Kind, args: &str, item: &str) -> String {
        guard(
            kind,
            args.parse().expect("args"),
            item.parse().expect("item"),
        )
        .to_string()
    }

    /// The expansion with whitespace removed, for `contains` checks.
    fn compact(kind: Kind, args: &str, item: &str) -> String {
        expand(kind, args, item).split_whitespace().collect()
    }

    const P: &str = "::session_core::__private::";

    #[test]
    fn guard_expressions() {
        let cases = [
            (Kind::LoginRequired, "", format!("{P}Guard::require({P}Rule::authenticated())")),
            (Kind::LoginRequired, "status = 401", format!("{P}answering({P}Guard::require({P}Rule::authenticated()),ANSWER)")),
            (Kind::SkipIfAuthenticated, "", format!("{P}Guard::skip_if_authenticated()")),
            (Kind::SkipIfAuthenticated, "redirect = \"/home\"", format!("{P}answering({P}Guard::skip_if_authenticated(),ANSWER)")),
            (Kind::RequireRole, "\"admin\"", format!("{P}Guard::require({P}Rule::role(\"admin\"))")),
            (Kind::RequireRole, "Role::Admin", format!("{P}Guard::require({P}Rule::role_name(Role::Admin))")),
            (
                Kind::Authorize,
                "any(role = \"a\", not(check = auth::banned)), fresh = 60",
                format!("{P}Guard::require({P}Rule::all([{P}Rule::any([{P}Rule::role(\"a\"),{P}Rule::not({P}Rule::check(auth::banned))]),{P}Rule::fresh(60u64)]))"),
            ),
            (Kind::Authorize, "all(authenticated)", format!("{P}Guard::require({P}Rule::all([{P}Rule::authenticated()]))")),
        ];
        for (kind, args, want) in cases {
            let got = compact(kind, args, "async fn h() {}");
            assert!(
                got.contains(&format!("LazyLock::new(||{want});")),
                "{kind:?}({args}):\n{got}"
            );
        }
    }

    #[test]
    fn answers_are_checked_in_a_const_item() {
        let cases = [
            ("", None),
            (
                "status = 401",
                Some(format!("{P}Answer::NONE.status(401u16)")),
            ),
            (
                "redirect = \"/in\"",
                Some(format!("{P}Answer::NONE.redirect(\"/in\")")),
            ),
            (
                "redirect = \"/in\", status = 307",
                Some(format!("{P}Answer::NONE.redirect(\"/in\").status(307u16)")),
            ),
        ];
        for (args, want) in cases {
            let got = compact(Kind::LoginRequired, args, "async fn h() {}");
            match want {
                Some(answer) => assert!(
                    got.contains(&format!(
                        "constANSWER:{P}CheckedAnswer={answer}.checked();static"
                    )),
                    "{args}:\n{got}"
                ),
                None => assert!(!got.contains("ANSWER"), "{args}:\n{got}"),
            }
        }
    }

    #[test]
    fn handler_gets_the_guard_as_first_parameter_and_keeps_the_rest() {
        let item = "#[get(\"/d\")] #[doc = \"docs\"] pub async fn dashboard(req: HttpRequest, user: AuthUser, (a, b): (u8, u8)) -> impl Responder { body() }";
        let got = compact(Kind::LoginRequired, "", item);
        let fp = fingerprint(
            Kind::LoginRequired,
            &TokenStream::new(),
            &item.parse().unwrap(),
        );
        let spec = format!("__session_guard_dashboard_{fp:08x}");
        assert!(
            got.contains(&format!(
                "#[doc(hidden)]#[allow(non_camel_case_types,dead_code)]pubstruct{spec};"
            )),
            "{got}"
        );
        assert!(
            got.contains(&format!(
                "impl{P}GuardSpecfor{spec}{{fnguard()->&'static{P}Guard{{"
            )),
            "{got}"
        );
        assert!(got.contains(&format!(
            "#[get(\"/d\")]#[doc=\"docs\"]pubasyncfndashboard(__session_guard_{fp:08x}:{P}Guarded<{spec}>,req:HttpRequest,user:AuthUser,(a,b):(u8,u8))->implResponder{{body()}}"
        )), "{got}");
    }

    #[test]
    fn stacked_attributes_get_distinct_names_and_run_top_to_bottom() {
        let item = "async fn h(n: u8) {}";
        let outer = expand(Kind::RequireRole, "\"a\"", item);
        // rustc expands the attribute below on the function the attribute above produced.
        // (The item here has no attribute below, so the outer one also lists it: cut that off.)
        let outer_fn = &outer[outer.find("async fn").unwrap()
            ..outer
                .find(":: session_core :: __private :: inventory")
                .unwrap()];
        let inner = compact(Kind::RequireRole, "\"a\"", outer_fn);
        let (inner, listing) =
            inner.split_at(inner.find("::session_core::__private::inventory").unwrap());
        let params: Vec<&str> = inner
            .split("asyncfnh(")
            .nth(1)
            .unwrap()
            .split(',')
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(params.len(), 3, "{inner}");
        assert!(params[0].starts_with(PARAM_PREFIX) && params[1].starts_with(PARAM_PREFIX));
        assert_ne!(
            params[0], params[1],
            "identical stacked attributes must not clash"
        );
        assert!(
            outer.contains(params[0]),
            "the outer (upper) attribute's guard stays first"
        );
        assert_eq!(params[2], "n");
        let guards = format!(
            "Access::Guarded(&[<{}as::session_core::__private::GuardSpec>::guard,<{}as",
            spec_of(inner, params[0]),
            spec_of(inner, params[1])
        );
        assert!(
            listing.contains(&guards),
            "the lowest lists both: {listing}"
        );
    }

    /// The handler's parameters as the expansion writes them (compacted), the guard's spec
    /// type renamed `S`.
    fn params(kind: Kind, args: &str, item: &str) -> String {
        let got = compact(kind, args, item);
        let start = got.find("asyncfnh(").expect("the handler") + "asyncfnh(".len();
        let params = &got[start..start + got[start..].find("){").expect("the body")];
        let spec = format!(
            "__session_guard_h_{:08x}",
            fingerprint(kind, &args.parse().unwrap(), &item.parse().unwrap())
        );
        params.replace(&spec, "S")
    }

    #[test]
    fn a_requiring_guard_takes_over_the_first_auth_user_parameter() {
        let folded =
            |pat: &str, ty: &str| format!("{P}Guarded{{user:{pat},..}}:{P}Guarded<S,{ty}>");
        let cases = [
            (
                Kind::LoginRequired,
                "",
                "user: AuthUser",
                folded("user", "AuthUser"),
            ),
            (
                Kind::LoginRequired,
                "",
                "mut user: AuthUser, body: Json<u8>",
                folded("mutuser", "AuthUser") + ",body:Json<u8>",
            ),
            (
                Kind::RequireRole,
                "\"a\"",
                "_: AuthUser",
                folded("_", "AuthUser"),
            ),
            (
                Kind::RequirePermission,
                "\"p\"",
                "u: ::session_core::AuthUser",
                folded("u", "::session_core::AuthUser"),
            ),
            (
                Kind::Authorize,
                "role = \"a\", status = 404",
                "u: prelude::AuthUser",
                folded("u", "prelude::AuthUser"),
            ),
        ];
        for (kind, args, inputs, want) in cases {
            let got = params(kind, args, &format!("async fn h({inputs}) {{}}"));
            assert_eq!(got, want, "{kind:?}({args}) {inputs}");
        }
    }

    #[test]
    fn every_other_handler_shape_keeps_its_own_auth_user_extractor() {
        let cases = [
            (Kind::SkipIfAuthenticated, "user: AuthUser"),
            (Kind::LoginRequired, "user: Option<AuthUser>"),
            (Kind::LoginRequired, "user: AuthUser<u8>"),
            (Kind::LoginRequired, "user: &AuthUser"),
            (Kind::LoginRequired, "user: <T as X>::AuthUser"),
            (Kind::LoginRequired, "req: HttpRequest, user: AuthUser"),
            (Kind::LoginRequired, "user: Current<Account>"),
        ];
        for (kind, inputs) in cases {
            let got = params(kind, "", &format!("async fn h({inputs}) {{}}"));
            assert!(
                got.starts_with(PARAM_PREFIX) && got.contains(&format!(":{P}Guarded<S>,")),
                "{kind:?} {inputs}: {got}"
            );
            let rest: String = inputs.split_whitespace().collect();
            assert!(got.ends_with(&rest), "{kind:?} {inputs}: {got}");
        }
    }

    #[test]
    fn a_later_attribute_goes_after_a_folded_guard() {
        let item = "async fn h(user: AuthUser, n: u8) {}";
        let outer = expand(Kind::LoginRequired, "", item);
        let outer_fn = &outer[outer.find("async fn").unwrap()
            ..outer
                .find(":: session_core :: __private :: inventory")
                .unwrap()];
        let handler: ItemFn = syn::parse_str(outer_fn).unwrap();
        assert!(is_guard_param(&handler.sig.inputs[0]), "{outer_fn}");
        assert!(!is_guard_param(&handler.sig.inputs[1]), "{outer_fn}");
        let inner = compact(Kind::RequireRole, "\"a\"", outer_fn);
        let (inner, listing) =
            inner.split_at(inner.find("::session_core::__private::inventory").unwrap());
        let params = &inner[inner.find("asyncfnh(").unwrap()..];
        let (folded, rest) = params.split_once(">,").unwrap();
        assert!(
            folded.starts_with(&format!(
                "asyncfnh({P}Guarded{{user:user,..}}:{P}Guarded<__session_guard_h_"
            )),
            "{params}"
        );
        assert!(
            rest.starts_with(PARAM_PREFIX) && rest.contains(":u8)"),
            "{params}"
        );
        let upper = &folded
            [folded.rfind("Guarded<").unwrap() + "Guarded<".len()..folded.rfind(',').unwrap()];
        let lower = spec_of(inner, rest.split(':').next().unwrap());
        assert!(
            listing.contains(&format!(
                "Access::Guarded(&[<{upper}as{P}GuardSpec>::guard,<{lower}as{P}GuardSpec>::guard])"
            )),
            "the listing keeps both guards, top to bottom: {listing}"
        );
    }

    /// The guard type of parameter `param` in a compacted expansion.
    fn spec_of<'a>(expansion: &'a str, param: &str) -> &'a str {
        let after = &expansion[expansion.find(&format!("{param}:")).unwrap()..];
        let start = after.find("Guarded<").unwrap() + "Guarded<".len();
        &after[start..start + after[start..].find('>').unwrap()]
    }

    #[test]
    fn errors_leave_the_item_unchanged_and_add_one_compile_error() {
        let item = "async fn h(user: AuthUser) -> u8 { 1 }";
        let got = expand(Kind::LoginRequired, "redirect = 5", item);
        let want_item: TokenStream = item.parse().unwrap();
        assert!(got.starts_with(&want_item.to_string()), "{got}");
        assert_eq!(got.matches("compile_error").count(), 1, "{got}");
        assert!(!got.contains("GuardSpec"), "{got}");
    }

    #[test]
    fn argument_and_item_errors_are_reported_together() {
        let got = expand(Kind::LoginRequired, "redirect = 5", "fn h() {}");
        assert_eq!(got.matches("compile_error").count(), 2, "{got}");
    }

    #[test]
    fn unparsable_items_are_passed_through_with_the_error() {
        let got = expand(Kind::LoginRequired, "", "struct S;");
        assert!(got.starts_with("struct S ;"), "{got}");
        assert!(
            got.contains("can only be applied to an `async fn` handler"),
            "{got}"
        );
    }

    #[test]
    fn raw_identifiers_make_valid_struct_names() {
        let got = compact(Kind::LoginRequired, "", "async fn r#match() {}");
        assert!(got.contains("struct__session_guard_match_"), "{got}");
    }

    #[test]
    fn fingerprints_are_stable() {
        let args: TokenStream = "\"a\"".parse().unwrap();
        let item: TokenStream = "async fn h() {}".parse().unwrap();
        assert_eq!(
            fingerprint(Kind::RequireRole, &args, &item),
            fingerprint(Kind::RequireRole, &args, &item)
        );
        assert_ne!(
            fingerprint(Kind::RequireRole, &args, &item),
            fingerprint(Kind::Authorize, &args, &item)
        );
    }
}
