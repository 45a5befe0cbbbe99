//! What is emitted when the attribute cannot be expanded.

use proc_macro2::TokenStream;

// Input:
//     #[login_required(redirect = 5)]
//     async fn dashboard(user: AuthUser) -> impl Responder { .. }
// Output:
//     async fn dashboard(user: AuthUser) -> impl Responder { .. }
//     ::core::compile_error! { "`redirect` expects a string literal path, such as \"/login\"" }
//
// The item goes out untouched (like actix-web-codegen's `input_and_compile_error`), so the
// handler still exists: its uses (`.service(dashboard)`, `web::get().to(dashboard)`) raise no
// further errors, the user sees only the real one, and IDEs keep resolving the function.
pub(crate) fn original_item(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(error.into_compile_error());
    tokens
}
