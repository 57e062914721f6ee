//! Validated text values shared by several entities, and the macro that defines them.

use crate::error::{Problem, ValidationError};

/// Declares a value type of trimmed, non-empty text of bounded length, with an optional shape
/// check: a [`Value`](crate::Value) a model's field can have.
///
/// `parse` is the way in for a request's text. The serde form reads stored text as it is, so
/// that a value an older rule accepted still reads.
///
/// ```
/// domain::bounded_text!(
///     /// A purchase-order reference.
///     PoReference, field = "poReference", max = 20, check = upper_case,
///     example = "PO-{}"
/// );
///
/// fn upper_case(text: String) -> Result<String, domain::Problem> {
///     Ok(text.to_uppercase())
/// }
///
/// assert_eq!(PoReference::parse(" po-7 ")?.as_str(), "PO-7");
/// assert!(PoReference::parse("").is_err());
/// # Ok::<(), domain::ValidationError>(())
/// ```
#[macro_export]
macro_rules! bounded_text {
    (
        $(#[$doc:meta])* $name:ident, field = $field:literal, max = $max:literal
        $(, check = $check:path)?, example = $example:literal $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive($crate::__private::serde::Serialize, $crate::__private::serde::Deserialize)]
        #[serde(crate = "::domain::__private::serde", transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims `raw` and checks it.
            ///
            /// # Errors
            /// A [`ValidationError`]($crate::ValidationError) naming the field when the text is
            /// empty, too long or malformed.
            pub fn parse(raw: impl AsRef<str>) -> Result<Self, $crate::ValidationError> {
                let text = $crate::__private::bounded(raw.as_ref(), $field, $max)?;
                $( let text = $check(text).map_err(|p| $crate::ValidationError::new($field, p))?; )?
                Ok(Self(text))
            }

            /// The text: trimmed and checked when parsed from a request, as it is when read from
            /// storage.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl $crate::Value for $name {
            type Input = String;
            const KIND: $crate::Kind = $crate::Kind::Text;

            fn parse(input: String, field: &'static str) -> Result<Self, $crate::ValidationError> {
                Self::parse(input).map_err(|e| $crate::ValidationError::new(field, e.problem().clone()))
            }

            fn example(n: u32) -> String {
                format!($example, n)
            }

            fn key(&self) -> Option<String> {
                Some(self.0.clone())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Declares an enumeration stored and sent by name: a [`Value`](crate::Value) a model's
/// field can have, and a filter can select. The first variant is the default.
///
/// ```
/// domain::enumeration!(
///     /// Where an invoice stands.
///     pub enum InvoiceStatus {
///         /// Being written.
///         Draft = "draft",
///         /// Settled.
///         Paid = "paid",
///     }
/// );
///
/// assert_eq!(InvoiceStatus::default(), InvoiceStatus::Draft);
/// assert_eq!("paid".parse::<InvoiceStatus>(), Ok(InvoiceStatus::Paid));
/// assert!("sent".parse::<InvoiceStatus>().is_err());
/// ```
#[macro_export]
macro_rules! enumeration {
    (
        $(#[$doc:meta])*
        $vis:vis enum $name:ident {
            $(#[$first_doc:meta])* $first:ident = $first_name:literal
            $(, $(#[$variant_doc:meta])* $variant:ident = $variant_name:literal)* $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[derive($crate::__private::serde::Serialize, $crate::__private::serde::Deserialize)]
        #[serde(crate = "::domain::__private::serde")]
        $vis enum $name {
            $(#[$first_doc])* #[default] #[serde(rename = $first_name)] $first,
            $( $(#[$variant_doc])* #[serde(rename = $variant_name)] $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$name::$first $(, $name::$variant)*];

            /// Every name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$first_name $(, $variant_name)*];

            /// What is accepted, for error messages.
            const EXPECTED: &'static str = concat!("one of ", $first_name $(, ", ", $variant_name)*);

            /// The name used by the API and the storage.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $name::$first => $first_name,
                    $( $name::$variant => $variant_name, )*
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Problem;

            fn from_str(text: &str) -> Result<Self, $crate::Problem> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or($crate::Problem::Malformed(Self::EXPECTED))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::Value for $name {
            type Input = String;
            const KIND: $crate::Kind = $crate::Kind::Choice(Self::NAMES);

            fn parse(input: String, field: &'static str) -> Result<Self, $crate::ValidationError> {
                input.parse().map_err(|problem| $crate::ValidationError::new(field, problem))
            }

            /// The first name, the default.
            fn example(_n: u32) -> String {
                $first_name.to_owned()
            }

            fn key(&self) -> Option<String> {
                Some(self.as_str().to_owned())
            }
        }
    };
}

/// Trims `raw` and checks that it is neither empty nor longer than `max` characters.
pub fn bounded(raw: &str, field: &'static str, max: usize) -> Result<String, ValidationError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, Problem::Empty));
    }
    if text.chars().count() > max {
        return Err(ValidationError::new(field, Problem::TooLong { max }));
    }
    Ok(text.to_owned())
}

crate::bounded_text!(
    /// A person's full name, as shown in the back office.
    FullName, field = "fullName", max = 100, example = "Ada Lovelace {}"
);

crate::bounded_text!(
    /// An e-mail address: one `@` between a local part and a dotted domain, no white space.
    /// Stored lower-cased, since mail systems treat addresses case-insensitively in practice.
    Email, field = "email", max = 254, check = email_shape,
    example = "buyer{}@example.com"
);

crate::bounded_text!(
    /// A login name: 3 to 50 of `a-z`, `0-9`, `.`, `_`, `-`. Lower-cased, so that `Alice` and
    /// `alice` are the same account for the unique key.
    Username, field = "username", max = 50, check = username_shape,
    example = "user{}"
);

fn email_shape(text: String) -> Result<String, Problem> {
    const EXPECTED: &str = "an e-mail address such as name@example.com";
    let (local, domain) = text.split_once('@').ok_or(Problem::Malformed(EXPECTED))?;
    let well_formed = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace);
    if well_formed {
        Ok(text.to_lowercase())
    } else {
        Err(Problem::Malformed(EXPECTED))
    }
}

fn username_shape(text: String) -> Result<String, Problem> {
    let text = text.to_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if text.chars().count() >= 3 && text.chars().all(allowed) {
        Ok(text)
    } else {
        Err(Problem::Malformed("3 to 50 of a-z, 0-9, '.', '_' or '-'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_blank_text_is_rejected_naming_the_field() {
        assert_eq!(
            FullName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        let err = FullName::parse(" \t ").unwrap_err();
        assert_eq!((err.field(), err.problem()), ("fullName", &Problem::Empty));
    }

    #[test]
    fn text_longer_than_the_maximum_is_rejected_counting_characters_not_bytes() {
        assert!(FullName::parse("é".repeat(100)).is_ok());
        let err = FullName::parse("é".repeat(101)).unwrap_err();
        assert_eq!(err.problem(), &Problem::TooLong { max: 100 });
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "plain",
            "@example.com",
            "a@b",
            "a@.com",
            "a@com.",
            "a b@example.com",
            "a@b@c.com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field(), "email", "{bad}");
        }
        assert_eq!(
            Email::parse("Ada@Example.COM").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn usernames_are_lower_cased_and_limited_to_a_safe_alphabet() {
        assert_eq!(
            Username::parse("Root.Admin").unwrap().as_str(),
            "root.admin"
        );
        for bad in ["ab", "with space", "dollar$", "{\"$gt\":\"\"}"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }
}
