//! What a list asks a repository for: which records, from where, how many, and whether to
//! count them all.

use std::fmt;
use std::marker::PhantomData;

use domain::{Entity, Field, Id, Kind, Problem, Record, ValidationError, WHITE_SPACE};

use crate::page::Page;

/// A list request: the records that meet every condition of a [`Filter`], in ascending id
/// (creation) order, after a cursor and/or skipping some, a page of them, and optionally how
/// many match in all.
///
/// ```
/// use domain::{Order, OrderStatus};
/// use ports::{Filter, ListQuery, Page};
///
/// let pending = Filter::<Order>::all().with("status", "pending,in_production")?;
/// let query = ListQuery::new(Page::first()).filtered(pending).counted();
/// assert_eq!(query.filter().conditions()[0].values(), ["pending", "in_production"]);
/// assert!(Filter::<Order>::all().with("total", "3").is_err()); // not declared filterable
/// # Ok::<(), ports::FilterError>(())
/// ```
pub struct ListQuery<T> {
    filter: Filter<T>,
    after: Option<Id<T>>,
    page: Page,
    count: bool,
}

impl<T> ListQuery<T> {
    /// Every record, one `page` of them, not counted.
    pub fn new(page: Page) -> Self {
        Self {
            filter: Filter::all(),
            after: None,
            page,
            count: false,
        }
    }

    /// Only the records `filter` selects.
    pub fn filtered(self, filter: Filter<T>) -> Self {
        Self { filter, ..self }
    }

    /// Only records after `id` in id order: the cursor a previous page ended with
    /// ([`Listing::next_after`]), which costs the database no scan of what came before.
    pub fn after(self, id: Id<T>) -> Self {
        Self {
            after: Some(id),
            ..self
        }
    }

    /// Also count every record the filter selects ([`Listing::total`]).
    pub fn counted(self) -> Self {
        Self {
            count: true,
            ..self
        }
    }

    /// The conditions.
    pub fn filter(&self) -> &Filter<T> {
        &self.filter
    }

    /// The cursor, if any.
    pub fn cursor(&self) -> Option<Id<T>> {
        self.after
    }

    /// The page: how many to skip after the cursor, and how many at most.
    pub fn page(&self) -> Page {
        self.page
    }

    /// Whether the total is asked for.
    pub fn wants_total(&self) -> bool {
        self.count
    }
}

impl<T> Clone for ListQuery<T> {
    fn clone(&self) -> Self {
        Self {
            filter: self.filter.clone(),
            ..*self
        }
    }
}

impl<T> fmt::Debug for ListQuery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListQuery")
            .field("filter", &self.filter)
            .field("after", &self.after)
            .field("page", &self.page)
            .field("count", &self.count)
            .finish()
    }
}

impl<T> PartialEq for ListQuery<T> {
    fn eq(&self, other: &Self) -> bool {
        self.filter == other.filter
            && self.after == other.after
            && self.page == other.page
            && self.count == other.count
    }
}

/// What a list returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The page of records, in id order.
    pub records: Vec<Record<T>>,
    /// The cursor of the next page ([`ListQuery::after`]): the last record's id, present only
    /// when more records follow.
    pub next_after: Option<Id<T>>,
    /// How many records the filter selects in all, when [`ListQuery::counted`].
    pub total: Option<u64>,
    /// How many stored records of the page could not be read as the model at all (a field of
    /// another type) and were left out: one bad document never costs the whole page. The
    /// backend logs each with its id.
    pub unreadable: u64,
}

/// Conditions on a model's declared `filter` fields, all of which a record must meet. Built
/// only from the model's declaration and parsed values, so no caller text reaches a query as a
/// document.
pub struct Filter<T> {
    conditions: Vec<Condition>,
    model: PhantomData<fn() -> T>,
}

/// One condition: the field's value is one of `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    field: &'static Field,
    values: Vec<String>,
}

impl Condition {
    /// The declared field.
    pub fn field(&self) -> &'static Field {
        self.field
    }

    /// The accepted values, as [`Model::filter_value`](domain::Model::filter_value) gives
    /// them: an id's lower-case hex text, an enumeration's name.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether `record` meets the condition.
    pub fn admits<T: Entity>(&self, record: &Record<T>) -> bool {
        record
            .entity()
            .filter_value(self.field.name)
            .is_some_and(|value| self.values.contains(&value))
    }
}

impl<T> Filter<T> {
    /// No condition: every record.
    pub fn all() -> Self {
        Self {
            conditions: Vec::new(),
            model: PhantomData,
        }
    }

    /// The conditions, in the order given.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Whether `record` meets every condition.
    pub fn admits(&self, record: &Record<T>) -> bool
    where
        T: Entity,
    {
        self.conditions.iter().all(|c| c.admits(record))
    }
}

