//! The query string of a list, parsed strictly: `limit`, `skip`, `after`, `count`, and the
//! model's declared filter fields; anything else, or a name given twice, is a `400` naming it.

use std::collections::BTreeSet;

use domain::{Entity, Id};
use ports::{Filter, ListQuery, Page};

use crate::http::error::ApiError;

/// The most records a list may skip: deeper pages cost the database a scan of every skipped
/// record, and `after` reaches them for free.
pub const MAX_SKIP: u64 = 10_000;

/// The cursor of the page after the one whose last record is `id`. Opaque to clients: today
/// the id's hex with a version prefix, so that another sort order can come later.
pub(super) fn cursor<T>(id: Id<T>) -> String {
    format!("{CURSOR_PREFIX}{id}")
}

const CURSOR_PREFIX: &str = "v1.";

/// What `after` accepts, as the API document publishes it.
pub(super) const CURSOR_PATTERN: &str = r"^v1\.[0-9a-fA-F]{24}$";

/// The list request `pairs` (a query string's name and value pairs) asks for.
pub(super) fn list_query<R: Entity>(pairs: &[(String, String)]) -> Result<ListQuery<R>, ApiError> {
    let mut seen = BTreeSet::new();
    let (mut limit, mut skip, mut after, mut count) = (None, None, None, false);
    let mut filter = Filter::all();
    for (name, value) in pairs {
        if !seen.insert(name.as_str()) {
            return Err(bad(name, "is given more than once"));
        }
        match name.as_str() {
            "limit" => limit = Some(whole_number(name, value)?),
            "skip" => skip = Some(skip_of(value)?),
            "after" => after = Some(parse_cursor(value)?),
            "count" => count = boolean(name, value)?,
            field => {
                let refused = |err: ports::FilterError| ApiError::BadRequest(err.to_string());
                filter = filter.with(field, value).map_err(refused)?;
            }
        }
    }
    let mut query = ListQuery::new(Page::new(limit, skip)?).filtered(filter);
    if let Some(after) = after {
        query = query.after(after);
    }
    Ok(if count { query.counted() } else { query })
}

fn bad(name: &str, problem: &str) -> ApiError {
    let name: String = name.chars().take(64).collect();
    ApiError::BadRequest(format!("{name}: {problem}"))
}

fn whole_number(name: &str, value: &str) -> Result<u64, ApiError> {
    value.parse().map_err(|_| {
        bad(
            name,
            "must be a whole number from 0 to 18446744073709551615",
        )
    })
}

fn skip_of(value: &str) -> Result<u64, ApiError> {
    let skip = whole_number("skip", value)?;
    if skip > MAX_SKIP {
        let problem = format!("must be at most {MAX_SKIP}; page further with `after`");
        return Err(bad("skip", &problem));
    }
    Ok(skip)
}

fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, "must be true or false")),
    }
}

fn parse_cursor<T>(value: &str) -> Result<Id<T>, ApiError> {
    value
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|id| Id::parse(id).ok())
        .ok_or_else(|| bad("after", "is not a cursor this service gave"))
}

#[cfg(test)]
mod tests {
    use domain::{Machine, Order};

    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap()
    }

    fn refusal<R: Entity>(query: &str) -> String {
        match list_query::<R>(&pairs(query)) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn filters_cursor_count_and_page_are_read_together() {
        let id = Id::<Order>::generate();
        let text = format!(
            "status=pending,in_production&after={}&limit=5&count=true",
            cursor(id)
        );
        let query = list_query::<Order>(&pairs(&text)).unwrap();
        assert_eq!(
            query.filter().conditions()[0].values(),
            ["pending", "in_production"]
        );
        assert_eq!((query.cursor(), query.page().limit()), (Some(id), 5));
        assert!(query.wants_total());
    }

    #[test]
    fn each_mistake_is_a_400_naming_its_parameter() {
        for (query, named) in [
            ("limit=1&limit=2", "limit"),
            ("skip=10001", "skip"),
            ("skip=-1", "skip"),
            ("limit=1.0", "limit"),
            ("after=65f0a1b2c3d4e5f6a7b8c9d0", "after"),
            ("count=yes", "count"),
            ("status=shipped", "status"),
            ("total=3", "total"),
            ("$where=1", "$where"),
        ] {
            let message = refusal::<Order>(query);
            assert!(message.starts_with(named), "{query}: {message}");
        }
        assert!(refusal::<Machine>("color=red").contains("branchId, status"));
    }
}
