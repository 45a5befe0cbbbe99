//! Route coverage: `#[public]`, and (for every guard attribute and `#[public]`) the handler's
//! entry in the access manifest and its mark for guarded registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{
    ext::IdentExt, punctuated::Punctuated, Attribute, Error, Expr, ExprLit, FnArg, GenericArgument,
    Item, ItemFn, Lit, LitStr, PathArguments, Token, Type,
};

use crate::{args::Kind, fallback, validate};

/// Entry point of `#[public]`: check, then the handler unchanged; on error, the item unchanged
/// plus the error.
pub(crate) fn public(args: TokenStream, item: TokenStream) -> TokenStream {
    match public_handler(args, item.clone()) {
        Ok(handler) => {
            let listing = listing(&handler);
            quote!(#handler #listing)
        }
        Err(error) => fallback::original_item(item, error),
    }
}

fn public_handler(args: TokenStream, item: TokenStream) -> syn::Result<ItemFn> {
    let args = match args.is_empty() {
        true => Ok(()),
        false => Err(Error::new_spanned(
            args,
            "`#[public]` takes no arguments; it marks a handler as open to everyone",
        )),
    };
    let handler = syn::parse2::<Item>(item).and_then(|item| validate::handler(Kind::Public, item));
    match (args, handler) {
        (Ok(()), Ok(handler)) => Ok(handler),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), Ok(_)) | (Ok(()), Err(error)) => Err(error),
    }
}

/// actix-web's one-method route attributes and their methods.
const METHOD_ATTRIBUTES: [(&str, &str); 9] = [
    ("get", "GET"),
    ("post", "POST"),
    ("put", "PUT"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
    ("trace", "TRACE"),
    ("connect", "CONNECT"),
];

// Input (the handler as the lowest of our attributes sees it, after the guards above it and its
// own have added their parameters):
//     #[get("/notes/{id}")]
//     pub async fn note(
//         __session_guard_1a2b3c4d: Guarded<__session_guard_note_1a2b3c4d>,
//         __session_guard_5e6f7a8b: Guarded<__session_guard_note_5e6f7a8b>,
//         ..
//     ) -> impl Responder { .. }
// Output:
//     ::session_core::__private::inventory::submit! {
//         ::session_core::__private::Entry::new(
//             "note", ::core::module_path!(), ::core::file!(), ::core::line!(),
//             &[::session_core::__private::Route::new("GET", "/notes/{id}")],
//             ::session_core::__private::Access::Guarded(&[
//                 <__session_guard_note_1a2b3c4d as ::session_core::__private::GuardSpec>::guard,
//                 <__session_guard_note_5e6f7a8b as ::session_core::__private::GuardSpec>::guard,
//             ]),
//         )
//     }
//
//     impl ::session_core::__private::CoverageSeal for note {}
//     impl ::session_core::__private::Covered for note {}
//
// (`Access::Public` for `#[public]`, which adds no parameter.) The `Covered` impls, for the service
// struct actix's route macro makes of the handler (same name, same scope), only when a route
// attribute is below: they let guarded registration accept it. Only the lowest of our attributes
// emits all this, so a handler has one entry whatever its stack; nothing when another of ours is
// still below. `file!`/`line!` carry the handler name's span: the entry points at the handler. The
// route comes from the actix attributes still on the item, i.e. written below ours; one written
// above has already turned the handler into a service struct, so the entry has no route.
pub(crate) fn listing(handler: &ItemFn) -> TokenStream {
    if handler.attrs.iter().any(is_ours) {
        return TokenStream::new();
    }
    let private = quote!(::session_core::__private);
    let name = handler.sig.ident.unraw().to_string();
    let span = handler.sig.ident.span();
    let location = quote_spanned!(span=> ::core::module_path!(), ::core::file!(), ::core::line!());
    let routes: Vec<TokenStream> = routes(&handler.attrs)
        .into_iter()
        .map(|(method, path)| quote!(#private::Route::new(#method, #path)))
        .collect();
    let guards = guard_specs(handler);
    let access = match guards.is_empty() {
        true => quote!(#private::Access::Public),
        false => quote!(#private::Access::Guarded(&[
            #(<#guards as #private::GuardSpec>::guard),*
        ])),
    };
    let covered = (!routes.is_empty()).then(|| {
        let service = &handler.sig.ident;
        quote! {
            impl #private::CoverageSeal for #service {}
            impl #private::Covered for #service {}
        }
    });
    quote! {
        #private::inventory::submit! {
            #private::Entry::new(#name, #location, &[#(#routes),*], #access)
        }
        #covered
    }
}

/// Whether `attr` is one of our attributes (a guard or `#[public]`), by its last path segment.
fn is_ours(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|last| Kind::ALL.iter().any(|kind| last.ident == kind.name()))
}

