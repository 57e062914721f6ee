//! `#[derive(Model)]`, re-exported by `domain`: the declaration of a model's fields is written
//! once, as a struct, and this derive writes everything that repeats the field list. See
//! `domain::Model` for what a model gives and the attributes it takes.

mod declaration;
mod expand;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Implements `domain::Model` for a struct with named fields, and `domain::Entity` with the
/// default rules unless the struct says `#[model(rules)]`.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    declaration::Declaration::read(&input)
        .map(|declaration| expand::model(&declaration))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
