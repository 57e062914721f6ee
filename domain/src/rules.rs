//! The constraints a field's input meets, declared once (on a value type, narrowed by a
//! field's attributes) and read twice: by the request parser, which enforces them, and by API
//! schemas, which publish them as JSON Schema keywords.

use serde_json::Value as Json;

use crate::error::{Problem, ValidationError};

/// What a request's value for a field must be, beyond its JSON type.
///
/// Text is trimmed of white space before it is kept; `max_length` counts the characters as
/// sent, so that the published `maxLength` and the check agree, and the published `pattern`
/// allows the white space around the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// The fewest characters of text, once trimmed: 1 for text that must not be blank.
    pub min_length: Option<usize>,
    /// The most characters of text, as sent.
    pub max_length: Option<usize>,
    /// The shape of trimmed text, as a regular expression in the syntax common to
    /// ECMAScript, Python and Rust (character classes, `\uXXXX`, groups, counted repeats; no
    /// `\s`, `\d` or look-around), without anchors. Published inside [`Rules::pattern`].
    pub shape: Option<&'static str>,
    /// A JSON Schema `format` the value meets (`email`, `int64`), for generated clients.
    pub format: Option<&'static str>,
    /// The smallest number.
    pub minimum: Option<f64>,
    /// The largest number.
    pub maximum: Option<f64>,
    /// The fewest items of a list.
    pub min_items: Option<usize>,
    /// The most items of a list.
    pub max_items: Option<usize>,
    /// Whether text may hold line breaks and tabs (a note, an address); single-line text
    /// refuses every control character.
    pub multiline: bool,
}

/// The largest whole number every JSON client reads exactly (2^53 - 1, JavaScript's
/// `Number.MAX_SAFE_INTEGER`): the bound of a whole number with no bound of its own.
pub const SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Characters no caller's text may hold: C0 and C1 controls (and DEL), which terminals and
/// mail systems act on, and bidirectional embeddings, overrides and isolates, which make text
/// read differently from what it holds.
const FORBIDDEN: &str = r"\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069";

/// What Rust's `str::trim` removes (Unicode `White_Space`), as the inside of a regular
/// expression's character class, written out so that every regex dialect reads the same set:
/// what a pattern allows around a value that is trimmed.
pub const WHITE_SPACE: &str =
    r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Line breaks and tabs: what multi-line text may hold inside.
const LINE_BREAKS: &str = r"\u0009\u000a\u000d";

impl Rules {
    /// No constraint: a value type with rules of its own in code.
    pub const NONE: Rules = Rules {
        min_length: None,
        max_length: None,
        shape: None,
        format: None,
        minimum: None,
        maximum: None,
        min_items: None,
        max_items: None,
        multiline: false,
    };

    /// Text that is not blank, of at most `max` characters.
    pub const fn text(max: usize) -> Rules {
        Rules {
            min_length: Some(1),
            max_length: Some(max),
            ..Rules::NONE
        }
    }

    /// A number from `min` to `max`.
    pub const fn range(min: f64, max: f64) -> Rules {
        Rules {
            minimum: Some(min),
            maximum: Some(max),
            ..Rules::NONE
        }
    }

    /// The published `pattern` of text under these rules: white space around, then the
    /// declared shape (or, for text that must not be blank, a character that is not white
    /// space), and no forbidden character anywhere.
    pub fn pattern(&self) -> String {
        let inside = if self.multiline {
            format!("[^{FORBIDDEN}]|[{LINE_BREAKS}]")
        } else {
            format!("[^{FORBIDDEN}]")
        };
        let visible = format!("[^{FORBIDDEN}{WHITE_SPACE}]");
        let core = match (self.shape, self.min_length) {
            (Some(shape), _) => format!("(?:{shape})"),
            (None, Some(min)) if min > 0 => format!("{visible}(?:(?:{inside})*{visible})?"),
            (None, _) => format!("(?:{inside})*"),
        };
        format!("^[{WHITE_SPACE}]*{core}[{WHITE_SPACE}]*$")
    }

    /// `value` brought within these rules where it can be: a number into its bounds, text cut
    /// to its length. What turns a value type's example into a valid example of a field that
    /// narrows the type's rules (a rating of 1 to 5 on an `i64`).
    pub fn fit(&self, value: Json) -> Json {
        match value {
            Json::Number(number) => {
                let n = number.as_f64().unwrap_or_default();
                let fitted = n
                    .max(self.minimum.unwrap_or(f64::MIN))
                    .min(self.maximum.unwrap_or(f64::MAX));
                match number.as_i64() {
                    // Within ±2^53 a whole f64 is exactly an i64.
                    Some(_) if fitted.fract() == 0.0 && fitted.abs() <= SAFE_INTEGER => {
                        Json::from(fitted as i64)
                    }
                    Some(_) => Json::Number(number),
                    None => Json::from(fitted),
                }
            }
            Json::String(text) => match self.max_length {
                Some(max) => Json::String(text.chars().take(max).collect()),
                None => Json::String(text),
            },
            other => other,
        }
    }

