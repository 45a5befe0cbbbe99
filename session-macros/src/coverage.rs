//! Route coverage: `#[public]`, and (for every guard attribute and `#[public]`) the handler's
//! entry in the access manifest and its mark for guarded registration.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Error, Item, ItemFn};

use crate::{args::Kind, fallback, validate};

/// Entry point of `#[public]`: check, then the handler unchanged; on error, the item unchanged
/// plus the error.
pub(crate) fn public(args: TokenStream, item: TokenStream) -> TokenStream {
    match public_handler(args, item.clone()) {
        Ok(handler) => quote!(#handler),
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
