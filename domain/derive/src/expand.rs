//! The code a declaration gives: the patch, the strict request forms, and the `Model` impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::declaration::{Declaration, Edit, FieldDeclaration};

pub fn model(model: &Declaration) -> TokenStream {
    let patch = patch(model);
    let requests = requests(model);
    let model_impl = model_impl(model);
    let rules = (!model.own_rules).then(|| {
        let ident = &model.ident;
        quote! { impl ::domain::Entity for #ident {} }
    });
    quote! { #patch #requests #model_impl #rules }
}

fn changeable(model: &Declaration) -> impl Iterator<Item = &FieldDeclaration> {
    model.fields.iter().filter(|f| f.edit == Edit::Free)
}

fn requested(model: &Declaration) -> impl Iterator<Item = &FieldDeclaration> {
    model.fields.iter().filter(|f| f.edit != Edit::Derived)
}

/// `BranchPatch`: the validated change, one `Option` per changeable field.
fn patch(model: &Declaration) -> TokenStream {
    let (vis, ident) = (&model.vis, patch_ident(model));
    let doc = format!(
        "A validated change to a [`{}`]; `None` leaves a field as it is.",
        model.ident
    );
    let fields = changeable(model).map(|f| {
        let (ident, ty) = (&f.ident, &f.ty);
        let doc = format!("The new `{}`.", f.name);
        quote! { #[doc = #doc] pub #ident: ::core::option::Option<#ty>, }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Default, PartialEq)]
        #vis struct #ident { #(#fields)* }
    }
}

/// `NewBranch` and `BranchChange`: what a request may carry, in the values' input types, with
/// unknown fields refused.
fn requests(model: &Declaration) -> TokenStream {
    let vis = &model.vis;
    let (new, change) = (new_ident(model), change_ident(model));
    let new_doc = format!(
        "The strict form of a request creating a [`{}`]: its input values, no other field.",
        model.ident
    );
    let change_doc = format!(
        "The strict form of a request changing a [`{}`]: absent fields stay as they are.",
        model.ident
    );
    let new_fields = requested(model).map(|f| {
        let (ident, ty) = (&f.ident, &f.ty);
        if f.default {
            quote! {
                #[serde(default, skip_serializing_if = "::core::option::Option::is_none")]
                #ident: ::core::option::Option<<#ty as ::domain::Value>::Input>,
            }
        } else if f.optional {
            quote! { #[serde(default)] #ident: <#ty as ::domain::Value>::Input, }
        } else {
            quote! { #ident: <#ty as ::domain::Value>::Input, }
        }
    });
    let change_fields = changeable(model).map(|f| {
        let (ident, ty) = (&f.ident, &f.ty);
        // `null` for an optional field clears it, so absent and null must differ.
        let present = f.optional.then(|| {
            quote! { deserialize_with = "::domain::__private::present", }
        });
        quote! {
            #[serde(default, #present skip_serializing_if = "::core::option::Option::is_none")]
            #ident: ::core::option::Option<<#ty as ::domain::Value>::Input>,
        }
    });
    quote! {
        #[doc = #new_doc]
        #[derive(::domain::__private::serde::Deserialize, ::domain::__private::serde::Serialize)]
        #[serde(crate = "::domain::__private::serde", deny_unknown_fields, rename_all = "camelCase")]
        #vis struct #new { #(#new_fields)* }

        #[doc = #change_doc]
        #[derive(::domain::__private::serde::Deserialize, ::domain::__private::serde::Serialize)]
        #[serde(crate = "::domain::__private::serde", deny_unknown_fields, rename_all = "camelCase")]
        #vis struct #change { #(#change_fields)* }
    }
}

fn model_impl(model: &Declaration) -> TokenStream {
    let ident = &model.ident;
    let name = &model.name;
    let (patch, new, change) = (patch_ident(model), new_ident(model), change_ident(model));
    let schema = model.fields.iter().map(field_schema);
    let fields = || model.fields.iter().enumerate();
    let create_reads = fields()
        .filter(|(_, f)| f.edit != Edit::Derived)
        .map(|(n, f)| {
            let (ident, ty) = (&f.ident, &f.ty);
            let read = if f.default {
                quote! { create_or_default }
            } else {
                quote! { create }
            };
            quote! { let #ident = form.#read::<#ty>(&<Self as ::domain::Model>::FIELDS[#n]); }
        });
    let created: Vec<_> = requested(model).map(|f| &f.ident).collect();
    let create_fields = model.fields.iter().map(|f| {
        let ident = &f.ident;
        if f.edit == Edit::Derived {
            quote! { #ident: ::core::default::Default::default(), }
        } else {
            quote! { #ident, }
        }
    });
    let change_reads = fields()
        .filter(|(_, f)| f.edit == Edit::Free)
        .map(|(n, f)| {
            let (ident, ty) = (&f.ident, &f.ty);
            quote! { let #ident = form.change::<#ty>(&<Self as ::domain::Model>::FIELDS[#n]); }
        });
    let changed: Vec<_> = changeable(model).map(|f| &f.ident).collect();
    let patched = model.fields.iter().map(|f| {
        let ident = &f.ident;
        if f.edit == Edit::Free {
            quote! { #ident: patch.#ident.unwrap_or_else(|| self.#ident.clone()), }
        } else {
            quote! { #ident: self.#ident.clone(), }
        }
    });
    let unique = model.fields.iter().filter(|f| f.unique).map(|f| {
        let (ident, name) = (&f.ident, &f.name);
        quote! {
            if let ::core::option::Option::Some(key) = ::domain::Value::key(&self.#ident) {
                keys.push((#name, key));
            }
        }
    });
    let examples = fields()
        .filter(|(_, f)| f.edit != Edit::Derived)
        .map(|(i, f)| {
            let (ident, ty) = (&f.ident, &f.ty);
            let example = quote! {
                ::domain::__private::fitted(
                    <#ty as ::domain::Value>::example(n),
                    &<Self as ::domain::Model>::FIELDS[#i].rules,
                )
            };
            if f.default {
                quote! { #ident: ::core::option::Option::Some(#example), }
            } else {
                quote! { #ident: #example, }
            }
        });
    let filters = model.fields.iter().filter(|f| f.filter).map(|f| {
        let (ident, name) = (&f.ident, &f.name);
        quote! { #name => ::domain::Value::key(&self.#ident), }
    });
    let references = model.fields.iter().filter(|f| f.checked).map(|f| {
        let (ident, name) = (&f.ident, &f.name);
        quote! { #name => ::domain::Value::key(&self.#ident), }
    });
    quote! {
        impl ::domain::Model for #ident {
            const NAME: &'static str = #name;
            const FIELDS: &'static [::domain::Field] = &[#(#schema),*];
            type Patch = #patch;
            type New = #new;
            type Change = #change;

            fn from_request(
                body: ::domain::__private::serde_json::Value,
            ) -> ::core::result::Result<Self, ::domain::Invalid> {
                let mut form = ::domain::__private::Form::open(body, Self::FIELDS, true)?;
                #(#create_reads)*
                #[allow(irrefutable_let_patterns)]
                let (#(::core::option::Option::Some(#created),)*) = (#(#created,)*) else {
                    return ::core::result::Result::Err(form.refused());
                };
                form.finish()?;
                ::core::result::Result::Ok(Self { #(#create_fields)* })
            }

            fn patch_from_request(
                body: ::domain::__private::serde_json::Value,
            ) -> ::core::result::Result<#patch, ::domain::Invalid> {
                let mut form = ::domain::__private::Form::open(body, Self::FIELDS, false)?;
                #(#change_reads)*
                #[allow(irrefutable_let_patterns)]
                let (#(::core::option::Option::Some(#changed),)*) = (#(#changed,)*) else {
                    return ::core::result::Result::Err(form.refused());
                };
                form.finish()?;
                ::core::result::Result::Ok(#patch { #(#changed,)* })
            }

            fn patched(&self, patch: #patch) -> Self {
                Self { #(#patched)* }
            }

            fn unique_keys(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                #[allow(unused_mut)]
                let mut keys = ::std::vec::Vec::new();
                #(#unique)*
                keys
            }

            fn example_new(n: u32) -> #new {
                #new { #(#examples)* }
            }

            fn checked_reference(&self, field: &str) -> ::core::option::Option<::std::string::String> {
                match field {
                    #(#references)*
                    _ => ::core::option::Option::None,
                }
            }

            fn filter_value(&self, field: &str) -> ::core::option::Option<::std::string::String> {
                match field {
                    #(#filters)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

fn field_schema(f: &FieldDeclaration) -> TokenStream {
    let (name, ty, unique, filter) = (&f.name, &f.ty, f.unique, f.filter);
    let indexed = f.unique || f.filter || f.index;
    let edit = match f.edit {
        Edit::Free => quote! { ::domain::Edit::Free },
        Edit::Fixed => quote! { ::domain::Edit::Fixed },
        Edit::Derived => quote! { ::domain::Edit::Derived },
    };
    let required = !(f.optional || f.default) && f.edit != Edit::Derived;
    let (initial, checked) = (&f.initial, f.checked);
    let narrowed = f
        .rules
        .iter()
        .map(|(setting, value)| quote! { #setting: #value, });
    quote! {
        ::domain::Field {
            name: #name,
            kind: <#ty as ::domain::Value>::KIND,
            optional: <#ty as ::domain::Value>::OPTIONAL,
            required_on_create: #required,
            unique: #unique,
            filter: #filter,
            indexed: #indexed,
            edit: #edit,
            rules: ::domain::Rules {
                #(#narrowed)*
                ..<#ty as ::domain::Value>::RULES
            },
            initial: &[#(#initial),*],
            checked: #checked,
        }
    }
}

fn patch_ident(model: &Declaration) -> syn::Ident {
    format_ident!("{}Patch", model.ident)
}

fn new_ident(model: &Declaration) -> syn::Ident {
    format_ident!("New{}", model.ident)
}

fn change_ident(model: &Declaration) -> syn::Ident {
    format_ident!("{}Change", model.ident)
}