    /// Checks a request's JSON value for a field against these rules, before it is read into
    /// the field's type. Values of another JSON type pass: reading them fails with the type's
    /// own message.
    ///
    /// # Errors
    /// The first rule `value` breaks, naming `field`.
    pub fn check(&self, value: &Json, field: &'static str) -> Result<(), ValidationError> {
        match value {
            Json::String(text) => self.check_text(text, field),
            Json::Number(number) => number
                .as_f64()
                .map_or(Ok(()), |n| self.check_number(n, field)),
            Json::Array(items) => self.check_items(items.len(), field),
            _ => Ok(()),
        }
    }

    /// Checks a number against the bounds.
    ///
    /// # Errors
    /// `n` is below the minimum or above the maximum, naming `field` and the bound.
    pub fn check_number(&self, n: f64, field: &'static str) -> Result<(), ValidationError> {
        let problem = match (self.minimum, self.maximum) {
            (Some(min), _) if n < min => Problem::Below { min },
            (_, Some(max)) if n > max => Problem::Above { max },
            _ => return Ok(()),
        };
        Err(ValidationError::new(field, problem))
    }

    /// Checks how many items a list holds.
    ///
    /// # Errors
    /// `count` is outside the declared bounds, naming `field`.
    pub fn check_items(&self, count: usize, field: &'static str) -> Result<(), ValidationError> {
        let problem = match (self.min_items, self.max_items) {
            (Some(1), _) if count == 0 => Problem::Empty,
            (Some(min), _) if count < min => Problem::TooFew { min },
            (_, Some(max)) if count > max => Problem::TooMany { max },
            _ => return Ok(()),
        };
        Err(ValidationError::new(field, problem))
    }

    /// Checks a request's text against these rules (all but the shape, which the value type
    /// checks).
    ///
    /// # Errors
    /// The first rule `text` breaks, naming `field`.
    pub fn check_text(&self, text: &str, field: &'static str) -> Result<(), ValidationError> {
        match self.text_problem(text) {
            None => Ok(()),
            Some(problem) => Err(ValidationError::new(field, problem)),
        }
    }

    fn text_problem(&self, text: &str) -> Option<Problem> {
        let length = text.chars().count();
        if self.max_length.is_some_and(|max| length > max) {
            return Some(Problem::TooLong {
                max: self.max_length.unwrap_or_default(),
            });
        }
        let trimmed = text.trim();
        if trimmed.chars().any(|c| forbidden(c, self.multiline)) {
            return Some(Problem::ControlCharacter);
        }
        match self.min_length {
            Some(min) if min > 0 && trimmed.is_empty() => Some(Problem::Empty),
            Some(min) if trimmed.chars().count() < min => Some(Problem::TooShort { min }),
            _ => None,
        }
    }
}

/// Whether `c` is a character caller's text may not hold (inside its white space).
fn forbidden(c: char, multiline: bool) -> bool {
    let line_break = matches!(c, '\t' | '\n' | '\r');
    let control = c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    control && !(multiline && line_break)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_is_measured_as_sent_and_checked_once_trimmed() {
        let rules = Rules::text(5);
        assert!(rules.check(&json!(" abc "), "f").is_ok());
        let problem = |value| rules.check(&value, "f").unwrap_err().problem().clone();
        assert_eq!(problem(json!("  abcde")), Problem::TooLong { max: 5 });
        assert_eq!(problem(json!(" \t ")), Problem::Empty);
        assert_eq!(problem(json!("a\u{0}b")), Problem::ControlCharacter);
        assert_eq!(problem(json!("a\u{202e}b")), Problem::ControlCharacter);
        assert_eq!(problem(json!("a\nb")), Problem::ControlCharacter);
        let multiline = Rules {
            multiline: true,
            ..rules
        };
        assert!(multiline.check(&json!("a\nb"), "f").is_ok());
        assert!(multiline.check(&json!("a\u{1b}b"), "f").is_err());
    }

    #[test]
    fn numbers_and_lists_name_their_bound() {
        let rating = Rules::range(1.0, 5.0);
        let problem = |value| rating.check(&value, "f").unwrap_err().problem().clone();
        assert_eq!(problem(json!(0)), Problem::Below { min: 1.0 });
        assert_eq!(problem(json!(5.5)), Problem::Above { max: 5.0 });
        assert!(rating.check(&json!(5), "f").is_ok());
        let items = Rules {
            min_items: Some(2),
            max_items: Some(3),
            ..Rules::NONE
        };
        let problem = |value| items.check(&value, "f").unwrap_err().problem().clone();
        assert_eq!(problem(json!([1])), Problem::TooFew { min: 2 });
        assert_eq!(problem(json!([1, 2, 3, 4])), Problem::TooMany { max: 3 });
    }
}
