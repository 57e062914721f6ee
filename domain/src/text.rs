//! Validated text values shared by several entities, and the macro that defines them.

use crate::error::Problem;

/// Declares a value type of trimmed, non-empty text of bounded length, with an optional
/// declared shape and an optional check: a [`Value`](crate::Value) a model's field can have.
///
/// - `max`: the most characters, as sent;
/// - `shape = "…", expected = "…"`: a regular expression the trimmed text matches, in the
///   syntax common to ECMAScript, Python and Rust (see [`Rules::shape`](crate::Rules)), and
///   what it means in words, for the error. It is enforced here and published as the schema's
///   `pattern`, so the two cannot disagree;
/// - `check = path`: a function run after the shape, to normalise (lower-case) or to check
///   what no pattern says; a check is not published, so prefer a shape.
///
/// Every such text refuses control characters and bidirectional overrides.
///
/// `parse` is the way in for a request's text. The serde form reads stored text as it is, so
/// that a value an older rule accepted still reads.
///
/// ```
/// domain::bounded_text!(
///     /// A purchase-order reference.
///     PoReference, field = "poReference", max = 20,
///     shape = "[A-Za-z]{2}-[0-9]+", expected = "two letters, '-' and digits",
///     check = upper_case, example = "PO-{}"
/// );
///
/// fn upper_case(text: String) -> Result<String, domain::Problem> {
///     Ok(text.to_uppercase())
/// }
///
/// assert_eq!(PoReference::parse(" po-7 ")?.as_str(), "PO-7");
/// assert!(PoReference::parse("").is_err());
/// assert!(PoReference::parse("P0-7").is_err());
/// # Ok::<(), domain::ValidationError>(())
/// ```
#[macro_export]
macro_rules! bounded_text {
    (
        $(#[$doc:meta])* $name:ident, field = $field:literal, max = $max:literal
        $(, shape = $shape:literal, expected = $expected:literal)?
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

            /// What a request's text must be: published in API schemas, enforced by `parse`.
            pub const RULES: $crate::Rules = $crate::Rules {
                shape: $crate::bounded_text!(@shape $($shape)?),
                ..$crate::Rules::text($max)
            };

            /// Checks `raw` against [`Self::RULES`], trims it, and checks its shape.
            ///
            /// # Errors
            /// A [`ValidationError`]($crate::ValidationError) naming the field when the text is
            /// empty, too long, holds a control character or is malformed.
            pub fn parse(raw: impl AsRef<str>) -> Result<Self, $crate::ValidationError> {
                Self::RULES.check_text(raw.as_ref(), $field)?;
                Self::shaped(raw.as_ref(), $field)
            }

            /// The trimmed text, once the field's rules hold: its shape and check.
            fn shaped(raw: &str, field: &'static str) -> Result<Self, $crate::ValidationError> {
                let text = $crate::__private::trimmed(raw);
                let _ = field; // named only by a shape or a check
                $(
                    static SHAPE: std::sync::LazyLock<$crate::__private::Regex> =
                        std::sync::LazyLock::new(|| {
                            $crate::__private::Regex::new(concat!("^(?:", $shape, ")$"))
                                .expect("a declared shape is a valid regular expression")
                        });
                    if !SHAPE.is_match(&text) {
                        return Err($crate::ValidationError::new(
                            field,
                            $crate::Problem::Malformed($expected),
                        ));
                    }
                )?
                $( let text = $check(text).map_err(|p| $crate::ValidationError::new(field, p))?; )?
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
            const RULES: $crate::Rules = $name::RULES;

            fn parse(input: String, field: &'static str) -> Result<Self, $crate::ValidationError> {
                Self::shaped(&input, field)
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
    (@shape) => { None };
    (@shape $shape:literal) => { Some($shape) };
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

/// `raw` without the white space around it, as kept.
pub fn trimmed(raw: &str) -> String {
    raw.trim().to_owned()
}

crate::bounded_text!(
    /// A person's full name, as shown in the back office.
    FullName, field = "fullName", max = 100, example = "Ada Lovelace {}"
);

crate::bounded_text!(
    /// An e-mail address: one `@` between a local part and a dotted domain, no white space.
    /// Stored lower-cased, since mail systems treat addresses case-insensitively in practice.
    Email, field = "email", max = 254,
    shape = r"[^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000]+@[^@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000][^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000]*\.[^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000]*[^@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000]",
    expected = "an e-mail address such as name@example.com",
    check = lower_case, example = "buyer{}@example.com"
);

crate::bounded_text!(
    /// A login name: 3 to 50 of `a-z`, `0-9`, `.`, `_`, `-`. Lower-cased, so that `Alice` and
    /// `alice` are the same account for the unique key.
    Username, field = "username", max = 50,
    shape = "[A-Za-z0-9._-]{3,50}", expected = "3 to 50 of a-z, 0-9, '.', '_' or '-'",
    check = lower_case, example = "user{}"
);

/// Lower-cases a value compared case-insensitively, so the unique key sees one spelling.
fn lower_case(text: String) -> Result<String, Problem> {
    Ok(text.to_lowercase())
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
