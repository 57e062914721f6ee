//! What a model's struct declares, read from its fields and `#[model(...)]` attributes.

use heck::ToLowerCamelCase;
use quote::format_ident;
use syn::{Data, DeriveInput, Error, Fields, Ident, LitStr, Type, Visibility};

/// A model struct, as the derive needs it.
pub struct Declaration {
    pub ident: Ident,
    pub vis: Visibility,
    /// The model's name for errors and by-name lookups: the struct's, unless `name = "…"`.
    pub name: String,
    /// `#[model(rules)]`: the struct implements `Entity` by hand.
    pub own_rules: bool,
    pub fields: Vec<FieldDeclaration>,
}

/// One field and what its attributes say.
pub struct FieldDeclaration {
    pub ident: Ident,
    pub ty: Type,
    /// The name in requests and documents: the field's, in camelCase.
    pub name: String,
    pub unique: bool,
    pub filter: bool,
    /// `#[model(index)]`: an index on its own, for queries the model's filters do not cover.
    pub index: bool,
    pub edit: Edit,
    /// `#[model(default)]`: a create request may leave it out; it is then the type's default.
    pub default: bool,
    /// Whether the type is written `Option<…>`: a change may set it to `null`.
    pub optional: bool,
    /// `min`, `max`, `min_length`, … and `multiline`: the rules that narrow the type's.
    pub rules: Vec<(Ident, syn::Expr)>,
    /// `initial = "…"`, once per value a create request may carry.
    pub initial: Vec<LitStr>,
    /// `checked`: the referenced record must exist.
    pub checked: bool,
}

/// The attributes that narrow a value type's rules, and the `Rules` field each sets.
const NUMBER_RULES: [&str; 2] = ["min", "max"];
const COUNT_RULES: [&str; 4] = ["min_length", "max_length", "min_items", "max_items"];

/// Who sets a field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Set on create, changeable by a patch.
    Free,
    /// `#[model(fixed)]`: set on create, never changed.
    Fixed,
    /// `#[model(derived)]`: computed by the model's rules, never in a request.
    Derived,
}

impl Declaration {
    pub fn read(input: &DeriveInput) -> syn::Result<Self> {
        let Data::Struct(data) = &input.data else {
            return Err(Error::new_spanned(input, "a model is a struct"));
        };
        let Fields::Named(named) = &data.fields else {
            return Err(Error::new_spanned(input, "a model has named fields"));
        };
        require_camel_case(input)?;
        let mut declaration = Declaration {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            name: input.ident.to_string(),
            own_rules: false,
            fields: Vec::new(),
        };
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    declaration.name = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("rules") {
                    declaration.own_rules = true;
                } else {
                    return Err(meta.error("expected `name = \"…\"` or `rules`"));
                }
                Ok(())
            })?;
        }
        for field in &named.named {
            declaration.fields.push(FieldDeclaration::read(field)?);
        }
        Ok(declaration)
    }
}

impl FieldDeclaration {
    fn read(field: &syn::Field) -> syn::Result<Self> {
        let ident = field.ident.clone().expect("named fields have names");
        let mut declared = FieldDeclaration {
            name: ident.to_string().to_lower_camel_case(),
            ident,
            ty: field.ty.clone(),
            unique: false,
            filter: false,
            index: false,
            edit: Edit::Free,
            default: false,
            optional: is_option(&field.ty),
            rules: Vec::new(),
            initial: Vec::new(),
            checked: false,
        };
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("model")) {
            attr.parse_nested_meta(|meta| {
                let flag = |path: &str| meta.path.is_ident(path);
                match () {
                    () if flag("unique") => declared.unique = true,
                    () if flag("filter") => declared.filter = true,
                    () if flag("index") => declared.index = true,
                    () if flag("fixed") => declared.edit = Edit::Fixed,
                    () if flag("derived") => declared.edit = Edit::Derived,
                    () if flag("default") => declared.default = true,
                    () if flag("checked") => declared.checked = true,
                    () if flag("multiline") => declared
                        .rules
                        .push((format_ident!("multiline"), syn::parse_quote!(true))),
                    () if flag("initial") => declared.initial.push(meta.value()?.parse()?),
                    () if NUMBER_RULES.iter().any(|name| flag(name)) => {
                        let number: syn::Expr = meta.value()?.parse()?;
                        let value = as_f64(&number)?;
                        let setting = if flag("min") { "minimum" } else { "maximum" };
                        declared.rules.push((
                            format_ident!("{setting}"),
                            syn::parse_quote!(::core::option::Option::Some(#value)),
                        ));
                    }
                    () if COUNT_RULES.iter().any(|name| flag(name)) => {
                        let count: syn::LitInt = meta.value()?.parse()?;
                        let setting = meta.path.get_ident().cloned().expect("a rule's name");
                        declared.rules.push((
                            setting,
                            syn::parse_quote!(::core::option::Option::Some(#count)),
                        ));
                    }
                    () => {
                        return Err(meta.error(
                            "expected `unique`, `filter`, `index`, `fixed`, `derived`, `default`, \
                             `checked`, `multiline`, `initial = \"…\"`, `min`, `max`, \
                             `min_length`, `max_length`, `min_items` or `max_items`",
                        ))
                    }
                }
                Ok(())
            })?;
        }
        Ok(declared)
    }
}

/// A number attribute (`min = -1`, `max = 2.5`) as the `f64` the rules hold.
fn as_f64(number: &syn::Expr) -> syn::Result<f64> {
    match number {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse::<f64>(),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(float),
            ..
        }) => float.base10_parse::<f64>(),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => as_f64(expr).map(|n| -n),
        other => Err(Error::new_spanned(other, "expected a number")),
    }
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(path)
        if path.qself.is_none()
            && path.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// The field names the derive writes are camelCase, as Mongoose's; the struct's serde form
/// must say the same, or the stored document and the schema would disagree.
fn require_camel_case(input: &DeriveInput) -> syn::Result<()> {
    let mut camel = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // Other serde options are serde's business: skip their values.
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                camel |= meta.value()?.parse::<LitStr>()?.value() == "camelCase";
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Lit>()?;
            } else if meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|_| Ok(()))?;
            }
            Ok(())
        })?;
    }
    if camel || single_words(input) {
        Ok(())
    } else {
        Err(Error::new_spanned(
            &input.ident,
            "a model's stored fields are camelCase: add #[serde(rename_all = \"camelCase\")]",
        ))
    }
}

/// A struct whose field names have no `_` is camelCase without saying so.
fn single_words(input: &DeriveInput) -> bool {
    match &input.data {
        Data::Struct(data) => data.fields.iter().all(|field| {
            field
                .ident
                .as_ref()
                .is_some_and(|ident| !ident.to_string().contains('_'))
        }),
        _ => false,
    }
}
