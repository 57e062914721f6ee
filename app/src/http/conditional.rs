//! Conditional requests on one record (RFC 9110 §8.8.3, §13): the record's entity tag and
//! the `If-Match` / `If-None-Match` preconditions that compare against it.
//!
//! The tag is derived from exactly what a versioned save is guarded by: the record's version
//! (`__v`) and its `updatedAt` in milliseconds, `"<version>-<updatedAt millis>"`. A write by
//! a Mongoose handler that moves only `updatedAt` therefore changes the tag too, and a tag a
//! client holds identifies the one stored state a guarded save or delete would accept.

use axum::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use domain::{Entity, Record};

/// The strong entity tag of `record`, quoted: `"<version>-<updatedAt millis>"`.
pub(crate) fn etag<T: Entity>(record: &Record<T>) -> String {
    format!("\"{}\"", opaque(record))
}

/// The `ETag` header of `record`, for every response that carries it.
pub(crate) fn etag_header<T: Entity>(record: &Record<T>) -> (HeaderName, HeaderValue) {
    // Digits, a hyphen and quotes only: always a valid header value.
    let value = HeaderValue::from_str(&etag(record)).expect("an entity tag is visible ASCII");
    (ETAG, value)
}

/// The tag without its quotes: what comparisons look at.
fn opaque<T: Entity>(record: &Record<T>) -> String {
    format!(
        "{}-{}",
        record.version().number(),
        record.updated_at().millis()
    )
}

/// One precondition header as the client sent it: `*`, or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// `*`: any current representation.
    Any,
    /// A list of tags (possibly empty when none of the values parsed, which then matches
    /// nothing).
    Tags(Vec<EntityTag>),
}

/// An entity tag of a precondition list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntityTag {
    weak: bool,
    opaque: String,
}

impl Precondition {
    /// `If-Match`, if the request has one.
    pub(crate) fn if_match(headers: &HeaderMap) -> Option<Self> {
        Self::from_headers(headers, &IF_MATCH)
    }

    /// `If-None-Match`, if the request has one.
    pub(crate) fn if_none_match(headers: &HeaderMap) -> Option<Self> {
        Self::from_headers(headers, &IF_NONE_MATCH)
    }

    /// Every line of the field, joined as one list (a field may be repeated). A value that is
    /// not valid text or not a list of entity tags contributes no tag: it can match nothing.
    fn from_headers(headers: &HeaderMap, name: &HeaderName) -> Option<Self> {
        let mut values = headers.get_all(name).iter().peekable();
        values.peek()?;
        let mut tags = Vec::new();
        for value in values {
            let Ok(text) = value.to_str() else {
                continue;
            };
            if text.trim() == "*" {
                return Some(Precondition::Any);
            }
            tags.extend(parse_list(text));
        }
        Some(Precondition::Tags(tags))
    }

    /// `If-Match` semantics: the strong comparison, where a weak tag never matches.
    pub(crate) fn matches_strongly<T: Entity>(&self, record: &Record<T>) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Tags(tags) => {
                let current = opaque(record);
                tags.iter().any(|tag| !tag.weak && tag.opaque == current)
            }
        }
    }

    /// `If-None-Match` semantics: the weak comparison, where only the opaque part counts.
    pub(crate) fn matches_weakly<T: Entity>(&self, record: &Record<T>) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Tags(tags) => {
                let current = opaque(record);
                tags.iter().any(|tag| tag.opaque == current)
            }
        }
    }

    /// Whether this is `*`, which asks only that the record exists and so names no state a
    /// concurrent save could have moved away from.
    pub(crate) fn is_any(&self) -> bool {
        matches!(self, Precondition::Any)
    }
}

/// The entity tags of `#entity-tag` (`W/"a", "b"`); stops at the first thing that is not one,
/// keeping those before it.
fn parse_list(text: &str) -> Vec<EntityTag> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return tags;
        }
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let Some(quoted) = after.strip_prefix('"') else {
            return tags;
        };
        let Some(end) = quoted.find('"') else {
            return tags;
        };
        tags.push(EntityTag {
            weak,
            opaque: quoted[..end].to_owned(),
        });
        rest = &quoted[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Branch, Timestamp, Version};

    fn record(version: u32, millis: i64) -> Record<Branch> {
        let example = Branch::example(1).expect("valid example");
        let at = Timestamp::from_millis(millis).expect("representable");
        let created = Record::new(example);
        Record::restore(
            created.id(),
            created.into_entity(),
            at,
            at,
            Version::new(version),
        )
    }

    fn headers(name: HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_tag_is_the_version_and_the_update_time_quoted() {
        assert_eq!(etag(&record(3, 1_700_000_000_123)), "\"3-1700000000123\"");
    }

    #[test]
    fn a_move_of_updated_at_alone_changes_the_tag() {
        assert_ne!(etag(&record(3, 1000)), etag(&record(3, 1001)));
    }

    #[test]
    fn if_match_compares_strongly_across_lists_and_repeated_fields() {
        let current = record(2, 5000);
        let matching = headers(IF_MATCH, &["\"1-4000\", \"2-5000\""]);
        assert!(Precondition::if_match(&matching)
            .unwrap()
            .matches_strongly(&current));
        let repeated = headers(IF_MATCH, &["\"1-4000\"", "\"2-5000\""]);
        assert!(Precondition::if_match(&repeated)
            .unwrap()
            .matches_strongly(&current));
        let weak = headers(IF_MATCH, &["W/\"2-5000\""]);
        assert!(!Precondition::if_match(&weak)
            .unwrap()
            .matches_strongly(&current));
        let other = headers(IF_MATCH, &["\"2-5001\""]);
        assert!(!Precondition::if_match(&other)
            .unwrap()
            .matches_strongly(&current));
        let garbage = headers(IF_MATCH, &["2-5000"]);
        assert!(!Precondition::if_match(&garbage)
            .unwrap()
            .matches_strongly(&current));
        let any = headers(IF_MATCH, &["*"]);
        assert!(Precondition::if_match(&any).unwrap().is_any());
        assert!(Precondition::if_match(&HeaderMap::new()).is_none());
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let current = record(0, 7);
        let weak = headers(IF_NONE_MATCH, &["W/\"0-7\""]);
        assert!(Precondition::if_none_match(&weak)
            .unwrap()
            .matches_weakly(&current));
        let any = headers(IF_NONE_MATCH, &["*"]);
        assert!(Precondition::if_none_match(&any)
            .unwrap()
            .matches_weakly(&current));
        let other = headers(IF_NONE_MATCH, &["\"0-8\", \"1-7\""]);
        assert!(!Precondition::if_none_match(&other)
            .unwrap()
            .matches_weakly(&current));
    }
}
