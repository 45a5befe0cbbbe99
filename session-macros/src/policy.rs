//! `#[policy]`: checks a resource policy's signature where it is written, so a parameter that
//! would read the request body is reported on that parameter, not where the policy is used.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{spanned::Spanned, Error, FnArg, ItemFn, ReturnType, Type};

use crate::fallback;

/// Entry point: the function with its checks, or the function unchanged plus the error.
pub(crate) fn policy(args: TokenStream, item: TokenStream) -> TokenStream {
    match check(args, item.clone()) {
        Ok(function) => checked(function),
        Err(error) => fallback::original_item(item, error),
    }
}

fn check(args: TokenStream, item: TokenStream) -> syn::Result<ItemFn> {
    if let Some(token) = args.into_iter().next() {
        return Err(Error::new_spanned(token, "`#[policy]` takes no arguments"));
    }
    let function: ItemFn = syn::parse2(item)?;
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(Error::new_spanned(
            sig.fn_token,
            "a policy must be an `async fn`: it runs as an extractor before the handler",
        ));
    }
    if let Some(receiver) = sig.receiver() {
        return Err(Error::new_spanned(
            receiver,
            "a policy is a free `async fn`; its parameters are extractors, not `self`",
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(Error::new(
            sig.paren_token.span.close(),
            "a policy returns `bool` or `Result<bool, E>`: add `-> bool`",
        ));
    }
    Ok(function)
}

// Input:
//     #[policy]
//     async fn can_edit(user: AuthUser, id: web::Path<u64>) -> Result<bool, DbError> { body }
// Output:
//     async fn can_edit(user: AuthUser, id: web::Path<u64>) -> Result<bool, DbError> {
//         ::session_core::__private::body_free::<AuthUser>();          // spanned on `AuthUser`
//         ::session_core::__private::body_free::<web::Path<u64>>();    // spanned on its type
//         ::session_core::__private::policy_output::<Result<bool, DbError>>();
//         body
//     }
//
// The calls do nothing at run time; their bounds make a body-reading parameter (or a wrong
// return type) a compile error on that parameter's type, with the message of `BodyFree`
// (`PolicyOutput`). A type mentioning `impl Trait` cannot be named in a turbofish: it is left
// to the bound where the policy is used.
fn checked(mut function: ItemFn) -> TokenStream {
    let private = quote!(::session_core::__private);
    let mut asserts: Vec<TokenStream> = function
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(arg) if nameable(&arg.ty) => Some(&*arg.ty),
            _ => None,
        })
        .map(|ty| quote_spanned!(ty.span()=> #private::body_free::<#ty>();))
        .collect();
    if let ReturnType::Type(_, ty) = &function.sig.output {
        if nameable(ty) {
            asserts.push(quote_spanned!(ty.span()=> #private::policy_output::<#ty>();));
        }
    }
    let block = &function.block;
    function.block = syn::parse_quote!({ #(#asserts)* #block });
    quote!(#function)
}

/// Whether `ty` can be written in a turbofish (no `impl Trait` anywhere in it).
fn nameable(ty: &Type) -> bool {
    !quote!(#ty).into_iter().any(|t| t.to_string() == "impl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(item: &str) -> String {
        policy(TokenStream::new(), item.parse().unwrap())
            .to_string()
            .replace(' ', "")
    }

    #[test]
    fn every_parameter_and_the_return_type_are_checked() {
        let out = expand("async fn p(u: AuthUser, id: web::Path<u64>) -> bool { true }");
        for want in [
            "::session_core::__private::body_free::<AuthUser>();",
            "::session_core::__private::body_free::<web::Path<u64>>();",
            "::session_core::__private::policy_output::<bool>();",
        ] {
            assert!(out.contains(want), "{want} in {out}");
        }
    }

    #[test]
    fn signatures_that_cannot_be_policies_are_refused() {
        let cases = [
            (
                "fn p(u: AuthUser) -> bool { true }",
                "must be an `async fn`",
            ),
            (
                "async fn p(u: AuthUser) { }",
                "returns `bool` or `Result<bool, E>`",
            ),
            ("async fn p(&self) -> bool { true }", "not `self`"),
        ];
        for (item, want) in cases {
            let out = policy(TokenStream::new(), item.parse().unwrap()).to_string();
            assert!(out.contains(want), "{item}: {out}");
        }
        let out = policy(
            quote!(x),
            quote!(
                async fn p() -> bool {
                    true
                }
            ),
        )
        .to_string();
        assert!(out.contains("takes no arguments"), "{out}");
    }
}