/// The guard types of the parameters our attributes added, in order.
fn guard_specs(handler: &ItemFn) -> Vec<&Type> {
    handler
        .sig
        .inputs
        .iter()
        .take_while(|input| crate::expand::is_guard_param(input))
        .filter_map(|input| match input {
            FnArg::Typed(typed) => guarded_type(&typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// `G` of `::session_core::__private::Guarded<G>`.
fn guarded_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }
}

/// The `(method, path)` pairs of the actix route attributes among `attrs`: `#[get("/p")]` and
/// its siblings, `#[route("/p", method = "GET", method = "HEAD")]`, and the method attributes
/// under `#[routes]`. An attribute that does not parse is skipped: actix reports it.
fn routes(attrs: &[Attribute]) -> Vec<(String, LitStr)> {
    let mut routes = Vec::new();
    for attr in attrs {
        let Some(last) = attr.path().segments.last() else {
            continue;
        };
        let methods: Vec<String> = match METHOD_ATTRIBUTES.iter().find(|(n, _)| last.ident == n) {
            Some((_, method)) => vec![(*method).to_owned()],
            None if last.ident == "route" => Vec::new(),
            None => continue,
        };
        let Ok(args) = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            continue;
        };
        let mut args = args.into_iter();
        let Some(Expr::Lit(ExprLit {
            lit: Lit::Str(path),
            ..
        })) = args.next()
        else {
            continue;
        };
        let named_methods = args.filter_map(|arg| match arg {
            Expr::Assign(assign) => match (*assign.left, *assign.right) {
                (
                    Expr::Path(key),
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(method),
                        ..
                    }),
                ) if key.path.is_ident("method") => Some(method.value().to_uppercase()),
                _ => None,
            },
            _ => None,
        });
        let methods: Vec<String> = methods.into_iter().chain(named_methods).collect();
        routes.extend(methods.into_iter().map(|m| (m, path.clone())));
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(item: &str) -> String {
        let item: ItemFn = syn::parse_str(item).expect("item");
        listing(&item).to_string().split_whitespace().collect()
    }

    const P: &str = "::session_core::__private::";

    #[test]
    fn routes_come_from_the_actix_attributes_below() {
        let cases = [
            ("#[get(\"/a\")]", vec![("GET", "/a")]),
            (
                "#[actix_web::post(\"/a/{id}\", name = \"x\")]",
                vec![("POST", "/a/{id}")],
            ),
            (
                "#[route(\"/m\", method = \"GET\", method = \"head\")]",
                vec![("GET", "/m"), ("HEAD", "/m")],
            ),
            (
                "#[routes] #[get(\"/a\")] #[delete(\"/b\")]",
                vec![("GET", "/a"), ("DELETE", "/b")],
            ),
            ("#[doc = \"x\"] #[tracing::instrument]", vec![]),
            ("#[get(oops)]", vec![]),
        ];
        for (attrs, want) in cases {
            let item: ItemFn = syn::parse_str(&format!("{attrs} async fn h() {{}}")).unwrap();
            let got: Vec<(String, String)> = routes(&item.attrs)
                .into_iter()
                .map(|(m, p)| (m, p.value()))
                .collect();
            let want: Vec<(String, String)> = want
                .into_iter()
                .map(|(m, p)| (m.to_owned(), p.to_owned()))
                .collect();
            assert_eq!(got, want, "{attrs}");
        }
    }

    #[test]
    fn the_lowest_of_our_attributes_lists_every_guard() {
        let item =
            "#[get(\"/n\")] async fn note(__session_guard_1: Guarded<S1>, __session_guard_2: \
                    ::session_core::__private::Guarded<S2>, user: AuthUser) {}";
        let got = listed(item);
        assert!(got.starts_with(&format!("{P}inventory::submit!{{{P}Entry::new(\"note\",::core::module_path!(),::core::file!(),::core::line!(),&[{P}Route::new(\"GET\",\"/n\")],")), "{got}");
        assert!(
            got.contains(&format!(
                "{P}Access::Guarded(&[<S1as{P}GuardSpec>::guard,<S2as{P}GuardSpec>::guard])"
            )),
            "{got}"
        );
    }

    #[test]
    fn public_handlers_are_listed_as_public() {
        let got = listed("async fn r#health() {}");
        assert!(got.contains("Entry::new(\"health\""), "{got}");
        assert!(got.contains(&format!("&[],{P}Access::Public)")), "{got}");
    }

    #[test]
    fn the_service_is_marked_covered_only_when_a_route_attribute_is_below() {
        let covered = format!("impl{P}Coveredfornote{{}}");
        let seal = format!("impl{P}CoverageSealfornote{{}}");
        let with_route = listed("#[post(\"/n\")] async fn note() {}");
        assert!(
            with_route.contains(&covered) && with_route.contains(&seal),
            "{with_route}"
        );
        let without = listed("async fn note() {}");
        assert!(!without.contains("Covered"), "{without}");
    }

    #[test]
    fn only_the_lowest_attribute_lists() {
        for below in [
            "login_required",
            "session_core::require_role(\"a\")",
            "public",
        ] {
            let got = listed(&format!("#[{below}] #[get(\"/\")] async fn h() {{}}"));
            assert_eq!(got, "", "{below}");
        }
    }
}