impl<T: Entity> Filter<T> {
    /// The filter with one more condition: `field` is one of the comma-separated `values`,
    /// each parsed as the field's declared kind.
    ///
    /// # Errors
    /// [`FilterError::Unknown`] when the model declares no filter field of that name;
    /// [`FilterError::Invalid`] naming the field when a value does not parse.
    pub fn with(mut self, field: &str, values: &str) -> Result<Self, FilterError> {
        let declared = T::FIELDS
            .iter()
            .find(|f| f.filter && f.name == field)
            .ok_or_else(|| FilterError::Unknown {
                field: field.chars().take(64).collect(),
                filterable: T::FIELDS
                    .iter()
                    .filter(|f| f.filter)
                    .map(|f| f.name)
                    .collect(),
            })?;
        let values = values
            .split(',')
            .map(|value| parse(declared, value.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        self.conditions.push(Condition {
            field: declared,
            values,
        });
        Ok(self)
    }
}

/// What a filter on `field` accepts, as a regular expression: one or more values separated by
/// commas, each trimmed, each what [`Filter::with`] reads for the field's kind. What an API
/// document publishes for the filter's query parameter.
pub fn filter_pattern(field: &Field) -> Option<String> {
    let value = match field.kind {
        Kind::Reference(_) => "[0-9a-fA-F]{24}".to_owned(),
        Kind::Choice(names) => names.join("|"),
        Kind::Integer => "[+-]?[0-9]{1,18}".to_owned(),
        Kind::Text | Kind::Number | Kind::Records(_) => return None,
    };
    let one = format!("[{WHITE_SPACE}]*(?:{value})[{WHITE_SPACE}]*");
    Some(format!("^{one}(?:,{one})*$"))
}

/// `text` as the canonical value of `field`: the hex of an id, the name of a choice.
fn parse(field: &'static Field, text: &str) -> Result<String, ValidationError> {
    let malformed = |expected| ValidationError::new(field.name, Problem::Malformed(expected));
    match field.kind {
        Kind::Reference(_) => Id::<()>::parse(text)
            .map(|id| id.to_string())
            .map_err(|_| malformed("an id of 24 hexadecimal characters")),
        Kind::Choice(names) => names
            .iter()
            .find(|name| **name == text)
            .map(|name| (*name).to_owned())
            .ok_or_else(|| malformed("one of the declared names")),
        Kind::Text => Ok(text.to_owned()),
        Kind::Integer => text
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| malformed("a whole number")),
        Kind::Number | Kind::Records(_) => Err(ValidationError::new(
            field.name,
            Problem::NotAllowed("cannot be filtered on"),
        )),
    }
}

impl<T> Clone for Filter<T> {
    fn clone(&self) -> Self {
        Self {
            conditions: self.conditions.clone(),
            model: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Filter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.conditions).finish()
    }
}

impl<T> PartialEq for Filter<T> {
    fn eq(&self, other: &Self) -> bool {
        self.conditions == other.conditions
    }
}

/// Why a filter was refused: always the caller's mistake.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// The model declares no filter field of this name.
    #[error("{field} is not a filter; the filters are: {}", filterable.join(", "))]
    Unknown {
        /// The name asked for (at most 64 characters of it).
        field: String,
        /// The model's filter fields.
        filterable: Vec<&'static str>,
    },
    /// A value that does not parse as the field's kind.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

#[cfg(test)]
mod tests {
    use domain::{Admin, Customer, Order};

    use super::*;

    #[test]
    fn an_unknown_filter_is_an_error_listing_the_models_filters() {
        let err = Filter::<Order>::all().with("total", "1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "total is not a filter; the filters are: branchId, customerId, status"
        );
    }

    #[test]
    fn values_are_parsed_as_the_fields_kind_and_errors_name_the_field() {
        let id = "65F0A1B2C3D4E5F6A7B8C9D0";
        let filter = Filter::<Customer>::all().with("branchId", id).unwrap();
        assert_eq!(filter.conditions()[0].values(), [id.to_lowercase()]);
        for (field, bad) in [("branchId", "{\"$gt\":\"\"}"), ("status", "shipped")] {
            let err = Filter::<Order>::all().with(field, bad).unwrap_err();
            let FilterError::Invalid(invalid) = err else {
                panic!("{err:?}");
            };
            assert_eq!(invalid.field(), field);
        }
    }

    #[test]
    fn a_condition_admits_a_record_whose_value_is_one_of_its_values() {
        let admin = admin_without_branch();
        let record = Record::new(admin);
        let all = Filter::<Admin>::all();
        assert!(all.admits(&record));
        let limited = all.with("branchId", "65f0a1b2c3d4e5f6a7b8c9d0").unwrap();
        assert!(!limited.admits(&record), "an admin without a branch");
    }

    fn admin_without_branch() -> Admin {
        Admin::new(
            domain::Username::parse("ada").unwrap(),
            domain::FullName::parse("Ada").unwrap(),
            domain::Email::parse("ada@example.com").unwrap(),
            None,
        )
    }
}
